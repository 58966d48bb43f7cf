import { randomBytes, randomInt } from 'node:crypto';
import type { BinaryNode } from './baileys.loader';
import type { IqAnswer } from './profile.directory';
import { SandboxError } from './sandbox.types';

/**
 * The `query_id`s of WhatsApp's GraphQL (`w:mex`) newsletter operations, as Baileys rc14 sends
 * them (`Types/Mex.js`), plus the list of followed channels (whatsmeow's
 * `xwa2_newsletter_subscribed`, which Baileys does not wrap), each with the data path it answers under.
 */
export const NEWSLETTER_QUERIES = {
  '8823471724422422': 'xwa2_newsletter_create',
  '24250201037901610': 'xwa2_newsletter_update',
  '6563316087068696': 'xwa2_newsletter',
  '9783111038412085': 'xwa2_newsletter_subscribers',
  '24404358912487870': 'xwa2_newsletter_join_v2',
  '9767147403369991': 'xwa2_newsletter_leave_v2',
  '29766401636284406': 'xwa2_newsletter_mute_v2',
  '9864994326891137': 'xwa2_newsletter_unmute_v2',
  '7130823597031706': 'xwa2_newsletter_admin',
  '30062808666639665': 'xwa2_newsletter_delete_v2',
  '6388546374527196': 'xwa2_newsletter_subscribed',
} as const;
type NewsletterPath = (typeof NEWSLETTER_QUERIES)[keyof typeof NEWSLETTER_QUERIES];

export type NewsletterRole = 'OWNER' | 'ADMIN' | 'SUBSCRIBER' | 'GUEST';

export interface NewsletterPost {
  serverId: number;
  id: string;
  type: string;
  t: number;
  /** The `proto.Message` bytes, as sent: newsletter messages are not end-to-end encrypted. */
  plaintext: Buffer;
  /** One reaction per account (its phone number), as WhatsApp counts them. */
  reactions: Map<string, string>;
}

interface NewsletterText {
  text: string;
  id: string;
  updateTime: number;
}

export interface Newsletter {
  jid: string;
  name: NewsletterText;
  description: NewsletterText;
  invite: string;
  createdAt: number;
  owner: string;
  admins: Set<string>;
  /** Followers by phone number, with whether they muted the channel. */
  subscribers: Map<string, { muted: boolean }>;
  posts: NewsletterPost[];
  nextServerId: number;
  deleted: boolean;
}

/** What the control API shows of a channel. */
export interface NewsletterView {
  jid: string;
  name: string;
  description: string;
  invite: string;
  owner: string;
  admins: string[];
  subscribers: string[];
  posts: Array<{ serverId: number; id: string; type: string; reactions: Record<string, number> }>;
}

type GraphQlError = { code: number; message: string };
const fail = (code: number, message: string): never => {
  throw Object.assign(new Error(message), { graphQl: { code, message } satisfies GraphQlError });
};

const NAME_MAX = 100;
const DESCRIPTION_MAX = 2048;
const FETCH_MAX = 100;
/** How long a `live_updates` subscription lasts, in seconds, as WhatsApp answers it. */
const LIVE_UPDATES_SECONDS = '300';

const child = (node: BinaryNode | undefined, tag: string): BinaryNode | undefined =>
  Array.isArray(node?.content) ? node.content.find((item) => item.tag === tag) : undefined;
const unix = (): number => Math.floor(Date.now() / 1000);

/** Channel invite codes look like WhatsApp's: `0029Va` and 18 base62 characters. */
function newInvite(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return `0029Va${Array.from(randomBytes(18), (b) => alphabet[b % alphabet.length]).join('')}`;
}

/**
 * WhatsApp channels (newsletters) as the server keeps them: name, description and invite code,
 * the owner, admins and followers, and the posts with their server ids and reactions. Channels
 * are managed with GraphQL queries over `w:mex` (JSON in, JSON out, errors as GraphQL errors
 * with an HTTP-like `error_code`), and read with `xmlns=newsletter` iqs. Only the owner and
 * admins post and edit; only the owner deletes; the owner cannot unfollow.
 */
export class NewsletterRegistry {
  private readonly byJid = new Map<string, Newsletter>();

  create(owner: string, name: string, description = ''): Newsletter {
    this.checkName(name);
    if (description.length > DESCRIPTION_MAX) fail(400, `description longer than ${DESCRIPTION_MAX} characters`);
    let jid: string;
    do jid = `120363${randomInt(100_000_000, 999_999_999)}${randomInt(100_000, 999_999)}@newsletter`;
    while (this.byJid.has(jid));
    const now = unix();
    const newsletter: Newsletter = {
      jid,
      name: { text: name, id: String(now), updateTime: now },
      description: { text: description, id: String(now), updateTime: now },
      invite: newInvite(),
      createdAt: now,
      owner,
      admins: new Set(),
      subscribers: new Map(),
      posts: [],
      nextServerId: 100,
      deleted: false,
    };
    this.byJid.set(jid, newsletter);
    return newsletter;
  }

  /** A live channel by jid or invite code; 404 as WhatsApp answers for one that is gone. */
  find(key: string, type: 'JID' | 'INVITE' = 'JID'): Newsletter {
    const found = type === 'JID' ? this.byJid.get(key) : [...this.byJid.values()].find((n) => n.invite === key);
    if (!found || found.deleted) return fail(404, 'Not Found');
    return found;
  }

  roleOf(newsletter: Newsletter, phone: string): NewsletterRole {
    if (newsletter.owner === phone) return 'OWNER';
    if (newsletter.admins.has(phone)) return 'ADMIN';
    return newsletter.subscribers.has(phone) ? 'SUBSCRIBER' : 'GUEST';
  }

  /** Everyone who gets the channel's posts: owner, admins and followers. */
  audience(newsletter: Newsletter): string[] {
    return [...new Set([newsletter.owner, ...newsletter.admins, ...newsletter.subscribers.keys()])];
  }

  /** Records a post by the owner or an admin; 403 for anyone else. */
  post(jid: string, phone: string, id: string, type: string, plaintext: Buffer): NewsletterPost {
    const newsletter = this.find(jid);
    const role = this.roleOf(newsletter, phone);
    if (role !== 'OWNER' && role !== 'ADMIN') fail(403, 'only the owner and admins may post');
    const existing = newsletter.posts.find((p) => p.id === id);
    if (existing) return existing;
    const post: NewsletterPost = { serverId: newsletter.nextServerId++, id, type, t: unix(), plaintext, reactions: new Map() };
    newsletter.posts.push(post);
    return post;
  }

  /** A reaction (empty code: taken back) on a post; 404 for an unknown post. */
  react(jid: string, phone: string, serverId: number, code: string): void {
    const newsletter = this.find(jid);
    const post = newsletter.posts.find((p) => p.serverId === serverId);
    if (!post) fail(404, 'Not Found');
    if (code) post!.reactions.set(phone, code);
    else post!.reactions.delete(phone);
  }

  follow(jid: string, phone: string, following: boolean): Newsletter {
    const newsletter = this.find(jid);
    if (!following && newsletter.owner === phone) fail(400, 'the owner cannot unfollow their channel');
    if (following && newsletter.owner !== phone && !newsletter.subscribers.has(phone)) newsletter.subscribers.set(phone, { muted: false });
    if (!following) newsletter.subscribers.delete(phone);
    return newsletter;
  }

  promote(jid: string, phone: string): void {
    const newsletter = this.find(jid);
    if (newsletter.owner !== phone) newsletter.admins.add(phone);
  }

  view(jid: string): NewsletterView {
    const n = this.byJid.get(jid);
    if (!n) throw new SandboxError(404, `no channel ${jid}`);
    return {
      jid: n.jid,
      name: n.name.text,
      description: n.description.text,
      invite: n.invite,
      owner: n.owner,
      admins: [...n.admins],
      subscribers: [...n.subscribers.keys()],
      posts: n.posts.map((p) => ({ serverId: p.serverId, id: p.id, type: p.type, reactions: counts(p) })),
    };
  }

  /**
   * Answers a `w:mex` query for the account `phone`: `<result>` with `{data: {<path>: ...}}`,
   * or `{errors: [...]}` (Baileys throws a Boom with the `error_code` as its status).
   */
  mexIq(phone: string, node: BinaryNode): { answer: IqAnswer; deleted?: Newsletter } | undefined {
    const query = child(node, 'query');
    const path = NEWSLETTER_QUERIES[(query?.attrs.query_id ?? '') as keyof typeof NEWSLETTER_QUERIES] as NewsletterPath | undefined;
    if (!query || !path) return undefined;
    let variables: Record<string, unknown> = {};
    try {
      const raw = query.content instanceof Uint8Array ? Buffer.from(query.content).toString('utf8') : String(query.content ?? '{}');
      variables = ((JSON.parse(raw) as { variables?: Record<string, unknown> }).variables ?? {}) as Record<string, unknown>;
    } catch {
      return { answer: result(path, undefined, { code: 400, message: 'invalid query variables' }) };
    }
    try {
      const { data, deleted } = this.run(path, phone, variables);
      return { answer: result(path, data), ...(deleted ? { deleted } : {}) };
    } catch (error) {
      const graphQl = (error as { graphQl?: GraphQlError }).graphQl;
      if (!graphQl) throw error;
      return { answer: result(path, undefined, graphQl) };
    }
  }

  private run(path: NewsletterPath, phone: string, v: Record<string, unknown>): { data: unknown; deleted?: Newsletter } {
    const id = String(v.newsletter_id ?? '');
    switch (path) {
      case 'xwa2_newsletter_create': {
        const input = (v.input ?? {}) as { name?: unknown; description?: unknown };
        const created = this.create(phone, String(input.name ?? ''), typeof input.description === 'string' ? input.description : '');
        return { data: this.metadata(created, phone) };
      }
      case 'xwa2_newsletter': {
        const input = (v.input ?? {}) as { key?: unknown; type?: unknown };
        const type = input.type === 'INVITE' ? 'INVITE' : 'JID';
        return { data: this.metadata(this.find(String(input.key ?? ''), type), phone) };
      }
      case 'xwa2_newsletter_update': {
        const newsletter = this.find(id);
        const role = this.roleOf(newsletter, phone);
        if (role !== 'OWNER' && role !== 'ADMIN') fail(403, 'only the owner and admins may change the channel');
        const updates = (v.updates ?? {}) as { name?: unknown; description?: unknown };
        const now = unix();
        if (typeof updates.name === 'string') {
          this.checkName(updates.name);
          newsletter.name = { text: updates.name, id: String(now), updateTime: now };
        }
        if (typeof updates.description === 'string') {
          if (updates.description.length > DESCRIPTION_MAX) fail(400, `description longer than ${DESCRIPTION_MAX} characters`);
          newsletter.description = { text: updates.description, id: String(now), updateTime: now };
        }
        return { data: this.metadata(newsletter, phone) };
      }
      case 'xwa2_newsletter_join_v2':
        return { data: this.metadata(this.follow(id, phone, true), phone) };
      case 'xwa2_newsletter_leave_v2':
        return { data: this.metadata(this.follow(id, phone, false), phone) };
      case 'xwa2_newsletter_mute_v2':
      case 'xwa2_newsletter_unmute_v2': {
        const newsletter = this.find(id);
        const subscription = newsletter.subscribers.get(phone);
        if (!subscription && newsletter.owner !== phone && !newsletter.admins.has(phone)) fail(403, 'not following this channel');
        if (subscription) subscription.muted = path === 'xwa2_newsletter_mute_v2';
        return { data: { id: newsletter.jid, mute: subscription?.muted ? 'ON' : 'OFF' } };
      }
      case 'xwa2_newsletter_delete_v2': {
        const newsletter = this.find(id);
        if (newsletter.owner !== phone) fail(403, 'only the owner may delete the channel');
        newsletter.deleted = true;
        return { data: { id: newsletter.jid, state: { type: 'DELETED' } }, deleted: newsletter };
      }
      case 'xwa2_newsletter_admin':
        return { data: { admin_count: this.find(id).admins.size + 1 } };
      case 'xwa2_newsletter_subscribers': {
        const newsletter = this.find(id);
        if (this.roleOf(newsletter, phone) !== 'OWNER' && this.roleOf(newsletter, phone) !== 'ADMIN') fail(403, 'only the owner and admins see the followers');
        return { data: { id: newsletter.jid, subscribers_count: String(newsletter.subscribers.size) } };
      }
      case 'xwa2_newsletter_subscribed':
        return { data: [...this.byJid.values()].filter((n) => !n.deleted && this.roleOf(n, phone) !== 'GUEST').map((n) => this.metadata(n, phone)) };
    }
  }

  /** `xmlns=newsletter` iqs: `message_updates` (the posts, newest last) and `live_updates`. */
  newsletterIq(node: BinaryNode): IqAnswer {
    const first = Array.isArray(node.content) ? node.content[0] : undefined;
    let newsletter: Newsletter;
    try {
      newsletter = this.find(node.attrs.to ?? '');
    } catch {
      return { error: { code: 404, text: 'item-not-found' } };
    }
    if (first?.tag === 'live_updates') return { content: [{ tag: 'live_updates', attrs: { duration: LIVE_UPDATES_SECONDS } }] };
    if (first?.tag !== 'message_updates') return { error: { code: 400, text: 'bad-request' } };
    const count = Math.min(Math.max(Number(first.attrs.count ?? '') || 0, 1), FETCH_MAX);
    const since = Number(first.attrs.since ?? '') || 0;
    const after = Number(first.attrs.after ?? '') || 0;
    const posts = newsletter.posts.filter((p) => p.t >= since && p.serverId > after).slice(-count);
    return {
      content: [
        {
          tag: 'message_updates',
          attrs: {},
          content: [
            {
              tag: 'messages',
              attrs: { jid: newsletter.jid, t: String(unix()) },
              content: posts.map((p) => postNode(p)),
            },
          ],
        },
      ],
    };
  }

  private metadata(n: Newsletter, phone: string): Record<string, unknown> {
    const text = (t: NewsletterText) => ({ id: t.id, text: t.text, update_time: String(t.updateTime * 1_000_000) });
    return {
      id: n.jid,
      state: { type: 'ACTIVE' },
      thread_metadata: {
        creation_time: String(n.createdAt),
        name: text(n.name),
        description: text(n.description),
        invite: n.invite,
        handle: null,
        // No picture set: WhatsApp still answers the object, empty.
        picture: { id: '', type: 'IMAGE', direct_path: '' },
        preview: { id: '', type: 'PREVIEW', direct_path: '' },
        settings: { reaction_codes: { value: 'ALL' } },
        subscribers_count: String(n.subscribers.size),
        verification: 'UNVERIFIED',
      },
      viewer_metadata: { mute: n.subscribers.get(phone)?.muted ? 'ON' : 'OFF', role: this.roleOf(n, phone) },
    };
  }

  private checkName(name: string): void {
    if (!name.trim()) fail(400, 'name must not be empty');
    if (name.length > NAME_MAX) fail(400, `name longer than ${NAME_MAX} characters`);
  }
}

function counts(post: NewsletterPost): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const code of post.reactions.values()) tally[code] = (tally[code] ?? 0) + 1;
  return tally;
}

/** A post as `message_updates` lists it: plaintext, reaction counts, views. */
function postNode(p: NewsletterPost): BinaryNode {
  const tally = counts(p);
  return {
    tag: 'message',
    attrs: { id: p.id, server_id: String(p.serverId), t: String(p.t), type: p.type },
    content: [
      { tag: 'plaintext', attrs: {}, content: p.plaintext },
      { tag: 'reactions', attrs: {}, content: Object.entries(tally).map(([code, count]) => ({ tag: 'reaction', attrs: { code, count: String(count) } })) },
      { tag: 'views_count', attrs: { count: '0' } },
    ],
  };
}

function result(path: string, data: unknown, error?: GraphQlError): IqAnswer {
  const body = error
    ? { errors: [{ message: error.message, path: [path], extensions: { error_code: error.code, severity: 'CRITICAL', is_retryable: false } }], data: null }
    : { data: { [path]: data } };
  return { content: [{ tag: 'result', attrs: {}, content: Buffer.from(JSON.stringify(body), 'utf8') }] };
}
