import { Injectable } from '@nestjs/common';
import type { BlockPayload, BlocklistResult, BusinessProfileResult, ContactIdsResult, ContactJidPayload, ContactsCheckPayload, ContactsCheckResult, SessionRef } from '@wa/contracts/runtime';
import { AppError } from '@wa/domain';
import { MessageStore } from '../messages/message-store';
import { toContactJid } from '../messaging/jid.resolve';
import { SessionManager } from '../sessions/session-manager';

function codeOf(err: unknown): number | undefined {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  return typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
}

/**
 * Number checks, business profiles and the blocklist over the session's live connection. The
 * gateway checked the session against the org; `connected` checks it again.
 */
@Injectable()
export class ContactsService {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
  ) {}

  async check(p: ContactsCheckPayload): Promise<ContactsCheckResult> {
    const results = await this.sessions.connected(p).checkNumbers(p.phones);
    for (const r of results) if (r.jid && r.lid) await this.store.saveLidMapping(p.sessionId, { lid: r.lid, pn: r.jid });
    return { data: results.map((r) => ({ phone: r.phone, exists: r.exists, ...(r.jid ? { jid: r.jid } : {}), ...(r.lid ? { lid: r.lid } : {}) })) };
  }

  async business(p: ContactJidPayload): Promise<BusinessProfileResult> {
    const jid = toContactJid(p.jid);
    const profile = await this.sessions.connected(p).businessProfile(jid);
    if (!profile) throw new AppError('not_found', 'not a WhatsApp Business account', { jid });
    return { jid, ...profile };
  }

  /**
   * A contact's one id and both forms: from the pairs the session recorded; what is missing is
   * asked of WhatsApp while connected (usync answers a number's LID; a LID's number comes only
   * from Baileys' mapping store, as no query reveals it). A pair learned here is recorded, which
   * merges rows stored under the LID.
   */
  async ids(p: ContactJidPayload): Promise<ContactIdsResult> {
    await this.sessions.requireSession(p);
    const known = await this.store.pairOf(p.sessionId, toContactJid(p.jid));
    if ((known.pn && known.lid) || !this.sessions.owns(p.sessionId)) return known;
    let connection;
    try {
      connection = this.sessions.connected(p);
    } catch {
      return known;
    }
    if (known.pn) {
      const [hit] = await connection.checkNumbers([known.pn.split('@')[0] ?? '']);
      if (!hit?.exists || !hit.jid) throw new AppError('not_found', 'no WhatsApp account has this number', { jid: known.pn });
      return this.store.pairOf(p.sessionId, hit.jid, hit.lid);
    }
    const pn = known.lid ? await connection.phoneOfLid(known.lid) : undefined;
    return pn ? this.store.pairOf(p.sessionId, known.lid!, pn) : known;
  }

  async blocklist(p: SessionRef): Promise<BlocklistResult> {
    const jids = await this.sessions.connected(p).blocklist();
    const data = await Promise.all(jids.map(async (jid) => await this.store.pairOf(p.sessionId, jid)));
    return { data, nextCursor: '' };
  }

  async setBlocked(p: BlockPayload): Promise<Record<string, never>> {
    const jid = toContactJid(p.jid);
    const connection = this.sessions.connected(p);
    try {
      await connection.setBlocked(jid, p.blocked);
    } catch (err) {
      if (err instanceof AppError) throw err;
      const code = codeOf(err);
      if (code === 404) throw new AppError('not_found', 'no WhatsApp account has this address', { jid });
      if (code === 400 || code === 406) throw new AppError('validation_error', 'WhatsApp refused to block this address', { jid, whatsapp: code });
      throw err;
    }
    return {};
  }
}
