import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Community, CommunityCreatePayload, CommunityGroupPayload, CommunityPayload, CommunitySummary, SessionRef } from '@wa/contracts/runtime';
import { AppError, isGroupJid } from '@wa/domain';
import type { WaCommunity, WaCommunityUpdate } from '@wa/wa-adapter';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';
import { jidPair } from '../sessions/session-events.mapper';
import { SessionManager } from '../sessions/session-manager';

function codeOf(err: unknown): number | undefined {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  return typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
}

/**
 * WhatsApp's community refusals: 401 not an admin (of the community, or of the group to link),
 * 403/404 no such community or group, or the account is not in it, 409 linked elsewhere,
 * 400 not something that can be linked or unlinked (a community, the announcement group).
 */
function fromWhatsApp(err: unknown, details: Record<string, string>): never {
  if (err instanceof AppError) throw err;
  const code = codeOf(err);
  if (code === 401) throw new AppError('forbidden', "WhatsApp refused: only the community's admins may do this, and only with groups they administer", { ...details, whatsapp: 'not-authorized' });
  if (code === 403 || code === 404) throw new AppError('not_found', 'community or group not found, or the account is not in it', details);
  if (code === 409) throw new AppError('conflict', 'the group is linked to another community', { ...details, whatsapp: 'conflict' });
  if (code === 400 || code === 406) throw new AppError('validation_error', 'WhatsApp rejected the request: the announcement group and communities cannot be linked or unlinked', { ...details, whatsapp: code });
  throw err;
}

function toSummary(c: WaCommunity): CommunitySummary {
  return {
    jid: c.jid,
    subject: c.subject,
    ...(c.description ? { description: c.description } : {}),
    ...(c.owner ? { owner: c.owner } : {}),
    ...(c.createdAtMs ? { createdAt: c.createdAtMs } : {}),
    ...(c.announcementGroup ? { announcementGroup: c.announcementGroup } : {}),
  };
}

function toCommunity(c: WaCommunity): Community {
  return {
    ...toSummary(c),
    linkedGroups: (c.linkedGroups ?? []).map((g) => ({
      jid: g.jid,
      subject: g.subject,
      announcement: g.announcement,
      ...(g.size !== undefined ? { size: g.size } : {}),
      ...(g.createdAtMs ? { createdAt: g.createdAtMs } : {}),
    })),
  };
}

function groupJid(value: string, field: string): string {
  if (!isGroupJid(value)) throw new AppError('validation_error', `invalid request: ${field}: not a group JID`, { fields: [{ field, problems: ['not a group JID'] }] });
  return value;
}

/** Communities over the session's live connection, and `community.updated` from WhatsApp's notifications. */
@Injectable()
export class CommunitiesService implements OnModuleInit {
  private readonly logger = new Logger(CommunitiesService.name);

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly events: EventOutbox,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) =>
      connection.on('community', (u) => {
        if (!this.sessions.owns(ref.sessionId)) return;
        this.record(ref, u).catch((err: unknown) => this.logger.error({ msg: 'failed to record community.updated', sessionId: ref.sessionId, error: (err as Error).message }));
      }),
    );
  }

  async create(p: CommunityCreatePayload): Promise<Community> {
    if (typeof p.subject !== 'string' || !p.subject.trim()) throw new AppError('validation_error', 'invalid request: subject: must not be empty', { fields: [{ field: 'subject', problems: ['must not be empty'] }] });
    try {
      return toCommunity(await this.sessions.connected(p).createCommunity(p.subject, p.description));
    } catch (err) {
      fromWhatsApp(err, {});
    }
  }

  async list(p: SessionRef): Promise<{ data: CommunitySummary[] }> {
    return { data: (await this.sessions.connected(p).listCommunities()).map(toSummary) };
  }

  async get(p: CommunityPayload): Promise<Community> {
    const community = groupJid(p.community, 'community');
    try {
      return toCommunity(await this.sessions.connected(p).community(community));
    } catch (err) {
      fromWhatsApp(err, { community });
    }
  }

  async link(p: CommunityGroupPayload): Promise<Community> {
    const community = groupJid(p.community, 'community');
    const group = groupJid(p.group, 'group');
    const connection = this.sessions.connected(p);
    try {
      await connection.linkCommunityGroup(community, group);
      return toCommunity(await connection.community(community));
    } catch (err) {
      fromWhatsApp(err, { community, group });
    }
  }

  async unlink(p: CommunityGroupPayload): Promise<Record<string, never>> {
    const community = groupJid(p.community, 'community');
    const group = groupJid(p.group, 'group');
    try {
      await this.sessions.connected(p).unlinkCommunityGroup(community, group);
    } catch (err) {
      fromWhatsApp(err, { community, group });
    }
    return {};
  }

  private async record(ref: SessionRef, u: WaCommunityUpdate): Promise<void> {
    const author = u.author ?? u.authorPn;
    await this.events.record(ref.orgId, ref.sessionId, 'community.updated', {
      community: u.communityJid,
      action: u.action,
      group: u.group,
      ...(u.reason ? { reason: u.reason } : {}),
      ...(author ? { author: jidPair(author, u.author && u.authorPn ? u.authorPn : await this.store.alternateJid(ref.sessionId, author)) } : {}),
      timestamp: u.timestampMs,
    });
  }
}
