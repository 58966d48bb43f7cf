import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ApiListResponse,
  CHANNEL_KEY_PATTERN,
  ChannelCreate,
  ChannelDto,
  ChannelMessageDto,
  ChannelMessagesQuery,
  ChannelReaction,
  ChannelUpdate,
  RPC_CHANNELS,
  Type,
  type ChannelCreateDto,
  type ChannelCreatePayload,
  type ChannelFollowPayload,
  type ChannelKeyPayload,
  type ChannelMessagesPayload,
  type ChannelMessagesQueryDto,
  type ChannelMutePayload,
  type ChannelReactionDto,
  type ChannelReactPayload,
  type ChannelUpdateDto,
  type ChannelUpdatePayload,
  type ListResult,
  type RpcPattern,
  type SessionRef,
} from '@wa/contracts';
import { ValidBody, ValidParam, ValidQuery } from '../http/request-schema';
import { MessagesService } from '../messages/messages.service';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

const CHANNEL_PARAM = Type.String({
  pattern: CHANNEL_KEY_PATTERN.source,
  example: '120363123456789012@newsletter',
  description: 'The channel: its jid (`…@newsletter`), its invite code, or its invite link (URL-encoded).',
});
const SERVER_ID_PARAM = Type.String({ pattern: '^[0-9]{1,20}$', example: '105', description: 'The post\'s `serverId` (from the channel\'s messages or a `channel.message` event).' });
const NOT_ALLOWED = '`forbidden`: our role in the channel does not allow it (only the owner and admins edit and post; only the owner deletes).';
/** Resolving an invite, then the change, then the metadata again: up to three queries to WhatsApp. */
const CHANNEL_TIMEOUT_MS = 30_000;

/**
 * Channels (WhatsApp newsletters): follow and read others', create and run our own. Posting to a
 * channel we own is a normal send to its jid (`POST /sessions/{id}/messages`).
 */
@ApiTags('channels')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization, or no such channel on WhatsApp.')
@ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
@Controller('sessions/:id/channels')
export class ChannelsController {
  constructor(private readonly messages: MessagesService) {}

  private ask<T, P extends SessionRef>(p: Principal, id: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>): Promise<T> {
    return this.messages.askRunner<T, P>(p.orgId, id, pattern, payload, CHANNEL_TIMEOUT_MS);
  }

  @Get()
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List followed channels', description: 'The channels the account follows, owns or administers, as WhatsApp lists them, in one page (`nextCursor` is empty).' })
  @ApiParam(SESSION_ID)
  @ApiListResponse(ChannelDto, 'The followed channels.')
  async listChannels(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ListResult<ChannelDto>> {
    const { data } = await this.ask<{ data: ChannelDto[] }, SessionRef>(p, id, RPC_CHANNELS.list, {});
    return { data, nextCursor: '' };
  }

  @Post()
  @RequireCapability('send')
  @ApiOperation({ summary: 'Create a channel', description: 'Creates a channel the account owns; post to it by sending messages to its jid.' })
  @ApiParam(SESSION_ID)
  @ApiCreatedResponse({ type: ChannelDto, description: 'The new channel (`role: owner`).' })
  createChannel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(ChannelCreate) body: ChannelCreateDto): Promise<ChannelDto> {
    return this.ask<ChannelDto, ChannelCreatePayload>(p, id, RPC_CHANNELS.create, body);
  }

  @Get(':channel')
  @RequireAuthenticated()
  @ApiOperation({ summary: "Read a channel's metadata", description: 'By jid, invite code or invite link: name, description, invite, followers, and our role and mute state.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ChannelDto, description: 'The channel.' })
  getChannel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string): Promise<ChannelDto> {
    return this.ask<ChannelDto, ChannelKeyPayload>(p, id, RPC_CHANNELS.get, { channel });
  }

  @Patch(':channel')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Rename a channel or change its description', description: 'Owner and admins only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ChannelDto, description: 'The channel after the change.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ALLOWED)
  updateChannel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string, @ValidBody(ChannelUpdate) body: ChannelUpdateDto): Promise<ChannelDto> {
    return this.ask<ChannelDto, ChannelUpdatePayload>(p, id, RPC_CHANNELS.update, { channel, ...body });
  }

  @Delete(':channel')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({ summary: 'Delete a channel', description: 'Deletes a channel the account owns, for every follower. Owner only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ALLOWED)
  async deleteChannel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string): Promise<void> {
    await this.ask<unknown, ChannelKeyPayload>(p, id, RPC_CHANNELS.delete, { channel });
  }

  @Put(':channel/follow')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Follow a channel', description: 'By jid, invite code or invite link; its posts then arrive as `channel.message` events. Following again changes nothing.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ChannelDto, description: 'The channel (`role: subscriber`).' })
  followChannel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string): Promise<ChannelDto> {
    return this.ask<ChannelDto, ChannelFollowPayload>(p, id, RPC_CHANNELS.follow, { channel, following: true });
  }

  @Delete(':channel/follow')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Unfollow a channel', description: 'The owner cannot unfollow its own channel (400 `validation_error`, as WhatsApp answers).' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ChannelDto, description: 'The channel (`role: guest`).' })
  unfollowChannel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string): Promise<ChannelDto> {
    return this.ask<ChannelDto, ChannelFollowPayload>(p, id, RPC_CHANNELS.follow, { channel, following: false });
  }

  @Put(':channel/mute')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Mute a channel', description: 'Posts still arrive; the phone no longer notifies of them. Only for a channel we follow: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ChannelDto, description: 'The channel (`muted: true`).' })
  @ApiErrorResponse(403, ['forbidden'], '`forbidden`: we do not follow the channel.')
  muteChannel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string): Promise<ChannelDto> {
    return this.ask<ChannelDto, ChannelMutePayload>(p, id, RPC_CHANNELS.mute, { channel, muted: true });
  }

  @Delete(':channel/mute')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Unmute a channel', description: 'Only for a channel we follow: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ChannelDto, description: 'The channel (`muted: false`).' })
  @ApiErrorResponse(403, ['forbidden'], '`forbidden`: we do not follow the channel.')
  unmuteChannel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string): Promise<ChannelDto> {
    return this.ask<ChannelDto, ChannelMutePayload>(p, id, RPC_CHANNELS.mute, { channel, muted: false });
  }

  @Get(':channel/messages')
  @RequireAuthenticated()
  @ApiOperation({
    summary: "Read a channel's latest posts",
    description: "Asked from WhatsApp, newest first, with each post's `serverId`, reaction counts and views; any public channel, followed or not. Posts that arrived while following are also stored in the channel's chat (`GET .../chats/{chat}/messages`).",
  })
  @ApiParam(SESSION_ID)
  @ApiListResponse(ChannelMessageDto, 'The latest posts, in one page.')
  async listChannelMessages(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string, @ValidQuery(ChannelMessagesQuery) q: ChannelMessagesQueryDto): Promise<ListResult<ChannelMessageDto>> {
    const { data } = await this.ask<{ data: ChannelMessageDto[] }, ChannelMessagesPayload>(p, id, RPC_CHANNELS.messages, { channel, limit: q.limit ?? 20 });
    return { data, nextCursor: '' };
  }

  @Put(':channel/messages/:serverId/reaction')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({ summary: 'React to a channel post', description: 'One reaction per account: a new emoji replaces ours. WhatsApp shows only the counts.' })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Reacted.' })
  async reactToChannelMessage(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @ValidParam('channel', CHANNEL_PARAM) channel: string,
    @ValidParam('serverId', SERVER_ID_PARAM) serverId: string,
    @ValidBody(ChannelReaction) body: ChannelReactionDto,
  ): Promise<void> {
    await this.ask<unknown, ChannelReactPayload>(p, id, RPC_CHANNELS.react, { channel, serverId, emoji: body.emoji });
  }

  @Delete(':channel/messages/:serverId/reaction')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({ summary: 'Take back a reaction to a channel post', description: 'Taking back a reaction that is not there changes nothing.' })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'No reaction of ours is left.' })
  async unreactToChannelMessage(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('channel', CHANNEL_PARAM) channel: string, @ValidParam('serverId', SERVER_ID_PARAM) serverId: string): Promise<void> {
    await this.ask<unknown, ChannelReactPayload>(p, id, RPC_CHANNELS.react, { channel, serverId, emoji: '' });
  }
}
