import { Injectable, Optional } from '@nestjs/common';
import { ApiKeyAuthenticator, generateApiKey, hasCapability, type Principal } from '@wa/auth';
import type { ApiKeyCreatedDto, ApiKeyCreateDto, PageQueryDto, ApiKeyResponseDto, ListResult } from '@wa/contracts';
import { AppError, isId, type Capability } from '@wa/domain';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyRevocations } from './api-key-revocations';
import { ApiKeysRepository } from './api-keys.repository';

const DEFAULT_PAGE_SIZE = 50;

export interface ApiKeyIssue {
  name: string;
  capabilities: Capability[];
  expiresAt: number | null;
  /** `user:<sub>`, `api_key:<id>`, `cli` or `bootstrap`. */
  createdBy: string;
  /** Only the bootstrap key has a fixed id; every other key gets a fresh ULID. */
  id?: string;
}

/**
 * One answer for "no such key" whatever the reason (unknown id, malformed id, another org's
 * key), so that a caller cannot tell another organization's keys from keys that never existed.
 */
function keyNotFound(): AppError {
  return new AppError('not_found', 'API key not found');
}

/** Opaque to clients (base64url of the page's last id) so that the ordering key can change later. */
function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isId(id)) throw new AppError('validation_error', 'cursor is not one this API returned', { fields: [{ field: 'cursor', problems: ['invalid cursor'] }] });
  return id;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function toApiKeyResponse(row: ApiKeyEntity): ApiKeyResponseDto {
  return {
    id: row.id,
    name: row.name,
    capabilities: row.capabilities,
    createdBy: row.createdBy,
    createdAt: new Date(row.createdAt).toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
  };
}

function createdByOf(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.subject}` : `api_key:${principal.subject}`;
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly revocations: ApiKeyRevocations,
    // Absent in the CLI, which keeps no key cache of its own.
    @Optional() private readonly authenticator?: ApiKeyAuthenticator,
  ) {}

  async create(principal: Principal, dto: ApiKeyCreateDto): Promise<ApiKeyCreatedDto> {
    const expiresAt = dto.expiresAt === undefined ? null : Date.parse(dto.expiresAt);
    // A key that expires before it could be used is a mistake the caller wants to hear about.
    if (expiresAt !== null && expiresAt <= Date.now()) {
      throw new AppError('validation_error', 'invalid request: expiresAt: expiresAt must be in the future', { fields: [{ field: 'expiresAt', problems: ['expiresAt must be in the future'] }] });
    }
    // Otherwise a `manage`-only key could mint itself a `send` key and escape its own limits.
    for (const capability of dto.capabilities) {
      if (!hasCapability(principal, capability)) {
        throw new AppError('forbidden', `a key cannot be granted "${capability}": the caller does not have that capability`, { capability });
      }
    }
    return this.issue(principal.orgId, {
      name: dto.name,
      capabilities: dto.capabilities,
      expiresAt,
      createdBy: createdByOf(principal),
    });
  }

  /** Stores a new key for the org and returns it with its token, which is never readable again. */
  async issue(orgId: string, input: ApiKeyIssue): Promise<ApiKeyCreatedDto> {
    const key = generateApiKey(input.id);
    const row: ApiKeyEntity = {
      id: key.id,
      orgId,
      name: input.name,
      secretHash: key.hash,
      capabilities: [...new Set(input.capabilities)],
      createdBy: input.createdBy,
      createdAt: Date.now(),
      lastUsedAt: null,
      expiresAt: input.expiresAt,
      revokedAt: null,
    };
    await this.repository.insert(row);
    return { ...toApiKeyResponse(row), token: key.token };
  }

  async list(orgId: string, query: PageQueryDto): Promise<ListResult<ApiKeyResponseDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    // One extra row tells whether another page exists without a second query.
    const rows = await this.repository.listForOrg(orgId, limit + 1, decodeCursor(query.cursor));
    const page = rows.slice(0, limit);
    return { data: page.map(toApiKeyResponse), nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : '' };
  }

  async get(orgId: string, id: string): Promise<ApiKeyResponseDto> {
    return toApiKeyResponse(await this.find(orgId, id));
  }

  /**
   * Idempotent: revoking a revoked key keeps its first revocation time. Answers once this
   * gateway forgot the key and NATS has the broadcast to the others (scale-out), so that the
   * key is refused everywhere by the time the caller hears it is revoked.
   */
  async revoke(orgId: string, id: string): Promise<ApiKeyResponseDto> {
    await this.find(orgId, id);
    await this.repository.revoke(orgId, id, Date.now());
    this.authenticator?.invalidate(id);
    await this.revocations.announce(id);
    return toApiKeyResponse(await this.find(orgId, id));
  }

  private async find(orgId: string, id: string): Promise<ApiKeyEntity> {
    const row = isId(id) ? await this.repository.findForOrg(orgId, id) : null;
    if (!row) throw keyNotFound();
    return row;
  }
}
