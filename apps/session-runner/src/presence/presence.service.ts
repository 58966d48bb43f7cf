import { Injectable } from '@nestjs/common';
import type { PresenceSetPayload, PresenceSubscribePayload } from '@wa/contracts/runtime';
import { AppError, isGroupJid } from '@wa/domain';
import { toJid } from '../messaging/jid.resolve';
import { SessionManager } from '../sessions/session-manager';

/** Our global presence, and subscriptions to contacts' presence. */
@Injectable()
export class PresenceService {
  constructor(private readonly sessions: SessionManager) {}

  async set(p: PresenceSetPayload): Promise<Record<string, never>> {
    if (p.presence !== 'available' && p.presence !== 'unavailable') throw new AppError('validation_error', 'presence must be available or unavailable');
    await this.sessions.connected(p).sendPresence(p.presence);
    return {};
  }

  async subscribe(p: PresenceSubscribePayload): Promise<Record<string, never>> {
    const jid = toJid(p.jid, 'jid');
    if (isGroupJid(jid) || !/@(s\.whatsapp\.net|lid)$/.test(jid)) {
      throw new AppError('validation_error', 'invalid request: jid: a contact is a @s.whatsapp.net or @lid address', { fields: [{ field: 'jid', problems: ['not a contact address'] }] });
    }
    await this.sessions.connected(p).subscribePresence(jid);
    return {};
  }
}
