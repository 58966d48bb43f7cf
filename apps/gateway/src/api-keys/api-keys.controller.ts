import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiKeyCreatedDto,
  ApiKeyCreate,
  PageQuery,
  type ApiKeyCreateDto,
  type PageQueryDto,
  ApiKeyResponseDto,
  ApiErrorResponse,
  ApiListResponse,
  type ListResult,
} from '@wa/contracts';
import { ValidBody, ValidQuery } from '../http/request-schema';
import { ApiKeysService } from './api-keys.service';

const ID_PARAM = { name: 'id', description: 'The key id (a ULID).', example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' };
const NOT_FOUND = ApiErrorResponse(404, ['not_found'], '`not_found`: no such key in your organization.');

@ApiTags('api-keys')
@RequireCapability('manage')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly service: ApiKeysService) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key',
    description:
      'Returns the key once in `token`; it is stored hashed and cannot be shown again. A key never carries a capability its creator lacks (403 `forbidden`).',
  })
  @ApiCreatedResponse({ type: ApiKeyCreatedDto, description: 'The key, with its token (shown only here).' })
  createApiKey(@CurrentPrincipal() principal: Principal, @ValidBody(ApiKeyCreate) body: ApiKeyCreateDto): Promise<ApiKeyCreatedDto> {
    return this.service.create(principal, body);
  }

  @Get()
  @ApiOperation({ summary: "List your organization's API keys", description: 'Oldest first, in cursor pages. Never includes a secret.' })
  @ApiListResponse(ApiKeyResponseDto, 'A page of keys.')
  listApiKeys(@CurrentPrincipal() principal: Principal, @ValidQuery(PageQuery) query: PageQueryDto): Promise<ListResult<ApiKeyResponseDto>> {
    return this.service.list(principal.orgId, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an API key', description: 'Its name, capabilities, creator, expiry and revocation; never the secret.' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: ApiKeyResponseDto, description: 'The key.' })
  @NOT_FOUND
  getApiKey(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ApiKeyResponseDto> {
    return this.service.get(principal.orgId, id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Effective at once on the gateway that answers; with several gateways (NATS) the others are told before the answer and refuse the key within 1 s (within 5 s, their key cache, while NATS is unreachable). Revoking a revoked key is a no-op.',
  })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Revoked.' })
  @NOT_FOUND
  async revokeApiKey(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.service.revoke(principal.orgId, id);
  }
}
