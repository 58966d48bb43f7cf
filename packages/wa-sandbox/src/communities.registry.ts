import type { BinaryNode } from './baileys.loader';

/** What makes a group part of a community. */
export interface CommunityFields {
  /** The group is a community (its parent group), with the approval mode new members get. */
  parent?: { approvalMode: string; nonAdminSubGroups: boolean };
  /** The community this group is linked to. */
  linkedParent?: string;
  /** The community's announcement group, created with it and never unlinked. */
  defaultSubGroup?: boolean;
}

interface CommunityMember {
  phone: { info: { lid: string; jid: string } };
}

interface CommunityGroup<A extends CommunityMember> extends CommunityFields {
  jid: string;
  subject: string;
  subjectAt: number;
  createdAt: number;
  creator: A;
  participants: A[];
  admins: Set<A>;
  announce: boolean;
  restrict: boolean;
  description?: { id: string; body: string; at: number; author: A };
}

/** What the communities need from the group registry they live in. */
export interface CommunityHost<A extends CommunityMember, G extends CommunityGroup<A>> {
  get(jid: string): G | undefined;
  all(): Iterable<G>;
  create(creator: A, subject: string, participants: A[]): G;
  groupNode(group: G): BinaryNode;
  participantNode(group: G, account: A): BinaryNode;
  /** A `w:gp2` notification from the group to the devices of `audience` (default: its members). */
  notify(group: G, author: A, change: BinaryNode, audience?: A[]): void;
}

type Reply = (content?: BinaryNode[]) => Promise<void>;
type Fail = (code: number, text: string) => Promise<void>;

const child = (node: BinaryNode | undefined, tag: string): BinaryNode | undefined =>
  Array.isArray(node?.content) ? node.content.find((item) => item.tag === tag) : undefined;
const children = (node: BinaryNode | undefined, tag: string): BinaryNode[] =>
  Array.isArray(node?.content) ? node.content.filter((item) => item.tag === tag) : [];
const unixNow = (): number => Math.floor(Date.now() / 1000);

/**
 * Communities as WhatsApp keeps them: a parent group whose members are everyone in its linked
 * groups, an announcement group created with it (only admins post), and existing groups linked
 * and unlinked by the community's admins, who must also be admins of the group they link.
 * Members hear of each change through `w:gp2` notifications: `<link>`/`<unlink>` with
 * `sub_group` from the community, `parent_group` from the group itself, and `add`/`remove`
 * (reason `linked_group_join`) as people join or leave the community with their group.
 */
export class CommunityRules<A extends CommunityMember, G extends CommunityGroup<A>> {
  constructor(private readonly host: CommunityHost<A, G>) {}

  /** The children of a group's node that say where it stands in a community. */
  nodeChildren(group: G): BinaryNode[] {
    return [
      ...(group.parent ? [{ tag: 'parent', attrs: { default_membership_approval_mode: group.parent.approvalMode } }] : []),
      ...(group.parent?.nonAdminSubGroups ? [{ tag: 'allow_non_admin_sub_group_creation', attrs: {} }] : []),
      ...(group.linkedParent ? [{ tag: 'linked_parent', attrs: { jid: group.linkedParent } }] : []),
      ...(group.defaultSubGroup ? [{ tag: 'default_sub_group', attrs: {} }] : []),
    ];
  }

  /** Nobody posts in the parent group itself: it has no chat. */
  refusesSender(group: G): boolean {
    return !!group.parent;
  }

  /** The announcement group of a community. */
  announcementGroup(community: G): G | undefined {
    return [...this.host.all()].find((g) => g.linkedParent === community.jid && g.defaultSubGroup);
  }

  /**
   * `<create subject><description/><parent default_membership_approval_mode/>...`: the community
   * and its announcement group, the creator the one admin of both; the creator's devices learn
   * of both groups. Answers the community's `<group>`.
   */
  async create(me: A, create: BinaryNode, reply: Reply): Promise<G> {
    const subject = create.attrs.subject ?? '';
    const community = this.host.create(me, subject, []);
    community.parent = { approvalMode: child(create, 'parent')?.attrs.default_membership_approval_mode ?? 'request_required', nonAdminSubGroups: !!child(create, 'allow_non_admin_sub_group_creation') };
    const description = child(create, 'description');
    const body = child(description, 'body')?.content;
    const text = body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : typeof body === 'string' ? body : '';
    if (text) community.description = { id: description?.attrs.id ?? String(Date.now()), body: text, at: unixNow(), author: me };
    const announcements = this.host.create(me, subject, []);
    Object.assign(announcements, { linkedParent: community.jid, defaultSubGroup: true, announce: true, restrict: true });
    await reply([this.host.groupNode(community)]);
    for (const group of [community, announcements]) this.host.notify(group, me, { tag: 'create', attrs: {}, content: [this.host.groupNode(group)] });
    return community;
  }

  /**
   * The community iqs (`links`, `unlink`, `sub_groups`) of a member of `community`; false for any
   * other iq. The registry has already answered an unknown group and a non-member.
   */
  async onIq(me: A, community: G, first: BinaryNode, reply: Reply, fail: Fail): Promise<boolean> {
    if (first.tag !== 'links' && first.tag !== 'unlink' && first.tag !== 'sub_groups') return false;
    if (!community.parent) {
      await fail(400, 'bad-request');
      return true;
    }
    if (first.tag === 'sub_groups') {
      await reply([{ tag: 'sub_groups', attrs: {}, content: this.linkedGroups(community).map((g) => this.subGroupNode(g)) }]);
      return true;
    }
    if (!community.admins.has(me)) {
      await fail(401, 'not-authorized');
      return true;
    }
    if (first.tag === 'links') await this.link(me, community, first, reply, fail);
    else await this.unlink(me, community, first, reply, fail);
    return true;
  }

  /** People who joined a linked group (added, approved, by invite) join its community too. */
  joinedLinkedGroup(group: G, accounts: A[], author: A): void {
    const community = group.linkedParent ? this.host.get(group.linkedParent) : undefined;
    if (community) this.joinCommunity(community, accounts, author);
  }

  private linkedGroups(community: G): G[] {
    return [...this.host.all()].filter((g) => g.linkedParent === community.jid);
  }

  private async link(me: A, community: G, first: BinaryNode, reply: Reply, fail: Fail): Promise<void> {
    const links = children(first, 'link');
    const requested = links.flatMap((l) => children(l, 'group').map((g) => ({ type: l.attrs.link_type, jid: g.attrs.jid ?? '' })));
    if (!requested.length || requested.some((r) => r.type !== 'sub_group')) return fail(400, 'bad-request');
    const groups: G[] = [];
    // WhatsApp checks every group before it links any.
    for (const { jid } of requested) {
      const group = this.host.get(jid);
      if (!group) return fail(404, 'item-not-found');
      if (group.parent || group.defaultSubGroup) return fail(400, 'bad-request');
      if (!group.participants.includes(me) || !group.admins.has(me)) return fail(401, 'not-authorized');
      if (group.linkedParent && group.linkedParent !== community.jid) return fail(409, 'conflict');
      if (group.linkedParent !== community.jid && !groups.includes(group)) groups.push(group);
    }
    await reply([{ tag: 'links', attrs: {}, content: [{ tag: 'link', attrs: { link_type: 'sub_group' }, content: requested.map(({ jid }) => ({ tag: 'group', attrs: { jid } })) }] }]);
    for (const group of groups) {
      group.linkedParent = community.jid;
      this.joinCommunity(community, group.participants, me);
      this.host.notify(community, me, { tag: 'link', attrs: { link_type: 'sub_group' }, content: [this.targetNode(group)] });
      this.host.notify(group, me, { tag: 'link', attrs: { link_type: 'parent_group' }, content: [this.targetNode(community)] });
    }
  }

  private async unlink(me: A, community: G, first: BinaryNode, reply: Reply, fail: Fail): Promise<void> {
    if (first.attrs.unlink_type !== 'sub_group') return fail(400, 'bad-request');
    const groups: G[] = [];
    for (const item of children(first, 'group')) {
      const group = this.host.get(item.attrs.jid ?? '');
      if (!group || group.linkedParent !== community.jid) return fail(404, 'item-not-found');
      if (group.defaultSubGroup) return fail(400, 'bad-request');
      if (!groups.includes(group)) groups.push(group);
    }
    if (!groups.length) return fail(400, 'bad-request');
    await reply([{ tag: 'unlink', attrs: { unlink_type: 'sub_group' }, content: groups.map((g) => ({ tag: 'group', attrs: { jid: g.jid } })) }]);
    for (const group of groups) {
      group.linkedParent = undefined;
      const reason = { unlink_reason: 'unlink_group' };
      this.host.notify(community, me, { tag: 'unlink', attrs: { unlink_type: 'sub_group', ...reason }, content: [this.targetNode(group)] });
      this.host.notify(group, me, { tag: 'unlink', attrs: { unlink_type: 'parent_group', ...reason }, content: [this.targetNode(community)] });
    }
    this.dropStrays(community, me);
  }

  /** Newcomers become members of the community and of its announcement group. */
  private joinCommunity(community: G, accounts: A[], author: A): void {
    const announcements = this.announcementGroup(community);
    for (const group of [community, announcements]) {
      if (!group) continue;
      const newcomers = accounts.filter((a) => !group.participants.includes(a));
      if (!newcomers.length) continue;
      group.participants.push(...newcomers);
      this.host.notify(group, author, { tag: 'add', attrs: { reason: 'linked_group_join' }, content: newcomers.map((a) => this.host.participantNode(group, a)) });
    }
  }

  /** Who is in no linked group any more (and administers nothing) leaves the community. */
  private dropStrays(community: G, author: A): void {
    const linked = this.linkedGroups(community).filter((g) => !g.defaultSubGroup);
    const strays = community.participants.filter((a) => !community.admins.has(a) && !linked.some((g) => g.participants.includes(a)));
    if (!strays.length) return;
    for (const group of [community, this.announcementGroup(community)]) {
      if (!group) continue;
      const before = [...group.participants];
      const leaving = strays.filter((a) => before.includes(a));
      if (!leaving.length) continue;
      const change: BinaryNode = { tag: 'remove', attrs: { reason: 'unlink_group' }, content: leaving.map((a) => this.host.participantNode(group, a)) };
      group.participants = before.filter((a) => !leaving.includes(a));
      for (const a of leaving) group.admins.delete(a);
      this.host.notify(group, author, change, before);
    }
  }

  /** A group as `<link>`/`<unlink>` notifications name it. */
  private targetNode(group: G): BinaryNode {
    return { tag: 'group', attrs: { jid: group.jid, subject: group.subject, s_t: String(group.subjectAt) } };
  }

  /** A linked group as the `sub_groups` answer lists it; the announcement group is marked. */
  private subGroupNode(group: G): BinaryNode {
    return {
      tag: 'group',
      attrs: {
        id: group.jid.split('@')[0] ?? group.jid,
        jid: group.jid,
        subject: group.subject,
        s_t: String(group.subjectAt),
        creation: String(group.createdAt),
        creator: group.creator.phone.info.lid,
        size: String(group.participants.length),
      },
      ...(group.defaultSubGroup ? { content: [{ tag: 'default_sub_group', attrs: {} }] } : {}),
    };
  }
}
