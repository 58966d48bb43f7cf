import { Injectable } from '@nestjs/common';
import type { GroupCreatePayload, GroupGetPayload, GroupListResult, GroupParticipantsPayload, GroupParticipantsResult, GroupSummary, SessionRef } from '@wa/contracts';
import { AppError, isGroupJid } from '@wa/domain';
import type { WaGroupMetadata } from '@wa/wa-adapter';
import { MessageStore } from '../messages/message-store';
import { SessionManager } from '../sessions/session-manager';
import { toJid } from './jid.resolve';

/**
 * WhatsApp answers group queries with HTTP-like codes (Baileys puts an `<error code>` in the
 * Boom's `data`); these are the ones a caller caused.
 */
function fromWhatsApp(err: unknown, group?: string): never {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  const status = typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
  if (status === 404) throw new AppError('not_found', 'group not found', { group });
  if (status === 403 || status === 401) throw new AppError('not_found', 'group not found or we are not a member', { group });
  if (status === 400 || status === 406) throw new AppError('validation_error', 'WhatsApp rejected the request', { group, status });
  throw err;
}

@Injectable()
export class GroupsService {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
  ) {}

  async list(p: SessionRef): Promise<GroupListResult> {
    await this.sessions.requireSession(p);
    const groups = await this.sessions.connected(p).listGroups().catch((e: unknown) => fromWhatsApp(e));
    for (const g of groups) await this.remember(p.sessionId, g);
    return { data: groups.map(toSummary).sort((a, b) => (a.jid < b.jid ? -1 : 1)) };
  }

  async get(p: GroupGetPayload): Promise<GroupSummary> {
    await this.sessions.requireSession(p);
    const group = groupJid(p.group);
    const metadata = await this.sessions.connected(p).groupMetadata(group).catch((e: unknown) => fromWhatsApp(e, group));
    await this.remember(p.sessionId, metadata);
    return toSummary(metadata);
  }

  async create(p: GroupCreatePayload): Promise<GroupSummary> {
    await this.sessions.requireSession(p);
    if (typeof p.subject !== 'string' || !p.subject.trim() || p.subject.length > 100) throw new AppError('validation_error', 'subject must be 1 to 100 characters');
    const participants = participantJids(p.participants);
    const metadata = await this.sessions.connected(p).createGroup(p.subject, participants).catch((e: unknown) => fromWhatsApp(e));
    await this.remember(p.sessionId, metadata);
    return toSummary(metadata);
  }

  async participants(p: GroupParticipantsPayload): Promise<GroupParticipantsResult> {
    await this.sessions.requireSession(p);
    if (p.action !== 'add' && p.action !== 'remove') throw new AppError('validation_error', 'action must be add or remove', { action: p.action });
    const group = groupJid(p.group);
    const results = await this.sessions
      .connected(p)
      .updateGroupParticipants(group, participantJids(p.participants), p.action)
      .catch((e: unknown) => fromWhatsApp(e, group));
    return { results };
  }

  private async remember(sessionId: string, g: WaGroupMetadata): Promise<void> {
    if (g.subject) await this.store.saveName(sessionId, g.jid, g.subject);
    for (const participant of g.participants) {
      if (participant.phoneJid && participant.jid.endsWith('@lid')) await this.store.saveLidMapping(sessionId, { lid: participant.jid, pn: participant.phoneJid });
    }
  }
}

function groupJid(value: unknown): string {
  const jid = typeof value === 'string' && !value.includes('@') ? `${value}@g.us` : value;
  if (typeof jid !== 'string' || !isGroupJid(jid)) throw new AppError('validation_error', 'group must be a group JID (…@g.us)', { group: value });
  return jid;
}

function participantJids(values: unknown): string[] {
  if (!Array.isArray(values) || !values.length) throw new AppError('validation_error', 'participants must be a non-empty list');
  return [...new Set(values.map((v) => toJid(v, 'participants')))];
}

function toSummary(g: WaGroupMetadata): GroupSummary {
  return {
    jid: g.jid,
    subject: g.subject,
    ...(g.owner ? { owner: g.owner } : {}),
    ...(g.description ? { description: g.description } : {}),
    ...(g.createdAtMs ? { createdAt: g.createdAtMs } : {}),
    participants: g.participants.map((x) => ({ jid: x.jid, ...(x.phoneJid ? { pn: x.phoneJid } : {}), ...(x.admin ? { admin: x.admin } : {}) })),
  };
}
