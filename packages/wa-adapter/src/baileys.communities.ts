import { AppError, normalizeJid } from '@wa/domain';
import type { GroupMetadata } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };
import type { BaileysModule } from './baileys.loader';
import type { WaCommunity, WaCommunityOps, WaCommunityUpdate, WaLinkedGroup } from './wa-communities.port';

type Socket = ReturnType<BaileysModule['makeWASocket']>;
type Node = { tag: string; attrs: Record<string, string>; content?: unknown };

const childOf = (node: Node | undefined, tag: string): Node | undefined =>
  Array.isArray(node?.content) ? (node.content as Node[]).find((c) => c.tag === tag) : undefined;
const childrenOf = (node: Node | undefined, tag: string): Node[] =>
  Array.isArray(node?.content) ? (node.content as Node[]).filter((c) => c.tag === tag) : [];
const seconds = (value: string | number | undefined): number | undefined => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n * 1000 : undefined;
};

/** Communities through Baileys' community queries, and the sub-group list read in full. */
export class BaileysCommunities implements WaCommunityOps {
  constructor(
    private readonly socket: () => Socket,
    private readonly changed: (groupJid: string) => Promise<void>,
  ) {}

  async createCommunity(subject: string, description?: string): Promise<WaCommunity> {
    // rc14 answers null when it cannot read the new community back (it swallows that error).
    const created = await this.socket().communityCreate(subject, description ?? '');
    if (!created?.id) throw new AppError('internal_error', 'WhatsApp did not answer the new community');
    return this.community(created.id);
  }

  async community(communityJid: string): Promise<WaCommunity> {
    const metadata = await this.socket().groupMetadata(communityJid);
    if (!metadata.isCommunity) throw new AppError('not_found', 'this group is not a community', { community: communityJid });
    const linkedGroups = await this.linkedGroups(communityJid);
    const announcement = linkedGroups.find((g) => g.announcement)?.jid;
    return { ...toCommunity(metadata), ...(announcement ? { announcementGroup: announcement } : {}), linkedGroups };
  }

  async listCommunities(): Promise<WaCommunity[]> {
    const groups = Object.values(await this.socket().groupFetchAllParticipating());
    return groups
      .filter((g) => g.isCommunity)
      .map((c) => {
        const announcement = groups.find((g) => g.isCommunityAnnounce && g.linkedParent === c.id)?.id;
        return { ...toCommunity(c), ...(announcement ? { announcementGroup: normalizeJid(announcement) } : {}) };
      });
  }

  async linkCommunityGroup(communityJid: string, groupJid: string): Promise<void> {
    try {
      await this.socket().communityLinkGroup(groupJid, communityJid);
    } finally {
      await this.changed(groupJid);
      await this.changed(communityJid);
    }
  }

  async unlinkCommunityGroup(communityJid: string, groupJid: string): Promise<void> {
    try {
      await this.socket().communityUnlinkGroup(groupJid, communityJid);
    } finally {
      await this.changed(groupJid);
      await this.changed(communityJid);
    }
  }

  /**
   * The same `<sub_groups>` query as rc14's `communityFetchLinkedGroups`, read here because that
   * one drops the `<default_sub_group>` mark that tells the announcement group apart (and first
   * asks for the metadata we already have).
   */
  private async linkedGroups(communityJid: string): Promise<WaLinkedGroup[]> {
    const result = (await this.socket().query({ tag: 'iq', attrs: { type: 'get', xmlns: 'w:g2', to: communityJid }, content: [{ tag: 'sub_groups', attrs: {} }] })) as Node;
    return childrenOf(childOf(result, 'sub_groups'), 'group').flatMap((g): WaLinkedGroup[] => {
      const jid = g.attrs.jid ?? (g.attrs.id ? `${g.attrs.id}@g.us` : undefined);
      if (!jid) return [];
      const size = Number(g.attrs.size);
      const createdAtMs = seconds(g.attrs.creation);
      return [{
        jid: normalizeJid(jid),
        subject: g.attrs.subject ?? '',
        announcement: !!childOf(g, 'default_sub_group'),
        ...(Number.isFinite(size) && g.attrs.size ? { size } : {}),
        ...(createdAtMs ? { createdAtMs } : {}),
      }];
    });
  }
}

function toCommunity(metadata: GroupMetadata): WaCommunity {
  const createdAtMs = seconds(metadata.creation);
  return {
    jid: normalizeJid(metadata.id),
    subject: metadata.subject,
    ...(metadata.desc ? { description: metadata.desc } : {}),
    ...(metadata.owner ? { owner: normalizeJid(metadata.owner) } : {}),
    ...(createdAtMs ? { createdAtMs } : {}),
  };
}

/**
 * rc14 turns no `<link>`/`<unlink>` notification into anything, so they are read from the
 * stanza. The community's members hear of it as `sub_group` from the community, and that is the
 * one reported; the linked group's members hear `parent_group` from the group (they are the
 * community's members too, so they got the first), which only refreshes that group's metadata.
 */
export function attachCommunityLinks(sock: Socket, changed: (jid: string) => Promise<void>, emit: (update: WaCommunityUpdate) => void): () => void {
  const handlers = (['link', 'unlink'] as const).map((tag) => {
    const event = `CB:notification,type:w:gp2,${tag}`;
    const handler = (node: Node): void => {
      const from = node.attrs.from;
      const change = childOf(node, tag);
      const group = childOf(change, 'group');
      if (!from || !change || !group?.attrs.jid) return;
      void changed(from).catch(() => undefined);
      void changed(group.attrs.jid).catch(() => undefined);
      if ((tag === 'link' ? change.attrs.link_type : change.attrs.unlink_type) !== 'sub_group') return;
      emit({
        communityJid: normalizeJid(from),
        action: tag === 'link' ? 'linked' : 'unlinked',
        group: { jid: normalizeJid(group.attrs.jid), ...(group.attrs.subject ? { subject: group.attrs.subject } : {}) },
        ...(tag === 'unlink' && change.attrs.unlink_reason ? { reason: change.attrs.unlink_reason } : {}),
        ...(node.attrs.participant ? { author: normalizeJid(node.attrs.participant) } : {}),
        ...(node.attrs.participant_pn ? { authorPn: normalizeJid(node.attrs.participant_pn) } : {}),
        timestampMs: seconds(node.attrs.t) ?? Date.now(),
      });
    };
    sock.ws.on(event, handler);
    return () => void sock.ws.off(event, handler);
  });
  return () => handlers.forEach((off) => off());
}
