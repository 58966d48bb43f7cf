/**
 * Who is online, when each account was last seen, and who subscribed to whose presence, by
 * phone number. WhatsApp forwards an account's presence only to the accounts that subscribed to
 * it (`<presence type=subscribe>`), and answers a subscription with the current presence.
 */
export class PresenceRegistry {
  private readonly state = new Map<string, { online: boolean; lastSeen: number }>();
  private readonly subscribers = new Map<string, Set<string>>();

  of(phone: string): { online: boolean; lastSeen: number } {
    return this.state.get(phone) ?? { online: false, lastSeen: 0 };
  }

  /** Records the change; answers whether it is one (a repeat is not forwarded again). */
  set(phone: string, online: boolean): boolean {
    const before = this.state.get(phone);
    this.state.set(phone, { online, lastSeen: online ? 0 : Math.floor(Date.now() / 1000) });
    return before?.online !== online;
  }

  subscribe(subscriber: string, target: string): void {
    let set = this.subscribers.get(target);
    if (!set) this.subscribers.set(target, (set = new Set()));
    set.add(subscriber);
  }

  subscribersOf(target: string): string[] {
    return [...(this.subscribers.get(target) ?? [])];
  }
}
