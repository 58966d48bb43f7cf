import { normalizeJid } from '@wa/domain';
import type { BaileysModule } from './baileys.loader';
import type { WaParticipantResult } from './wa-engine.port';
import type { WaGroupAdminOps, WaInviteJoin, WaJoinRequest, WaJoinRequestUpdate } from './wa-group-admin.port';

type Socket = ReturnType<BaileysModule['makeWASocket']>;
type Node = { tag: string; attrs: Record<string, string>; content?: unknown };

function codeOf(err: unknown): number | undefined {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  return typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
}

const childOf = (node: Node | undefined, tag: string): Node | undefined =>
  Array.isArray(node?.content) ? (node.content as Node[]).find((c) => c.tag === tag) : undefined;

/** A group's picture and its join requests, through Baileys' group and profile queries. */
export class BaileysGroupAdmin implements WaGroupAdminOps {
  constructor(
    private readonly socket: () => Socket,
    private readonly changed: (groupJid: string) => Promise<void>,
  ) {}

  async groupPictureUrl(groupJid: string): Promise<string | undefined> {
    try {
      return (await this.socket().profilePictureUrl(groupJid, 'image')) ?? undefined;
    } catch (err) {
      // WhatsApp answers a group without a picture with item-not-found.
      if (codeOf(err) === 404) return undefined;
      throw err;
    }
  }

  async setGroupPicture(groupJid: string, image: Buffer): Promise<void> {
    await this.socket().updateProfilePicture(groupJid, image);
  }

  async removeGroupPicture(groupJid: string): Promise<void> {
    await this.socket().removeProfilePicture(groupJid);
  }

  async groupJoinRequests(groupJid: string): Promise<WaJoinRequest[]> {
    const requests = (await this.socket().groupRequestParticipantsList(groupJid)) as Record<string, string | undefined>[];
    return requests.flatMap((r) => {
      if (!r.jid) return [];
      const at = Number(r.request_time);
      return [{
        jid: normalizeJid(r.jid),
        ...(r.phone_number ? { phoneJid: normalizeJid(r.phone_number) } : {}),
        ...(Number.isFinite(at) && at > 0 ? { requestedAtMs: at * 1000 } : {}),
        ...(r.request_method ? { method: r.request_method } : {}),
      }];
    });
  }

  async updateGroupJoinRequests(groupJid: string, participants: string[], action: 'approve' | 'reject'): Promise<WaParticipantResult[]> {
    try {
      const results = await this.socket().groupRequestParticipantsUpdate(groupJid, participants, action);
      return results.map((r, i) => ({ jid: r.jid ?? participants[i] ?? '', status: r.status }));
    } finally {
      await this.changed(groupJid);
    }
  }

  /**
   * Baileys' `groupAcceptInvite` reads only a `<group>` answer; in a group with join approval
   * WhatsApp answers `<membership_approval_request jid>` instead (the request is filed), so the
   * query is made here and both answers are read.
   */
  async joinByInvite(code: string): Promise<WaInviteJoin> {
    const result = (await this.socket().query({ tag: 'iq', attrs: { type: 'set', xmlns: 'w:g2', to: '@g.us' }, content: [{ tag: 'invite', attrs: { code } }] })) as Node;
    const pending = childOf(result, 'membership_approval_request');
    if (pending?.attrs.jid) return { groupJid: normalizeJid(pending.attrs.jid), pending: true };
    const joined = childOf(result, 'group')?.attrs.jid;
    if (!joined) throw new Error('WhatsApp answered the invite with neither a group nor a request');
    await this.changed(joined);
    return { groupJid: normalizeJid(joined), pending: false };
  }
}

/**
 * A new join request reaches the admins as a `w:gp2` notification with a
 * `<membership_approval_request>` child naming the requester as its participant; rc14 turns only
 * `created_membership_requests` into a stub, so this one is read from the stanza itself.
 */
export function attachJoinRequests(sock: Socket, emit: (update: WaJoinRequestUpdate) => void): () => void {
  const event = 'CB:notification,type:w:gp2,membership_approval_request';
  const onRequest = (node: Node): void => {
    const groupJid = node.attrs.from;
    const requester = node.attrs.participant;
    if (!groupJid || !requester) return;
    const method = childOf(node, 'membership_approval_request')?.attrs.request_method;
    const t = Number(node.attrs.t);
    emit({
      groupJid: normalizeJid(groupJid),
      requester: { jid: normalizeJid(requester), ...(node.attrs.participant_pn ? { phoneJid: normalizeJid(node.attrs.participant_pn) } : {}) },
      action: 'requested',
      ...(method ? { method } : {}),
      timestampMs: Number.isFinite(t) && t > 0 ? t * 1000 : Date.now(),
    });
  };
  sock.ws.on(event, onRequest);
  return () => void sock.ws.off(event, onRequest);
}
