import { normalizeJid } from '@wa/domain';
import type { BaileysModule } from './baileys.loader';
import type { WaAbout, WaOwnProfile, WaPrivacyCategory, WaProfileOps } from './wa-profile.port';

type Socket = ReturnType<BaileysModule['makeWASocket']>;

function codeOf(err: unknown): number | undefined {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  return typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
}

/**
 * Profile and privacy queries on the live socket. WhatsApp answers a picture query with 404
 * when there is no picture and 401 when the owner's privacy hides it: both read as "none".
 */
export class BaileysProfile implements WaProfileOps {
  constructor(
    private readonly socket: () => Socket,
    private readonly globalPresence: () => 'available' | 'unavailable',
  ) {}

  async ownProfile(): Promise<WaOwnProfile> {
    const sock = this.socket();
    const me = sock.authState.creds.me;
    const jid = normalizeJid(me?.id ?? '');
    const [about, pictureUrl] = await Promise.all([this.about(jid), this.profilePictureUrl(jid)]);
    return {
      ...(me?.name ? { name: me.name } : {}),
      ...(about.about !== undefined ? { about: about.about } : {}),
      ...(pictureUrl ? { pictureUrl } : {}),
    };
  }

  async updateProfileName(name: string): Promise<void> {
    const sock = this.socket();
    await sock.updateProfileName(name);
    // The server learns a push name from presence stanzas (app state is end-to-end encrypted);
    // the current global presence goes again, now with the new name.
    await sock.sendNode({ tag: 'presence', attrs: { name: name.replace(/@/g, ''), type: this.globalPresence() } });
    const me = sock.authState.creds.me;
    if (me && me.name !== name) sock.ev.emit('creds.update', { me: { ...me, name } });
  }

  async updateProfileAbout(about: string): Promise<void> {
    await this.socket().updateProfileStatus(about);
  }

  async updateProfilePicture(image: Buffer): Promise<void> {
    const sock = this.socket();
    await sock.updateProfilePicture(normalizeJid(sock.authState.creds.me?.id ?? ''), image);
  }

  async removeProfilePicture(): Promise<void> {
    const sock = this.socket();
    await sock.removeProfilePicture(normalizeJid(sock.authState.creds.me?.id ?? ''));
  }

  async privacySettings(): Promise<Partial<Record<WaPrivacyCategory, string>>> {
    return (await this.socket().fetchPrivacySettings(true)) as Partial<Record<WaPrivacyCategory, string>>;
  }

  async updatePrivacy(category: WaPrivacyCategory, value: string): Promise<void> {
    const sock = this.socket() as Socket & Record<string, (value: string) => Promise<void>>;
    const method = {
      last: 'updateLastSeenPrivacy',
      online: 'updateOnlinePrivacy',
      profile: 'updateProfilePicturePrivacy',
      status: 'updateStatusPrivacy',
      groupadd: 'updateGroupsAddPrivacy',
      readreceipts: 'updateReadReceiptsPrivacy',
      calladd: 'updateCallPrivacy',
    }[category];
    await sock[method]!(value);
  }

  async profilePictureUrl(jid: string): Promise<string | undefined> {
    try {
      return (await this.socket().profilePictureUrl(jid, 'image')) ?? undefined;
    } catch (err) {
      const code = codeOf(err);
      if (code === 404 || code === 401) return undefined;
      throw err;
    }
  }

  async about(jid: string): Promise<WaAbout> {
    const [entry] = (await this.socket().fetchStatus(jid)) ?? [];
    const result = entry?.status as { status?: string | null; setAt?: Date } | undefined;
    // Baileys reads WhatsApp's `code=401` (hidden by privacy) as an empty string, no about as null.
    if (result?.status === '') return { hidden: true };
    if (!result?.status) return { hidden: false };
    const setAtMs = result.setAt?.getTime();
    return { about: result.status, ...(setAtMs ? { setAtMs } : {}), hidden: false };
  }
}
