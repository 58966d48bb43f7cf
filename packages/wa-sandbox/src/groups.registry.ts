import { randomBytes, randomInt } from 'node:crypto';
import type { BinaryNode } from './baileys.loader';
import { CommunityRules, type CommunityFields } from './communities.registry';
import type { IqAnswer } from './profile.directory';
import type { GroupInfo, PhoneInfo } from './sandbox.types';

/** Whoever can be in a group: a virtual phone's account. */
export interface GroupMember {
  phone: { info: PhoneInfo };
}

export interface Group<A extends GroupMember> extends CommunityFields {
  jid: string;
  subject: string;
  subjectOwner: A;
  subjectAt: number;
  creator: A;
  participants: A[];
  /** The creator starts as the one (super)admin. */
  admins: Set<A>;
  description?: { id: string; body: string; at: number; author: A };
  /** Only admins may send. */
  announce: boolean;
  /** Only admins may change the group's info (subject, description, picture). */
  restrict: boolean;
  /** Members may add participants (`member_add_mode` `all_member_add`). */
  memberAdd: boolean;
  /** Joining by link needs an admin's approval (`membership_approval_mode`). */
  joinApproval?: boolean;
  /** Disappearing messages, in seconds; 0 or absent: off. */
  ephemeral?: number;
  inviteCode: string;
  createdAt: number;
  /** The picture's id while it has one (the JPEG is kept by the profile directory, under the group's id). */
  pictureId?: string;
  /** Requests to join waiting for an admin (join approval on), with when and how they came. */
  requests: Map<A, { at: number; method: string }>;
}

/** What the registry needs from the server around it. */
export interface GroupContext<A extends GroupMember> {
  accountFor(jid: string): A | undefined;
  /** Hands a stanza to every linked device of the account. */
  toDevices(account: A, stanza: BinaryNode): void;
  nextId(): string;
  /** Whether `account`'s "who can add me to groups" privacy setting lets `adder` add them. */
  mayAdd(account: A, adder: A): boolean;
  /** Keeps a group's picture (undefined removes it) and answers its new id. */
  storePicture(groupId: string, jpeg: Buffer | undefined): string | undefined;
  /** Where a group's current picture is served. */
  pictureUrl(groupId: string, pictureId: string): string;
}

export type IqReply = (content?: BinaryNode[]) => Promise<void>;
export type IqFail = (code: number, text: string) => Promise<void>;

const child = (node: BinaryNode | undefined, tag: string): BinaryNode | undefined =>
  Array.isArray(node?.content) ? node.content.find((item) => item.tag === tag) : undefined;
const children = (node: BinaryNode | undefined, tag: string): BinaryNode[] =>
  Array.isArray(node?.content) ? node.content.filter((item) => item.tag === tag) : [];
const bytes = (node: BinaryNode | undefined): Buffer | undefined =>
  node?.content instanceof Uint8Array ? Buffer.from(node.content) : typeof node?.content === 'string' ? Buffer.from(node.content) : undefined;
const unixNow = (): number => Math.floor(Date.now() / 1000);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/** 22 base62 characters, like WhatsApp's invite codes. */
export function newInviteCode(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return Array.from(randomBytes(22), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * The server's groups: who is in them and who administers them, their settings and invite
 * codes, and the `w:g2` iqs answered as WhatsApp does: `item-not-found` (404) for an unknown
 * group, `forbidden` (403) to a non-member, `not-authorized` (401) to a member who is no admin
 * where only admins may act. Each change goes out as a notification to every member's devices.
 */
export class GroupRegistry<A extends GroupMember> {
  private readonly groups = new Map<string, Group<A>>();
  /** Invite codes an admin revoked: joining with one answers `gone` rather than `not-acceptable`. */
  private readonly revokedInvites = new Set<string>();
  private readonly communities = new CommunityRules<A, Group<A>>(this);

  constructor(private readonly ctx: GroupContext<A>) {}

  get(jid: string): Group<A> | undefined {
    return this.groups.get(jid);
  }

  all(): Iterable<Group<A>> {
    return this.groups.values();
  }

  create(creator: A, subject: string, participants: A[]): Group<A> {
    const now = unixNow();
    const group: Group<A> = {
      jid: `120363${randomInt(100_000_000, 999_999_999)}${randomInt(100_000, 999_999)}@g.us`,
      subject,
      subjectOwner: creator,
      subjectAt: now,
      creator,
      participants: [creator, ...participants.filter((a) => a !== creator)],
      admins: new Set([creator]),
      announce: false,
      restrict: false,
      memberAdd: false,
      inviteCode: newInviteCode(),
      createdAt: now,
      requests: new Map(),
    };
    this.groups.set(group.jid, group);
    return group;
  }

  describe(group: Group<A>): GroupInfo {
    return {
      jid: group.jid,
      subject: group.subject,
      participants: group.participants.map((a) => a.phone.info.lid),
      admins: group.participants.filter((a) => group.admins.has(a)).map((a) => a.phone.info.lid),
      ...(group.description ? { description: group.description.body } : {}),
      announce: group.announce,
      restrict: group.restrict,
      inviteCode: group.inviteCode,
      ...(group.pictureId ? { pictureId: group.pictureId } : {}),
      ...(group.parent ? { community: true, announcementGroup: this.communities.announcementGroup(group)?.jid } : {}),
      ...(group.linkedParent ? { linkedParent: group.linkedParent } : {}),
      ...(group.defaultSubGroup ? { defaultSubGroup: true } : {}),
    };
  }

  /** Where only admins may send and the sender is none, WhatsApp refuses the message with an error ack. */
  refusesSender(group: Group<A>, account: A): boolean {
    return !group.participants.includes(account) || (group.announce && !group.admins.has(account)) || this.communities.refusesSender(group);
  }

  /**
   * `xmlns=w:profile:picture` with a group as `target`. Setting or removing needs membership and,
   * in a `locked` group, an admin; every member's devices get WhatsApp's `picture` notification.
   * Reading answers 404 while the group has no picture.
   */
  pictureIq(me: A, node: BinaryNode, target: string): IqAnswer {
    const group = this.groups.get(target);
    if (!group) return { error: { code: 404, text: 'item-not-found' } };
    if (!group.participants.includes(me)) return { error: { code: 403, text: 'forbidden' } };
    const groupId = group.jid.split('@')[0]!;
    if (node.attrs.type !== 'set') {
      if (!group.pictureId) return { error: { code: 404, text: 'item-not-found' } };
      const type = child(node, 'picture')?.attrs.type ?? 'preview';
      const url = this.ctx.pictureUrl(groupId, group.pictureId);
      return { content: [{ tag: 'picture', attrs: { id: group.pictureId, type, url, direct_path: new URL(url).pathname } }] };
    }
    if (group.restrict && !group.admins.has(me)) return { error: { code: 401, text: 'not-authorized' } };
    const jpeg = bytes(child(node, 'picture'));
    if (jpeg && !jpeg.subarray(0, 3).equals(JPEG_MAGIC)) return { error: { code: 406, text: 'not-acceptable' } };
    if (!jpeg && !group.pictureId) return {};
    group.pictureId = this.ctx.storePicture(groupId, jpeg);
    const author = me.phone.info.lid;
    const change: BinaryNode = group.pictureId
      ? { tag: 'set', attrs: { jid: group.jid, id: group.pictureId, author } }
      : { tag: 'delete', attrs: { jid: group.jid, author } };
    const stanza: BinaryNode = { tag: 'notification', attrs: { from: group.jid, type: 'picture', id: this.ctx.nextId(), t: String(unixNow()) }, content: [change] };
    for (const account of group.participants) this.ctx.toDevices(account, stanza);
    return group.pictureId ? { content: [{ tag: 'picture', attrs: { id: group.pictureId } }] } : {};
  }

  /** The `w:g2` iqs of one member's device. */
  async onIq(me: A, node: BinaryNode, reply: IqReply, fail: IqFail): Promise<void> {
    const first = Array.isArray(node.content) ? node.content[0] : undefined;
    const set = node.attrs.type === 'set';

    if (first?.tag === 'create' && child(first, 'parent')) {
      await this.communities.create(me, first, reply);
      return;
    }
    if (first?.tag === 'create') {
      const participants = children(first, 'participant').map((p) => this.ctx.accountFor(p.attrs.jid ?? '')).filter((a): a is A => !!a);
      const group = this.create(me, first.attrs.subject ?? '', participants);
      await reply([this.groupNode(group)]);
      // Every member's devices (the creator's other ones too) learn of the new group.
      this.notify(group, me, { tag: 'create', attrs: {}, content: [this.groupNode(group)] });
      return;
    }
    if (first?.tag === 'participating') {
      const mine = [...this.groups.values()].filter((g) => g.participants.includes(me));
      return reply([{ tag: 'groups', attrs: {}, content: mine.map((g) => this.groupNode(g)) }]);
    }
    if (first?.tag === 'leave') {
      const left: BinaryNode[] = [];
      for (const item of children(first, 'group')) {
        const group = this.groups.get(item.attrs.id ?? '');
        if (!group || !group.participants.includes(me)) return fail(404, 'item-not-found');
        const before = [...group.participants];
        this.dropMembers(group, [me]);
        this.notify(group, me, { tag: 'remove', attrs: {}, content: [this.participantNode(group, me)] }, before);
        left.push({ tag: 'group', attrs: { id: group.jid } });
      }
      return reply([{ tag: 'leave', attrs: {}, content: left }]);
    }
    if (first?.tag === 'invite' && first.attrs.code !== undefined && (node.attrs.to ?? '@g.us') === '@g.us') {
      const code = first.attrs.code;
      const group = [...this.groups.values()].find((g) => g.inviteCode === code);
      if (!group) return this.revokedInvites.has(code) ? fail(410, 'gone') : fail(406, 'not-acceptable');
      if (!set) return reply([this.groupNode(group)]);
      if (group.joinApproval && !group.participants.includes(me)) {
        // The join waits for an admin: WhatsApp files a request, answers it in place of the group,
        // and tells the admins' devices who asked.
        if (!group.requests.has(me)) {
          group.requests.set(me, { at: unixNow(), method: 'invite_link' });
          this.notify(group, me, { tag: 'membership_approval_request', attrs: { request_method: 'invite_link' } }, [...group.admins]);
        }
        return reply([{ tag: 'membership_approval_request', attrs: { jid: group.jid } }]);
      }
      if (!group.participants.includes(me)) {
        group.participants.push(me);
        this.notify(group, me, { tag: 'add', attrs: { reason: 'invite' }, content: [this.participantNode(group, me)] });
        this.communities.joinedLinkedGroup(group, [me], me);
      }
      return reply([{ tag: 'group', attrs: { jid: group.jid } }]);
    }

    const group = this.groups.get(node.attrs.to ?? '');
    if (!group) return fail(404, 'item-not-found');
    if (!group.participants.includes(me)) return fail(403, 'forbidden');
    const admin = group.admins.has(me);
    if (first?.tag === 'query') return reply([this.groupNode(group)]);
    if (first && (await this.communities.onIq(me, group, first, reply, fail))) return;

    switch (first?.tag) {
      case 'subject': {
        if (group.restrict && !admin) return fail(401, 'not-authorized');
        const subject = bytes(first)?.toString('utf8') ?? '';
        if (!subject.trim() || subject.length > 100) return fail(400, 'bad-request');
        group.subject = subject;
        group.subjectOwner = me;
        group.subjectAt = unixNow();
        await reply();
        this.notify(group, me, { tag: 'subject', attrs: { subject, s_o: me.phone.info.lid, s_t: String(group.subjectAt) } });
        return;
      }
      case 'description': {
        if (group.restrict && !admin) return fail(401, 'not-authorized');
        if ((first.attrs.prev ?? '') !== (group.description?.id ?? '')) return fail(409, 'conflict');
        const body = bytes(child(first, 'body'))?.toString('utf8');
        const id = first.attrs.id ?? this.ctx.nextId();
        group.description = first.attrs.delete === 'true' || !body ? undefined : { id, body, at: unixNow(), author: me };
        await reply();
        this.notify(
          group,
          me,
          group.description
            ? { tag: 'description', attrs: { id }, content: [{ tag: 'body', attrs: {}, content: Buffer.from(group.description.body) }] }
            : { tag: 'description', attrs: { id, delete: 'true' } },
        );
        return;
      }
      case 'announcement':
      case 'not_announcement':
      case 'locked':
      case 'unlocked': {
        if (!admin) return fail(401, 'not-authorized');
        if (first.tag === 'announcement' || first.tag === 'not_announcement') group.announce = first.tag === 'announcement';
        else group.restrict = first.tag === 'locked';
        await reply();
        this.notify(group, me, { tag: first.tag, attrs: {} });
        return;
      }
      case 'member_add_mode': {
        if (!admin) return fail(401, 'not-authorized');
        group.memberAdd = bytes(first)?.toString('utf8') === 'all_member_add';
        await reply();
        this.notify(group, me, { tag: 'member_add_mode', attrs: {}, content: Buffer.from(group.memberAdd ? 'all_member_add' : 'admin_add') });
        return;
      }
      case 'membership_approval_mode': {
        if (!admin) return fail(401, 'not-authorized');
        const state = child(first, 'group_join')?.attrs.state;
        if (state !== 'on' && state !== 'off') return fail(400, 'bad-request');
        group.joinApproval = state === 'on';
        await reply();
        this.notify(group, me, { tag: 'membership_approval_mode', attrs: {}, content: [{ tag: 'group_join', attrs: { state } }] });
        return;
      }
      case 'ephemeral':
      case 'not_ephemeral': {
        if (group.restrict && !admin) return fail(401, 'not-authorized');
        const expiration = first.tag === 'ephemeral' ? Number(first.attrs.expiration) : 0;
        if (!Number.isInteger(expiration) || expiration < 0) return fail(400, 'bad-request');
        group.ephemeral = expiration;
        await reply();
        this.notify(group, me, expiration ? { tag: 'ephemeral', attrs: { expiration: String(expiration) } } : { tag: 'not_ephemeral', attrs: {} });
        return;
      }
      case 'invite': {
        if (!admin) return fail(401, 'not-authorized');
        if (set) {
          this.revokedInvites.add(group.inviteCode);
          group.inviteCode = newInviteCode();
        }
        return reply([{ tag: 'invite', attrs: { code: group.inviteCode } }]);
      }
      case 'add':
      case 'remove':
      case 'promote':
      case 'demote':
        return this.changeParticipants(group, me, first, reply, fail);
      case 'membership_approval_requests': {
        if (!admin) return fail(401, 'not-authorized');
        const requests = [...group.requests].map(([account, r]): BinaryNode => ({
          tag: 'membership_approval_request',
          attrs: { jid: account.phone.info.lid, phone_number: account.phone.info.jid, request_method: r.method, request_time: String(r.at) },
        }));
        return reply([{ tag: 'membership_approval_requests', attrs: {}, content: requests }]);
      }
      case 'membership_requests_action':
        return this.answerRequests(group, me, first, reply, fail);
      default:
        return fail(400, 'bad-request');
    }
  }

  private async changeParticipants(group: Group<A>, me: A, first: BinaryNode, reply: IqReply, fail: IqFail): Promise<void> {
    const admin = group.admins.has(me);
    if (!admin && !(first.tag === 'add' && group.memberAdd)) return fail(401, 'not-authorized');
    const action = first.tag;
    const before = [...group.participants];
    const done: A[] = [];
    const results = children(first, 'participant').map((p): BinaryNode => {
      const jid = p.attrs.jid ?? '';
      const account = this.ctx.accountFor(jid);
      if (!account) return { tag: 'participant', attrs: { jid, error: '404' } };
      const member = group.participants.includes(account);
      if (action === 'add') {
        if (member) return { tag: 'participant', attrs: { jid, error: '409' } };
        // Their "who can add me to groups" setting keeps out whoever it does not allow: the
        // adder gets an invite to send them instead.
        if (!this.ctx.mayAdd(account, me)) {
          const expiration = String(unixNow() + 3 * 24 * 3600);
          return { tag: 'participant', attrs: { jid, error: '403' }, content: [{ tag: 'add_request', attrs: { code: newInviteCode(), expiration } }] };
        }
        group.participants.push(account);
      } else if (!member) {
        return { tag: 'participant', attrs: { jid, error: '404' } };
      } else if (action === 'remove') {
        if (account === group.creator && account !== me) return { tag: 'participant', attrs: { jid, error: '406' } };
        this.dropMembers(group, [account]);
      } else if (action === 'promote') {
        group.admins.add(account);
      } else {
        if (account === group.creator && account !== me) return { tag: 'participant', attrs: { jid, error: '406' } };
        group.admins.delete(account);
      }
      done.push(account);
      return { tag: 'participant', attrs: { jid } };
    });
    await reply([{ tag: action, attrs: {}, content: results }]);
    if (done.length) this.notify(group, me, { tag: action, attrs: {}, content: done.map((a) => this.participantNode(group, a)) }, action === 'remove' ? before : undefined);
    if (action === 'add' && done.length) this.communities.joinedLinkedGroup(group, done, me);
  }

  /**
   * An admin approves (the requesters join; every member hears of the `add`) or rejects (the
   * admins hear of it as `revoked_membership_requests`) pending requests; `404` for a
   * participant without one.
   */
  private async answerRequests(group: Group<A>, me: A, first: BinaryNode, reply: IqReply, fail: IqFail): Promise<void> {
    if (!group.admins.has(me)) return fail(401, 'not-authorized');
    const decision = Array.isArray(first.content) ? first.content[0] : undefined;
    if (decision?.tag !== 'approve' && decision?.tag !== 'reject') return fail(400, 'bad-request');
    const done: A[] = [];
    const results = children(decision, 'participant').map((p): BinaryNode => {
      const jid = p.attrs.jid ?? '';
      const account = this.ctx.accountFor(jid);
      if (!account || !group.requests.has(account)) return { tag: 'participant', attrs: { jid, error: '404' } };
      group.requests.delete(account);
      if (decision.tag === 'approve' && !group.participants.includes(account)) group.participants.push(account);
      done.push(account);
      return { tag: 'participant', attrs: { jid } };
    });
    await reply([{ tag: 'membership_requests_action', attrs: {}, content: [{ tag: decision.tag, attrs: {}, content: results }] }]);
    if (!done.length) return;
    if (decision.tag === 'approve') {
      this.notify(group, me, { tag: 'add', attrs: { reason: 'approval' }, content: done.map((a) => this.participantNode(group, a)) });
      this.communities.joinedLinkedGroup(group, done, me);
    } else {
      for (const account of done) {
        this.notify(group, me, { tag: 'revoked_membership_requests', attrs: {}, content: [{ tag: 'participant', attrs: { jid: account.phone.info.lid, phone_number: account.phone.info.jid } }] }, [...group.admins]);
      }
    }
  }

  participantNode(group: Group<A>, account: A): BinaryNode {
    const type = account === group.creator && group.admins.has(account) ? 'superadmin' : group.admins.has(account) ? 'admin' : undefined;
    return { tag: 'participant', attrs: { jid: account.phone.info.lid, phone_number: account.phone.info.jid, ...(type ? { type } : {}) } };
  }

  groupNode(group: Group<A>): BinaryNode {
    const description = group.description;
    return {
      tag: 'group',
      attrs: {
        id: group.jid.split('@')[0] ?? group.jid,
        subject: group.subject,
        s_t: String(group.subjectAt),
        s_o: group.subjectOwner.phone.info.lid,
        s_o_pn: group.subjectOwner.phone.info.jid,
        creation: String(group.createdAt),
        creator: group.creator.phone.info.lid,
        creator_pn: group.creator.phone.info.jid,
        addressing_mode: 'lid',
        size: String(group.participants.length),
      },
      content: [
        ...group.participants.map((participant) => this.participantNode(group, participant)),
        ...(description
          ? [{
              tag: 'description',
              attrs: { id: description.id, t: String(description.at), participant: description.author.phone.info.lid, participant_pn: description.author.phone.info.jid },
              content: [{ tag: 'body', attrs: {}, content: Buffer.from(description.body) }],
            }]
          : []),
        ...(group.announce ? [{ tag: 'announcement', attrs: {} }] : []),
        ...(group.restrict ? [{ tag: 'locked', attrs: {} }] : []),
        { tag: 'member_add_mode', attrs: {}, content: Buffer.from(group.memberAdd ? 'all_member_add' : 'admin_add') },
        ...(group.joinApproval ? [{ tag: 'membership_approval_mode', attrs: {}, content: [{ tag: 'group_join', attrs: { state: 'on' } }] }] : []),
        ...(group.ephemeral ? [{ tag: 'ephemeral', attrs: { expiration: String(group.ephemeral) } }] : []),
        ...this.communities.nodeChildren(group),
      ],
    };
  }

  private dropMembers(group: Group<A>, accounts: A[]): void {
    group.participants = group.participants.filter((a) => !accounts.includes(a));
    for (const account of accounts) group.admins.delete(account);
  }

  /**
   * A `w:gp2` notification about one change, to every linked device of every member (`audience`:
   * the members before a removal, so the removed hear of it too), as WhatsApp sends them.
   */
  notify(group: Group<A>, author: A, change: BinaryNode, audience: A[] = group.participants): void {
    const stanza: BinaryNode = {
      tag: 'notification',
      attrs: {
        from: group.jid,
        type: 'w:gp2',
        id: this.ctx.nextId(),
        t: String(unixNow()),
        participant: author.phone.info.lid,
        participant_pn: author.phone.info.jid,
        addressing_mode: 'lid',
        notify: author.phone.info.name,
      },
      content: [change],
    };
    for (const account of audience) this.ctx.toDevices(account, stanza);
  }
}
