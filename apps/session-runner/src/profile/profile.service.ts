import { Injectable } from '@nestjs/common';
import {
  PRIVACY_SETTINGS,
  type ContactAboutResult,
  type ContactPictureResult,
  type ContactProfilePayload,
  type PrivacySettingName,
  type PrivacySettings,
  type PrivacyUpdatePayload,
  type ProfilePictureSetPayload,
  type ProfileResult,
  type ProfileUpdatePayload,
  type SessionRef,
} from '@wa/contracts/runtime';
import { AppError, isGroupJid } from '@wa/domain';
import type { WaPrivacyCategory } from '@wa/wa-adapter';
import { SessionManager } from '../sessions/session-manager';
import { MediaDownloader } from '../messaging/media-downloader';
import { toJid } from '../messaging/jid.resolve';

function codeOf(err: unknown): number | undefined {
  const boom = err as { output?: { statusCode?: number }; data?: unknown };
  return typeof boom.data === 'number' ? boom.data : boom.output?.statusCode;
}

/** WhatsApp's refusals of a profile change, as the caller caused them. */
function fromWhatsApp(err: unknown, what: string): never {
  if (err instanceof AppError) throw err;
  const code = codeOf(err);
  if (code === 400 || code === 406) throw new AppError('validation_error', `WhatsApp rejected the ${what}`, { whatsapp: code });
  if (code === 401 || code === 403) throw new AppError('forbidden', `WhatsApp refused the ${what}`, { whatsapp: code });
  throw err;
}

const CATEGORY_NAMES = Object.fromEntries(Object.entries(PRIVACY_SETTINGS).map(([name, s]) => [s.category, name])) as Record<WaPrivacyCategory, PrivacySettingName>;

/**
 * Our profile and privacy, and contacts' profiles, over the session's live connection. The
 * gateway checked the session against the org; `connected` checks it again and answers
 * `session_not_connected` for one that is not running here.
 */
@Injectable()
export class ProfileService {
  constructor(
    private readonly sessions: SessionManager,
    private readonly media: MediaDownloader,
  ) {}

  async get(p: SessionRef): Promise<ProfileResult> {
    return this.sessions.connected(p).ownProfile();
  }

  async update(p: ProfileUpdatePayload): Promise<ProfileResult> {
    const connection = this.sessions.connected(p);
    try {
      if (p.name !== undefined) await connection.updateProfileName(p.name);
      if (p.about !== undefined) await connection.updateProfileAbout(p.about);
    } catch (err) {
      fromWhatsApp(err, 'profile change');
    }
    return connection.ownProfile();
  }

  async setPicture(p: ProfilePictureSetPayload): Promise<ProfileResult> {
    const connection = this.sessions.connected(p);
    const image = 'url' in p ? await this.media.fetchBytes(p.url) : Buffer.from(p.base64, 'base64');
    try {
      await connection.updateProfilePicture(image);
    } catch (err) {
      if (typeof (err as { data?: unknown }).data === 'number') fromWhatsApp(err, 'profile picture');
      // The image library refuses what it cannot read before anything reaches WhatsApp.
      if (!(err instanceof AppError) && !(err as { isBoom?: boolean }).isBoom) {
        throw new AppError('validation_error', 'invalid request: the picture is not an image this server can read (JPEG, PNG, WebP, ...)', { fields: [{ field: 'url' in p ? 'url' : 'base64', problems: ['not a readable image'] }] });
      }
      throw err;
    }
    return connection.ownProfile();
  }

  async removePicture(p: SessionRef): Promise<Record<string, never>> {
    try {
      await this.sessions.connected(p).removeProfilePicture();
    } catch (err) {
      fromWhatsApp(err, 'profile picture removal');
    }
    return {};
  }

  async privacy(p: SessionRef): Promise<PrivacySettings> {
    return this.toSettings(await this.sessions.connected(p).privacySettings());
  }

  async updatePrivacy(p: PrivacyUpdatePayload): Promise<PrivacySettings> {
    const connection = this.sessions.connected(p);
    for (const [name, value] of Object.entries(p.settings) as [PrivacySettingName, string][]) {
      const setting = PRIVACY_SETTINGS[name];
      if (!setting || !(setting.values as readonly string[]).includes(value)) {
        throw new AppError('validation_error', `invalid request: ${name}: not a value WhatsApp knows`, { fields: [{ field: name, problems: ['unknown value'] }] });
      }
      try {
        await connection.updatePrivacy(setting.category, value);
      } catch (err) {
        fromWhatsApp(err, `privacy setting ${name}`);
      }
    }
    return this.toSettings(await connection.privacySettings());
  }

  async contactPicture(p: ContactProfilePayload): Promise<ContactPictureResult> {
    const jid = this.contactJid(p.jid);
    const url = await this.sessions.connected(p).profilePictureUrl(jid);
    return { jid, url: url ?? null };
  }

  async contactAbout(p: ContactProfilePayload): Promise<ContactAboutResult> {
    const jid = this.contactJid(p.jid);
    const about = await this.sessions.connected(p).about(jid);
    return { jid, about: about.about ?? null, ...(about.setAtMs ? { setAt: about.setAtMs } : {}), hidden: about.hidden };
  }

  private contactJid(value: string): string {
    const jid = toJid(value, 'jid');
    if (isGroupJid(jid) || !/@(s\.whatsapp\.net|lid)$/.test(jid)) throw new AppError('validation_error', 'invalid request: jid: a contact is a @s.whatsapp.net or @lid address', { fields: [{ field: 'jid', problems: ['not a contact address'] }] });
    return jid;
  }

  private toSettings(raw: Partial<Record<WaPrivacyCategory, string>>): PrivacySettings {
    const settings: Record<string, string> = {};
    for (const [category, value] of Object.entries(raw)) {
      const name = CATEGORY_NAMES[category as WaPrivacyCategory];
      if (name && value) settings[name] = value;
    }
    return settings as PrivacySettings;
  }
}
