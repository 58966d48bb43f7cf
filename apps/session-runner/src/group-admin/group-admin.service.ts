import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type {
  GroupJoinRequest,
  GroupJoinRequestsPayload,
  GroupJoinRequestsUpdatePayload,
  GroupParticipantsResult,
  GroupPicturePayload,
  GroupPictureResult,
  GroupPictureSetPayload,
  SessionRef,
} from '@wa/contracts/runtime';
import { AppError, isGroupJid } from '@wa/domain';
import type { WaJoinRequestUpdate } from '@wa/wa-adapter';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { MediaDownloader } from '../messaging/media-downloader';
import { toJid } from '../messaging/jid.resolve';
import { ConnectionObservers } from '../sessions/connection-observers';
import { jidPair } from '../sessions/session-events.mapper';
import { SessionManager } from '../sessions/session-manager';

function codeOf(err: unknown): number | undefined {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  return typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
}

/** WhatsApp's group refusals: 401 only admins, 403 not a member, 404 no such group. */
function fromWhatsApp(err: unknown, group: string): never {
  if (err instanceof AppError) throw err;
  const code = codeOf(err);
  if (code === 401) throw new AppError('forbidden', 'WhatsApp refused: only group admins may do this', { group, whatsapp: 'not-authorized' });
  if (code === 403 || code === 404) throw new AppError('not_found', 'group not found or we are not a member', { group });
  if (code === 400 || code === 406) throw new AppError('validation_error', 'WhatsApp rejected the request', { group, whatsapp: code });
  throw err;
}

/**
 * A group's picture and the requests to join it, over the session's live connection; and the
 * `group.join_request` event when WhatsApp tells an admin's devices of a request.
 */
@Injectable()
export class GroupAdminService implements OnModuleInit {
  private readonly logger = new Logger(GroupAdminService.name);

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly sessions: SessionManager,
    private readonly media: MediaDownloader,
    private readonly store: MessageStore,
    private readonly events: EventOutbox,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) =>
      connection.on('joinRequest', (u) => {
        if (!this.sessions.owns(ref.sessionId)) return;
        this.recordJoinRequest(ref, u).catch((err: unknown) => this.logger.error({ msg: 'failed to record group.join_request', sessionId: ref.sessionId, error: (err as Error).message }));
      }),
    );
  }

  async picture(p: GroupPicturePayload): Promise<GroupPictureResult> {
    const group = groupJid(p.group);
    const connection = this.sessions.connected(p);
    try {
      // The metadata query tells an unknown group (404) or one we left (403) from one without a picture.
      await connection.groupMetadata(group);
      return { group, url: (await connection.groupPictureUrl(group)) ?? null };
    } catch (err) {
      fromWhatsApp(err, group);
    }
  }

  async setPicture(p: GroupPictureSetPayload): Promise<GroupPictureResult> {
    const group = groupJid(p.group);
    const connection = this.sessions.connected(p);
    const image = 'url' in p ? await this.media.fetchBytes(p.url) : Buffer.from(p.base64, 'base64');
    try {
      await connection.setGroupPicture(group, image);
    } catch (err) {
      if (typeof (err as { data?: unknown }).data === 'number') fromWhatsApp(err, group);
      // The image library refuses what it cannot read before anything reaches WhatsApp.
      if (!(err instanceof AppError) && !(err as { isBoom?: boolean }).isBoom) {
        throw new AppError('validation_error', 'invalid request: the picture is not an image this server can read (JPEG, PNG, WebP, ...)', { fields: [{ field: 'url' in p ? 'url' : 'base64', problems: ['not a readable image'] }] });
      }
      throw err;
    }
    return this.picture({ ...p, group });
  }

  async removePicture(p: GroupPicturePayload): Promise<Record<string, never>> {
    const group = groupJid(p.group);
    try {
      await this.sessions.connected(p).removeGroupPicture(group);
    } catch (err) {
      fromWhatsApp(err, group);
    }
    return {};
  }

  async joinRequests(p: GroupJoinRequestsPayload): Promise<{ data: GroupJoinRequest[] }> {
    const group = groupJid(p.group);
    try {
      const requests = await this.sessions.connected(p).groupJoinRequests(group);
      return {
        data: requests.map((r) => ({
          jid: r.jid,
          ...(r.phoneJid ? { pn: r.phoneJid } : {}),
          ...(r.requestedAtMs ? { requestedAt: r.requestedAtMs } : {}),
          ...(r.method ? { method: r.method } : {}),
        })),
      };
    } catch (err) {
      fromWhatsApp(err, group);
    }
  }

  async updateJoinRequests(p: GroupJoinRequestsUpdatePayload): Promise<GroupParticipantsResult> {
    const group = groupJid(p.group);
    if (p.action !== 'approve' && p.action !== 'reject') throw new AppError('validation_error', 'action must be approve or reject', { action: p.action });
    if (!Array.isArray(p.participants) || !p.participants.length) throw new AppError('validation_error', 'participants must be a non-empty list');
    const participants = [...new Set(p.participants.map((v) => toJid(v, 'participants')))];
    try {
      return { results: await this.sessions.connected(p).updateGroupJoinRequests(group, participants, p.action) };
    } catch (err) {
      fromWhatsApp(err, group);
    }
  }

  private async recordJoinRequest(ref: SessionRef, u: WaJoinRequestUpdate): Promise<void> {
    const pair = async (jid: string, alternate?: string) => jidPair(jid, alternate ?? (await this.store.alternateJid(ref.sessionId, jid)));
    if (u.requester.phoneJid && u.requester.jid.endsWith('@lid')) await this.store.saveLidMapping(ref.sessionId, { lid: u.requester.jid, pn: u.requester.phoneJid });
    const author = u.author ?? u.authorPn;
    await this.events.record(ref.orgId, ref.sessionId, 'group.join_request', {
      group: u.groupJid,
      action: u.action,
      requester: await pair(u.requester.jid, u.requester.phoneJid),
      ...(u.method ? { method: u.method } : {}),
      ...(author ? { author: await pair(author, u.author && u.authorPn ? u.authorPn : undefined) } : {}),
      timestamp: u.timestampMs,
    });
  }
}

function groupJid(value: string): string {
  if (!isGroupJid(value)) throw new AppError('validation_error', 'invalid request: group: not a group JID', { fields: [{ field: 'group', problems: ['not a group JID'] }] });
  return value;
}
