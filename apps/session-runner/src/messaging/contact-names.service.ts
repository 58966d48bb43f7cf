import { Injectable } from '@nestjs/common';
import { CONTACT_NAME_MAX, type ContactJidPayload, type ContactNamePayload, type ContactSummary } from '@wa/contracts/runtime';
import { AppError } from '@wa/domain';
import { MessageStore } from '../messages/message-store';
import { SessionManager } from '../sessions/session-manager';
import { fromWhatsApp } from './chat-organisation.service';
import { toContactJid } from './jid.resolve';
import { MessageReader } from './message-reader.service';

/**
 * The name the account keeps for a contact. WhatsApp keeps it in the account's app state (a
 * `contactAction` in `critical_unblock_low`), so the phone and every linked device share it. The
 * runner records what it writes at once; what other devices write comes in through
 * `ChatOrganisationObserver`, which also raises `contact.updated` for both.
 */
@Injectable()
export class ContactNames {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly reader: MessageReader,
  ) {}

  async get(p: ContactJidPayload): Promise<ContactSummary> {
    await this.sessions.requireSession(p);
    return this.reader.contact(p.sessionId, toContactJid(p.jid));
  }

  async set(p: ContactNamePayload): Promise<ContactSummary | Record<string, never>> {
    await this.sessions.requireSession(p);
    const jid = toContactJid(p.jid);
    const name = p.name === null ? null : { fullName: nameField(p.name?.fullName, 'fullName'), ...(p.name?.firstName !== undefined ? { firstName: nameField(p.name.firstName, 'firstName') } : {}) };
    await this.sessions.connected(p).setContactName(jid, name).catch(fromWhatsApp);
    await this.store.saveSavedName(p.sessionId, jid, name?.fullName ?? null);
    return name ? this.reader.contact(p.sessionId, jid) : {};
  }
}

function nameField(value: unknown, field: string): string {
  if (typeof value !== 'string' || !value.trim() || value.length > CONTACT_NAME_MAX) {
    throw new AppError('validation_error', `invalid request: ${field}: 1 to ${CONTACT_NAME_MAX} characters, not only spaces`, { fields: [{ field, problems: ['not a name'] }] });
  }
  return value;
}
