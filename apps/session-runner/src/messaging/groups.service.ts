import { Injectable } from '@nestjs/common';
import type {
  GroupCreatePayload,
  GroupGetPayload,
  GroupInviteCodePayload,
  GroupInvitePayload,
  GroupInviteResult,
  GroupJoinPending,
  GroupListResult,
  GroupParticipantsPayload,
  GroupParticipantsResult,
  GroupSettingsPayload,
  GroupSummary,
  GroupUpdatePayload,
  SessionRef,
} from '@wa/contracts/runtime';
import { AppError, isGroupJid } from '@wa/domain';
import type { WaGroupMetadata } from '@wa/wa-adapter';
import { MessageStore } from '../messages/message-store';
import { SessionManager } from '../sessions/session-manager';
import { toJid } from './jid.resolve';

const INVITE_LINK_BASE = 'https://chat.whatsapp.com/';
const INVITE_CODE = /^[0-9A-Za-z_-]{6,64}$/;

function statusOf(err: unknown): number | undefined {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  return typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
}

/**
 * WhatsApp answers group queries with HTTP-like codes (Baileys puts an `<error code>` in the
 * Boom's `data`); these are the ones a caller caused. `not-authorized` (401) is WhatsApp's "only
 * admins may do that"; `forbidden` (403) means we are not a member, which looks like no group.
 */
function fromWhatsApp(err: unknown, group?: string): never {
  const status = statusOf(err);
  if (status === 404) throw new AppError('not_found', 'group not found', { group });
  if (status === 403) throw new AppError('not_found', 'group not found or we are not a member', { group });
  if (status === 401) throw new AppError('forbidden', 'WhatsApp refused: only group admins may do this', { group, whatsapp: 'not-authorized' });
  if (status === 409) throw new AppError('conflict', 'the group changed meanwhile; try again', { group });
  if (status === 400 || status === 406) throw new AppError('validation_error', 'WhatsApp rejected the request', { group, status });
  throw err;
}

/** Invite codes: `not-acceptable` (406) for a code that never was, `gone` (410) for a revoked one. */
function fromWhatsAppInvite(err: unknown): never {
  const status = statusOf(err);
  if (status === 406 || status === 404) throw new AppError('not_found', 'no group has this invite code', {});
  if (status === 410) throw new AppError('not_found', 'this invite code was revoked', { revoked: true });
  return fromWhatsApp(err);
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
    if (!['add', 'remove', 'promote', 'demote'].includes(p.action)) throw new AppError('validation_error', 'action must be add, remove, promote or demote', { action: p.action });
    const group = groupJid(p.group);
    const results = await this.sessions
      .connected(p)
      .updateGroupParticipants(group, participantJids(p.participants), p.action)
      .catch((e: unknown) => fromWhatsApp(e, group));
    return { results };
  }

  async update(p: GroupUpdatePayload): Promise<GroupSummary> {
    await this.sessions.requireSession(p);
    const group = groupJid(p.group);
    if (p.subject === undefined && p.description === undefined) throw new AppError('validation_error', 'give a subject, a description, or both');
    if (p.subject !== undefined && (typeof p.subject !== 'string' || !p.subject.trim() || p.subject.length > 100)) throw new AppError('validation_error', 'subject must be 1 to 100 characters');
    if (p.description !== undefined && (typeof p.description !== 'string' || p.description.length > 2048)) throw new AppError('validation_error', 'description must be at most 2048 characters');
    const connection = this.sessions.connected(p);
    if (p.subject !== undefined) await connection.updateGroupSubject(group, p.subject).catch((e: unknown) => fromWhatsApp(e, group));
    if (p.description !== undefined) await connection.updateGroupDescription(group, p.description).catch((e: unknown) => fromWhatsApp(e, group));
    return this.get({ ...p, group });
  }

  async settings(p: GroupSettingsPayload): Promise<GroupSummary> {
    await this.sessions.requireSession(p);
    const group = groupJid(p.group);
    if (p.announcement === undefined && p.locked === undefined) throw new AppError('validation_error', 'give announcement, locked, or both');
    for (const [name, value] of [['announcement', p.announcement], ['locked', p.locked]] as const) {
      if (value !== undefined && typeof value !== 'boolean') throw new AppError('validation_error', `${name} must be a boolean`);
    }
    const connection = this.sessions.connected(p);
    if (p.announcement !== undefined) await connection.updateGroupSetting(group, p.announcement ? 'announcement' : 'not_announcement').catch((e: unknown) => fromWhatsApp(e, group));
    if (p.locked !== undefined) await connection.updateGroupSetting(group, p.locked ? 'locked' : 'unlocked').catch((e: unknown) => fromWhatsApp(e, group));
    return this.get({ ...p, group });
  }

  async invite(p: GroupInvitePayload): Promise<GroupInviteResult> {
    await this.sessions.requireSession(p);
    const group = groupJid(p.group);
    return inviteResult(await this.sessions.connected(p).groupInviteCode(group).catch((e: unknown) => fromWhatsApp(e, group)));
  }

  async revokeInvite(p: GroupInvitePayload): Promise<GroupInviteResult> {
    await this.sessions.requireSession(p);
    const group = groupJid(p.group);
    return inviteResult(await this.sessions.connected(p).revokeGroupInvite(group).catch((e: unknown) => fromWhatsApp(e, group)));
  }

  async leave(p: GroupInvitePayload): Promise<Record<string, never>> {
    await this.sessions.requireSession(p);
    const group = groupJid(p.group);
    await this.sessions.connected(p).leaveGroup(group).catch((e: unknown) => fromWhatsApp(e, group));
    return {};
  }

  async inviteInfo(p: GroupInviteCodePayload): Promise<GroupSummary> {
    await this.sessions.requireSession(p);
    const metadata = await this.sessions.connected(p).groupInviteInfo(inviteCode(p.code)).catch((e: unknown) => fromWhatsAppInvite(e));
    return toSummary(metadata);
  }

  /** The group joined, or, where an admin must approve joins, the request that now waits for one. */
  async join(p: GroupInviteCodePayload): Promise<GroupSummary | GroupJoinPending> {
    await this.sessions.requireSession(p);
    const joined = await this.sessions.connected(p).joinByInvite(inviteCode(p.code)).catch((e: unknown) => fromWhatsAppInvite(e));
    if (joined.pending) return { jid: joined.groupJid, pending: true };
    return this.get({ ...p, group: joined.groupJid });
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

function inviteCode(value: unknown): string {
  if (typeof value !== 'string' || !INVITE_CODE.test(value)) throw new AppError('validation_error', 'code must be a WhatsApp invite code', { code: value });
  return value;
}

function inviteResult(code: string): GroupInviteResult {
  return { code, link: `${INVITE_LINK_BASE}${code}` };
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
    announcement: g.announce,
    locked: g.restrict,
    participants: g.participants.map((x) => ({ jid: x.jid, ...(x.phoneJid ? { pn: x.phoneJid } : {}), ...(x.admin ? { admin: x.admin } : {}) })),
  };
}
