import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { GroupPoliciesGetPayload, GroupPoliciesResult, GroupPoliciesSetPayload, SessionRef } from '@wa/contracts/runtime';
import { AppError, isGroupJid } from '@wa/domain';
import type { WaConnection, WaGroupParticipantsUpdate, WaGroupPolicies } from '@wa/wa-adapter';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';
import { SessionManager } from '../sessions/session-manager';

function codeOf(err: unknown): number | undefined {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  return typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
}

/** WhatsApp's group refusals: 401 only admins, 403 not a member, 404 no such group. */
function fromWhatsApp(err: unknown, group: string): never {
  const code = codeOf(err);
  if (code === 401) throw new AppError('forbidden', 'WhatsApp refused: only group admins may do this', { group, whatsapp: 'not-authorized' });
  if (code === 403 || code === 404) throw new AppError('not_found', 'group not found or we are not a member', { group });
  if (code === 400 || code === 406) throw new AppError('validation_error', 'WhatsApp rejected the request', { group, whatsapp: code });
  throw err;
}

const toResult = (p: WaGroupPolicies): GroupPoliciesResult => ({
  memberAddMode: p.memberAddMode === 'all_member_add' ? 'all_members' : 'admins',
  joinApproval: p.joinApproval,
  disappearingSeconds: p.ephemeralSeconds,
});

/**
 * Member-add mode, join approval and disappearing messages of a group; and `group.joined` when
 * WhatsApp tells us our own account was added to one.
 */
@Injectable()
export class GroupPoliciesService implements OnModuleInit {
  private readonly logger = new Logger(GroupPoliciesService.name);

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly events: EventOutbox,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) =>
      connection.on('groupParticipants', (u) => {
        if (!this.sessions.owns(ref.sessionId) || u.action !== 'add') return;
        this.recordJoined(ref, connection, u).catch((err: unknown) => this.logger.error({ msg: 'failed to record group.joined', sessionId: ref.sessionId, error: (err as Error).message }));
      }),
    );
  }

  async get(p: GroupPoliciesGetPayload): Promise<GroupPoliciesResult> {
    const group = this.groupJid(p.group);
    try {
      return toResult(await this.sessions.connected(p).groupPolicies(group));
    } catch (err) {
      fromWhatsApp(err, group);
    }
  }

  async set(p: GroupPoliciesSetPayload): Promise<GroupPoliciesResult> {
    const group = this.groupJid(p.group);
    const connection = this.sessions.connected(p);
    try {
      await connection.setGroupPolicies(group, {
        ...(p.memberAddMode !== undefined ? { memberAddMode: p.memberAddMode === 'all_members' ? 'all_member_add' : 'admin_add' } : {}),
        ...(p.joinApproval !== undefined ? { joinApproval: p.joinApproval } : {}),
        ...(p.disappearingSeconds !== undefined ? { ephemeralSeconds: p.disappearingSeconds } : {}),
      });
      return toResult(await connection.groupPolicies(group));
    } catch (err) {
      fromWhatsApp(err, group);
    }
  }

  private groupJid(value: string): string {
    if (!isGroupJid(value)) throw new AppError('validation_error', 'invalid request: group: not a group JID', { fields: [{ field: 'group', problems: ['not a group JID'] }] });
    return value;
  }

  private async recordJoined(ref: SessionRef, connection: WaConnection, u: WaGroupParticipantsUpdate): Promise<void> {
    const status = connection.status;
    if (status.state !== 'connected') return;
    const mine = new Set([status.me.jid, status.me.lid].filter((j): j is string => !!j));
    if (!u.participants.some((p) => mine.has(p.jid) || (p.phoneJid !== undefined && mine.has(p.phoneJid)))) return;
    const author = u.author ?? u.authorPn;
    await this.events.record(ref.orgId, ref.sessionId, 'group.joined', {
      group: u.groupJid,
      ...(author ? { author: await this.store.pairOf(ref.sessionId, author, u.author ? u.authorPn : undefined) } : {}),
      timestamp: u.timestampMs,
    });
  }
}
