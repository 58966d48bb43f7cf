import { AppError, isLidJid, normalizeJid } from '@wa/domain';
import type { BaileysModule } from './baileys.loader';
import type { WaBusinessProfile, WaContactsOps, WaNumberCheck } from './wa-contacts.port';

type Socket = ReturnType<BaileysModule['makeWASocket']>;

/**
 * Contact lookups and the blocklist on the live socket. A batch check asks WhatsApp's usync with
 * the `contact` and `lid` protocols at once, so each number comes back with its LID too
 * (Baileys' `onWhatsApp` asks `contact` only and drops numbers that are not on WhatsApp).
 */
export class BaileysContacts implements WaContactsOps {
  constructor(
    private readonly socket: () => Socket,
    private readonly baileys: () => Promise<BaileysModule>,
  ) {}

  async checkNumbers(phones: string[]): Promise<WaNumberCheck[]> {
    const sock = this.socket();
    const b = await this.baileys();
    const query = new b.USyncQuery().withContactProtocol().withLIDProtocol();
    for (const phone of phones) query.withUser(new b.USyncUser().withPhone(`+${phone}`));
    const result = await sock.executeUSyncQuery(query);
    const byPhone = new Map<string, WaNumberCheck>();
    for (const entry of result?.list ?? []) {
      const jid = normalizeJid(entry.id);
      const phone = jid.split('@')[0] ?? '';
      const lid = typeof entry.lid === 'string' && entry.lid ? normalizeJid(entry.lid) : undefined;
      if (entry.contact) byPhone.set(phone, { phone, exists: true, jid, ...(lid ? { lid } : {}) });
    }
    return phones.map((phone) => byPhone.get(phone) ?? { phone, exists: false });
  }

  async phoneOfLid(lid: string): Promise<string | undefined> {
    const pn = await this.socket().signalRepository.lidMapping.getPNForLID(lid);
    return pn ? normalizeJid(pn) : undefined;
  }

  async businessProfile(jid: string): Promise<WaBusinessProfile | undefined> {
    const profile = await this.socket().getBusinessProfile(jid);
    if (!profile) return undefined;
    return {
      ...(profile.description ? { description: profile.description } : {}),
      ...(profile.category ? { category: profile.category } : {}),
      ...(profile.email ? { email: profile.email } : {}),
      ...(profile.website?.[0] ? { website: profile.website[0] } : {}),
      ...(profile.address ? { address: profile.address } : {}),
    };
  }

  async blocklist(): Promise<string[]> {
    return (await this.socket().fetchBlocklist()).filter((jid): jid is string => !!jid).map(normalizeJid);
  }

  async setBlocked(jid: string, blocked: boolean): Promise<void> {
    try {
      await this.socket().updateBlockStatus(jid, blocked ? 'block' : 'unblock');
    } catch (err) {
      // Baileys needs the LID <-> phone number pair, which it learns from usync and messages.
      if (/Unable to resolve/.test((err as Error).message)) {
        throw new AppError('not_found', `no WhatsApp account known for ${jid}${isLidJid(jid) ? '' : '; check the number first'}`, { jid });
      }
      throw err;
    }
  }
}
