/**
 * Who blocked whom, by phone number, with WhatsApp's consequences: a blocked contact's messages
 * (and presence) never reach the blocker, though the contact's server ack looks as usual; and
 * the blocker's own messages to the contact are refused.
 */
export class BlocklistRegistry {
  private readonly blocked = new Map<string, Set<string>>();

  list(blocker: string): string[] {
    return [...(this.blocked.get(blocker) ?? [])];
  }

  has(blocker: string, contact: string): boolean {
    return this.blocked.get(blocker)?.has(contact) ?? false;
  }

  /** Whether a message between the two is stopped, in either direction. */
  between(a: string, b: string): boolean {
    return this.has(a, b) || this.has(b, a);
  }

  set(blocker: string, contact: string, block: boolean): void {
    let set = this.blocked.get(blocker);
    if (!set) this.blocked.set(blocker, (set = new Set()));
    if (block) set.add(contact);
    else set.delete(contact);
  }
}
