import { AppError, isLidJid, isPhoneJid, normalizeJid } from '@wa/domain';

/** How long a send waits for the list read at login before going ahead without it (WhatsApp refuses in the ack then). */
const LOAD_WAIT_MS = 5_000;

/**
 * The account's blocklist as this device knows it: read from WhatsApp at each login and kept
 * current by the blocklist notifications every device of the account gets. WhatsApp's own
 * clients refuse to send to a contact the account blocked ("unblock to send"); so does this one,
 * before anything reaches the socket, instead of letting the server's error ack fail it later.
 */
export class BlockedContacts {
  private jids = new Set<string>();
  private loading: Promise<void> | undefined;

  /** A new login: forget what was known and read the list again. */
  load(read: () => Promise<string[]>): void {
    const jids = new Set<string>();
    this.jids = jids;
    this.loading = read()
      .then((list) => list.forEach((jid) => jids.add(normalizeJid(jid))))
      .catch(() => undefined)
      .finally(() => {
        this.loading = undefined;
      });
  }

  apply(jids: string[], blocked: boolean): void {
    for (const jid of jids.map(normalizeJid)) {
      if (blocked) this.jids.add(jid);
      else this.jids.delete(jid);
    }
  }

  /**
   * Refuses a send to a contact the account blocked, given every form of the chat's jid (the
   * list names LIDs, a send often the phone number). Group chats are never refused here.
   */
  async refuse(forms: string[]): Promise<void> {
    const contacts = forms.map(normalizeJid).filter((jid) => isPhoneJid(jid) || isLidJid(jid));
    if (!contacts.length) return;
    if (this.loading) await Promise.race([this.loading, new Promise((resolve) => setTimeout(resolve, LOAD_WAIT_MS).unref())]);
    if (contacts.some((jid) => this.jids.has(jid))) {
      throw new AppError('forbidden', 'the account blocked this contact: unblock it to send to it', { reason: 'contact_blocked', chat: forms[0] });
    }
  }
}
