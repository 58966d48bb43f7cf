/** A group linked to a community; the announcement group is marked. */
export interface WaLinkedGroup {
  jid: string;
  subject: string;
  /** The community's announcement group (only admins post there). */
  announcement: boolean;
  size?: number;
  createdAtMs?: number;
}

export interface WaCommunity {
  jid: string;
  subject: string;
  description?: string;
  owner?: string;
  createdAtMs?: number;
  /** The community's announcement group, when the account can see it. */
  announcementGroup?: string;
  /** Every linked group, the announcement group included; absent in lists. */
  linkedGroups?: WaLinkedGroup[];
}

/** A group was linked to a community or unlinked from it (as the community's members hear of it). */
export interface WaCommunityUpdate {
  communityJid: string;
  action: 'linked' | 'unlinked';
  group: { jid: string; subject?: string };
  /** Why a group left: `unlink_group` (an admin unlinked it), `delete_parent` (the community was deleted). */
  reason?: string;
  author?: string;
  authorPn?: string;
  timestampMs: number;
}

export interface WaCommunityOps {
  /** Creates a community; WhatsApp creates its announcement group with it. */
  createCommunity(subject: string, description?: string): Promise<WaCommunity>;
  /** A community with its linked groups; an AppError `not_found` when the JID is a plain group. */
  community(communityJid: string): Promise<WaCommunity>;
  /** The communities the account is in, without their linked groups. */
  listCommunities(): Promise<WaCommunity[]>;
  linkCommunityGroup(communityJid: string, groupJid: string): Promise<void>;
  unlinkCommunityGroup(communityJid: string, groupJid: string): Promise<void>;
}
