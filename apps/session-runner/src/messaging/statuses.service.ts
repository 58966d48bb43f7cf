import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { STATUS_JID, type StatusPostPayload, type StatusPostResult } from '@wa/contracts/runtime';
import { AppError, isLidJid, isPhoneJid, normalizeJid } from '@wa/domain';
import { MessageStore } from '../messages/message-store';
import { SessionManager } from '../sessions/session-manager';
import { toJid } from './jid.resolve';
import { MediaDownloader } from './media-downloader';
import { toWaContent } from './message-sender.service';

/** WhatsApp shows a status to at most this many contacts a time; "all contacts" is cut there. */
const MAX_AUDIENCE = 1024;

/**
 * Status updates (text, image, video). WhatsApp's server does not know the audience: the client names it (every
 * device of each contact gets the sender key), so "all contacts" is everyone the session knows.
 */
@Injectable()
export class StatusesService {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly media: MediaDownloader,
  ) {}

  async post(p: StatusPostPayload): Promise<StatusPostResult> {
    await this.sessions.requireSession(p);
    if (p.media !== undefined) {
      if (p.media?.type !== 'image' && p.media?.type !== 'video') throw new AppError('validation_error', 'a status is text, an image or a video');
    } else {
      if (typeof p.text !== 'string' || !p.text || p.text.length > 700) throw new AppError('validation_error', 'text must be 1 to 700 characters');
      if (p.backgroundColor !== undefined && !/^#[0-9A-Fa-f]{6}$/.test(String(p.backgroundColor))) throw new AppError('validation_error', 'backgroundColor must be #RRGGBB');
      if (p.font !== undefined && (!Number.isInteger(p.font) || p.font < 0 || p.font > 9)) throw new AppError('validation_error', 'font must be 0 to 9');
    }
    const connection = this.sessions.connected(p);
    const me = await this.sessions.me(p.sessionId);
    const own = new Set([me?.jid, me?.lid].filter((j): j is string => !!j).map(normalizeJid));
    const audience = (p.contacts?.length ? p.contacts.map((c) => toJid(c, 'contacts')) : await this.everyone(p.sessionId)).filter((j) => !own.has(j));
    if (!audience.length) throw new AppError('validation_error', 'the session knows no contacts yet: name them in `contacts`');
    // Our own phone and other devices see what we post, as on WhatsApp.
    const recipients = [...new Set([...audience, ...(me?.jid ? [normalizeJid(me.jid)] : [])])];
    const messageId = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    let result: Awaited<ReturnType<typeof connection.sendStatus>>;
    let type: string = 'text';
    if (p.media) {
      // A media URL is fetched to a file under the media rules and size cap, and removed after.
      const resolved = await this.media.resolve(p.media);
      try {
        const content = toWaContent(resolved.content);
        if (content.type !== 'image' && content.type !== 'video') throw new AppError('validation_error', 'a status is text, an image or a video');
        type = content.type;
        result = await connection.sendStatus(content, recipients, { messageId });
      } finally {
        await resolved.release();
      }
    } else {
      result = await connection.sendStatus({ text: p.text as string, ...(p.backgroundColor ? { backgroundColor: p.backgroundColor } : {}), ...(p.font !== undefined ? { font: p.font } : {}) }, recipients, { messageId });
    }
    await this.store.save({ sessionId: p.sessionId, key: { ...result.key, chatJid: STATUS_JID }, type, timestampMs: result.timestampMs, raw: result.raw });
    return { waMessageId: result.key.id, recipients: audience.length, timestamp: result.timestampMs };
  }

  private async everyone(sessionId: string): Promise<string[]> {
    const { jids } = await this.store.contactCandidates(sessionId, undefined, MAX_AUDIENCE);
    const people = new Set<string>();
    for (const jid of jids) {
      if (isPhoneJid(jid)) people.add(jid);
      else if (isLidJid(jid)) people.add((await this.store.alternateJid(sessionId, jid)) ?? jid);
    }
    return [...people].slice(0, MAX_AUDIENCE);
  }
}
