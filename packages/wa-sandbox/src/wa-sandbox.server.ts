import { createDecipheriv, createCipheriv, createHash, pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { AppStateStore } from './app-state.store';
import { compactPatches } from './app-state.snapshot';
import { answerAppStateSync } from './app-state.sync';
import { loadBaileys, type Baileys, type BinaryNode, type KeyPair, type ProtoMessage } from './baileys.loader';
import { createCertificateChain } from './certificate.chain';
import { buildMediaMessage, mediaOf, receiveMedia } from './media.message';
import { answerMediaRetry } from './media.retry';
import { SandboxMediaServer } from './media.server';
import { handleControlRequest } from './control.router';
import { DeviceConnection, type ClientPayload } from './device.connection';
import { decryptVote, describeMessage, encryptPollVote, stanzaTypeOf, type PollRecord } from './message.codec';
import {
  SandboxError,
  type DeviceInfo,
  type FaultKind,
  type GroupInfo,
  type HandshakeRecord,
  type LoggedOutDevice,
  type OutgoingMessage,
  type PendingStanza,
  type PhoneInfo,
  type CallInfo,
  type PresenceState,
  type ProfileInfo,
  type AppStateView,
  type PhoneChatAction,
  type ReceiptType,
  type ReceivedMessage,
  type SandboxOptions,
  type ServerIdentity,
  type StartOptions,
} from './sandbox.types';
import { credentialsFor, type ServerCredentials } from './server.identity';
import { verifySignatureStrict } from './strict-verify.util';
import { PhoneAppState } from './phone-app-state';
import { VirtualPhone, type PreKeyBundle } from './virtual-phone.model';
import { ProfileDirectory, type IqAnswer, type ProfileChange } from './profile.directory';
import { BlocklistRegistry } from './blocklist.registry';
import { PresenceRegistry } from './presence.registry';
import { GroupRegistry } from './groups.registry';
import { NewsletterRegistry, type Newsletter, type NewsletterPost, type NewsletterView } from './newsletter.registry';
import { onDemandHistoryNotification, type HistoryRequestRecord } from './phone-history';

const SERVER_JID = 's.whatsapp.net';
const STATUS_JID = 'status@broadcast';
const QR_PREFIX = 'https://wa.me/settings/linked_devices#';
const LINK_CODE_ITERATIONS = 2 << 16;
/** Handshakes remembered for `listHandshakes`; older ones are forgotten so a long run stays small. */
const HANDSHAKES_KEPT = 100;

interface Companion {
  account: Account;
  deviceId: number;
  platform: string;
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKeys: Map<number, Buffer>;
  connection?: DeviceConnection;
  queue: BinaryNode[];
  /**
   * Messages and receipts sent to the device that it has not acknowledged yet. As WhatsApp does,
   * they are delivered again when the device next logs in: a client that died between reading a
   * stanza and acknowledging it loses nothing.
   */
  unacked: Map<string, BinaryNode>;
  initialSyncSent: boolean;
  /** Successful logins of this device, over any number of connections. */
  logins: number;
  /** Acks this device writes are lost on the way until its next login (`loseAcks`). */
  losesAcks?: boolean;
}

interface Account {
  phone: VirtualPhone;
  companions: Map<number, Companion>;
  nextDeviceId: number;
  /** What WhatsApp's server keeps: encrypted patches per collection. */
  appState: AppStateStore;
  /** What the phone keeps: the sync key and the decoded collections. */
  phoneAppState: PhoneAppState;
  /** A WhatsApp Business account (labels). */
  business: boolean;
  /** Trusted-contact privacy tokens this account's devices issued, in order: to whom (phone) and the `t` they named. */
  tokensIssued: { to: string; t: number }[];
  /** Accounts whose devices asked for this account's device list: told when a device is linked or removed. */
  deviceWatchers: Set<Account>;
  /** Device-list queries (USync `devices`) this account's devices made, per user asked for (a phone number). */
  deviceQueries: Map<string, number>;
}

interface Registration {
  connection: DeviceConnection;
  noiseKey: Buffer;
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  platform: string;
  refs: string[];
  /** Set once a phone has sent pair-success; completed by the client's pair-device-sign. */
  linking?: { account: Account; deviceId: number; resolve: (jid: string) => void; reject: (error: Error) => void };
  linkCode?: {
    account: Account;
    ref: string;
    wrappedCompanionEphemeral: Buffer;
    primaryEphemeral?: KeyPair;
    companionEphemeral?: Buffer;
  };
}

type DeviceRef = { kind: 'phone'; account: Account } | { kind: 'companion'; companion: Companion };

interface Waiter {
  phone: string;
  predicate: (message: ReceivedMessage) => boolean;
  resolve: (message: ReceivedMessage) => void;
}

const child = (node: BinaryNode | undefined, tag: string): BinaryNode | undefined =>
  Array.isArray(node?.content) ? node.content.find((item) => item.tag === tag) : undefined;
const children = (node: BinaryNode | undefined, tag: string): BinaryNode[] =>
  Array.isArray(node?.content) ? node.content.filter((item) => item.tag === tag) : [];
const bytes = (node: BinaryNode | undefined): Buffer | undefined =>
  node?.content instanceof Uint8Array ? Buffer.from(node.content) : typeof node?.content === 'string' ? Buffer.from(node.content) : undefined;
const unixNow = (): string => String(Math.floor(Date.now() / 1000));

/**
 * A local WhatsApp web server for the real Baileys client: Noise with its own certificate chain,
 * QR and pairing-code linking signed by virtual phones, login, Signal message routing between
 * devices, receipts and faults on demand. State is in memory and lives as long as the instance.
 */
export class WaSandbox {
  readonly rootKeyPair: KeyPair;
  private readonly genuine: ServerCredentials;
  private identity: { name: ServerIdentity; credentials: ServerCredentials };
  private readonly handshakes: HandshakeRecord[] = [];
  private readonly handshakeOf = new WeakMap<DeviceConnection, HandshakeRecord>();
  private readonly accounts = new Map<string, Account>();
  private readonly accountsByLid = new Map<string, Account>();
  private readonly registrations = new Set<Registration>();
  private readonly groups: GroupRegistry<Account> = new GroupRegistry<Account>({
    accountFor: (jid) => this.accountFor(jid),
    toDevices: (account, stanza) => {
      for (const companion of this.activeCompanions(account)) this.deliverNode(companion, stanza);
    },
    nextId: () => this.nextId(),
    mayAdd: (account, adder) => {
      const profile = this.profiles.of(account.phone.info.phone);
      return profile.privacy.groupadd === 'all' || profile.contacts.has(adder.phone.info.phone);
    },
    storePicture: (groupId, jpeg) => this.profiles.storePicture(groupId, jpeg),
    pictureUrl: (groupId, pictureId) => this.profiles.pictureUrlOf(groupId, pictureId),
  });
  private readonly loggedOut: LoggedOutDevice[] = [];
  /** Accounts whose devices' offline backlog waits for `releaseBacklog` (a server slow to deliver it). */
  private readonly heldBacklogs = new Map<string, Array<() => void>>();
  /** Accounts whose devices' logins wait for `releaseLogin` before their last answer (a slow server). */
  private readonly heldLogins = new Map<string, Array<() => void>>();
  private readonly heldMessages = new Map<string, Array<() => void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<Waiter>();
  private readonly options: Required<SandboxOptions>;
  private http?: Server;
  private wss?: WebSocketServer;
  private readonly media: SandboxMediaServer;
  private readonly mediaRetries: { id: string; device: string; at: number }[] = [];
  /** Receipts companions sent (newest last, the last 1,000): what a test prints when a receipt it waits for never comes. */
  private readonly sentReceipts: { from: string; to: string; type: string; ids: string[]; at: number }[] = [];
  private messageCounter = 0;
  /** Profiles, privacy and address books, served at `/pictures/<phone>/<id>.jpg` like pps.whatsapp.net. */
  readonly profiles = new ProfileDirectory((phone, id) => `http://127.0.0.1:${this.port}/pictures/${phone}/${id}.jpg`);
  private readonly blocklist = new BlocklistRegistry();
  private readonly presence = new PresenceRegistry();
  private readonly newsletters = new NewsletterRegistry();
  private readonly calls = new Map<string, CallInfo>();

  private constructor(
    private readonly baileys: Baileys,
    options: SandboxOptions,
  ) {
    this.options = {
      qrRefCount: options.qrRefCount ?? 6,
      deliveryReceiptDelayMs: options.deliveryReceiptDelayMs ?? 300,
      autoDeliveryReceipts: options.autoDeliveryReceipts ?? true,
      phonePreKeyCount: options.phonePreKeyCount ?? 50,
      serverIdentity: options.serverIdentity ?? 'genuine',
      mediaMaxBytes: options.mediaMaxBytes ?? 100 * 1024 * 1024,
      appStateSnapshotEvery: options.appStateSnapshotEvery ?? 50,
    };
    this.media = new SandboxMediaServer({ maxUploadBytes: this.options.mediaMaxBytes });
    this.rootKeyPair = baileys.Curve.generateKeyPair();
    const noiseStatic = baileys.Curve.generateKeyPair();
    this.genuine = { noiseStatic, certificateChain: createCertificateChain(baileys, this.rootKeyPair, noiseStatic) };
    this.identity = {
      name: this.options.serverIdentity,
      credentials: credentialsFor(baileys, this.rootKeyPair, this.genuine, this.options.serverIdentity),
    };
  }

  static async create(options: SandboxOptions = {}): Promise<WaSandbox> {
    const every = options.appStateSnapshotEvery;
    if (every !== undefined && (!Number.isInteger(every) || every < 1)) throw new SandboxError(400, 'appStateSnapshotEvery must be a positive integer');
    return new WaSandbox(await loadBaileys(), options);
  }

  /** Base64 of the 32-byte root public key a client must trust (`WA_CERT_DETAILS.PUBLIC_KEY`). */
  get rootPublicKey(): string {
    return Buffer.from(this.rootKeyPair.public).toString('base64');
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws/chat`;
  }

  get controlUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the server presents in the noise handshake of connections opened from now on. */
  get serverIdentity(): ServerIdentity {
    return this.identity.name;
  }

  /** Makes the next connections meet an impostor (or the genuine server again); open ones keep theirs. */
  setServerIdentity(identity: ServerIdentity): void {
    this.identity = { name: identity, credentials: credentialsFor(this.baileys, this.rootKeyPair, this.genuine, identity) };
  }

  /** The latest client connections, oldest first, with how far each client took the handshake. */
  listHandshakes(): HandshakeRecord[] {
    return this.handshakes.map((record) => ({ ...record }));
  }

  private get port(): number {
    const address = this.http?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('sandbox is not started');
    return address.port;
  }

  async start({ port = 0, host = '127.0.0.1' }: StartOptions = {}): Promise<this> {
    if (host !== '127.0.0.1') throw new Error('the sandbox only listens on 127.0.0.1');
    const http = createServer((request, response) => {
      void handleControlRequest(this, request, response);
    });
    const wss = new WebSocketServer({ server: http, path: '/ws/chat' });
    wss.on('connection', (ws) => {
      const { name, credentials } = this.identity;
      const connection = new DeviceConnection(this.baileys, ws, credentials.noiseStatic, credentials.certificateChain, {
        onAuthenticated: (connection, payload, clientStatic) => this.onAuthenticated(connection, payload, clientStatic),
        onNode: (connection, node) => this.onNode(connection, node),
        onClosed: (connection) => this.onClosed(connection),
      });
      this.recordHandshake(connection, name);
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => resolve());
    });
    this.http = http;
    this.wss = wss;
    await this.media.start();
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const client of this.wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.http = undefined;
    this.wss = undefined;
    await this.media.stop();
  }

  // ---- media -------------------------------------------------------------------------------

  /**
   * PEM file of the CA that issued the media server's certificate: a client trusts the sandbox's
   * media host by starting with `NODE_EXTRA_CA_CERTS=<this path>`.
   */
  get mediaCaFile(): string {
    return this.media.caFile;
  }

  /** `https://127.0.0.1:<port>`: the media host (the runner's `WA_MEDIA_BASE_URL` in tests). */
  get mediaBaseUrl(): string {
    return this.media.baseUrl;
  }

  /** The media hosts refuse every upload with `status` (an outage) until called with `undefined`. */
  refuseMediaUploads(status: number | undefined): { refusing: number | null } {
    this.media.refuseUploads(status);
    return { refusing: status ?? null };
  }

  /** Every file uploaded so far expires: downloads answer 410 and clients must ask for a re-upload. */
  expireMedia(): { expired: number } {
    return { expired: this.media.expireAll() };
  }

  /** The decrypted bytes of a media message the phone received, once they verified. */
  receivedMedia(phone: string, id: string): Buffer | undefined {
    return this.account(phone).phone.receivedMedia.get(id);
  }

  /** What media_conn answers (auth, hosts), without a socket: lets a benchmark upload directly. */
  mediaUploadAuth(): { auth: string; host: string } {
    return { auth: this.media.mediaConnNode().attrs.auth ?? '', host: this.media.host };
  }

  /** Media retry requests (re-upload asks) companions sent, oldest first. */
  listMediaRetries(): { id: string; device: string; at: number }[] {
    return [...this.mediaRetries];
  }

  /** Receipts the account's companions sent that name message `id` (type `delivery` when the stanza had none). */
  receiptsSentFor(id: string): { from: string; to: string; type: string; ids: string[]; at: number }[] {
    return this.sentReceipts.filter((r) => r.ids.includes(id));
  }

  /** Upload requests the media server refused (reason: auth, token, hash mismatch, too large...). */
  mediaRefusals(): { reason: string; at: number }[] {
    return [...this.media.refusals];
  }

  // ---- virtual phones --------------------------------------------------------------------

  async createPhone(phone: string, name?: string): Promise<PhoneInfo> {
    if (!/^\d{6,15}$/.test(phone)) throw new SandboxError(400, 'phone must be 6 to 15 digits');
    const existing = this.accounts.get(phone);
    if (existing) return existing.phone.info;
    let lidUser: string;
    do lidUser = String(randomInt(10_000_000, 99_999_999)) + String(randomInt(1_000_000, 9_999_999));
    while (this.accountsByLid.has(lidUser));
    const info: PhoneInfo = { phone, jid: `${phone}@${SERVER_JID}`, lid: `${lidUser}@lid`, name: name ?? `Phone ${phone}` };
    const appState = new AppStateStore({ every: this.options.appStateSnapshotEvery, compact: (patches) => compactPatches(this.baileys.proto, patches) });
    const account: Account = {
      phone: await VirtualPhone.create(this.baileys, info, lidUser, this.options.phonePreKeyCount),
      companions: new Map(),
      nextDeviceId: 1,
      appState,
      phoneAppState: new PhoneAppState(this.baileys, appState),
      business: false,
      tokensIssued: [],
      deviceWatchers: new Set(),
      deviceQueries: new Map(),
    };
    this.accounts.set(phone, account);
    this.accountsByLid.set(lidUser, account);
    return info;
  }

  listPhones(): PhoneInfo[] {
    return [...this.accounts.values()].map((account) => account.phone.info);
  }

  received(phone: string): ReceivedMessage[] {
    return [...this.account(phone).phone.received];
  }

  /**
   * `phone` drops its Signal sessions with the linked devices of `withPhone` and makes new ones
   * from fresh pre-key bundles, as a WhatsApp client does after a retry receipt or once it lost
   * its sessions: its next message to each of them is a `pkmsg` on the new session, and the
   * device replaces the session it had. Answers how many sessions it renewed.
   */
  async renewSessions(phone: string, withPhone: string): Promise<number> {
    const account = this.account(phone);
    let renewed = 0;
    for (const companion of this.activeCompanions(this.account(withPhone))) {
      const deviceJid = this.lid(companion.account, companion.deviceId);
      if (await account.phone.renewSession(deviceJid, () => this.takeBundle(deviceJid))) renewed++;
    }
    return renewed;
  }

  /** The trusted-contact privacy tokens the devices of `phone` issued, in order: to whom (a phone number) and the `t` each named. */
  privacyTokensIssued(phone: string): { to: string; t: number }[] {
    return this.account(phone).tokensIssued.map((token) => ({ ...token }));
  }

  /** How many times the devices of `phone` asked for the device list of each user (by phone number). */
  deviceListQueries(phone: string): Record<string, number> {
    return Object.fromEntries(this.account(phone).deviceQueries);
  }

  /** The retry receipts `phone` sent (messages it could not decrypt and asked for again), per message id. */
  retriesAsked(phone: string): Record<string, number> {
    return Object.fromEntries(this.account(phone).phone.retriesAsked);
  }

  /**
   * Puts messages into the chat of `phone` with `contact` as if they had been exchanged before
   * (in both phones' archives; nothing is delivered): the history a linked device may ask for.
   * `timestamp` is Unix seconds; answers the ids given to the messages, in the order given.
   */
  seedChatHistory(phone: string, contact: string, messages: { fromMe: boolean; text: string; timestamp: number }[]): { ids: string[] } {
    const owner = this.account(phone);
    const other = this.account(contact);
    const ids = messages.map((m) => {
      const id = this.nextId();
      const message: ProtoMessage = { conversation: m.text };
      owner.phone.archive.add(other.phone.info.lid, { id, fromMe: m.fromMe, timestamp: m.timestamp, message, ...(m.fromMe ? {} : { pushName: other.phone.info.name }) });
      other.phone.archive.add(owner.phone.info.lid, { id, fromMe: !m.fromMe, timestamp: m.timestamp, message, ...(m.fromMe ? { pushName: owner.phone.info.name } : {}) });
      return id;
    });
    return { ids };
  }

  /** The requests for older messages `phone` answered, oldest first. */
  historyRequests(phone: string): HistoryRequestRecord[] {
    return [...this.account(phone).phone.historyRequests];
  }

  presences(phone: string) {
    return [...this.account(phone).phone.presences];
  }

  /**
   * Resolves with the first message (already received or future) the predicate accepts.
   * `timeoutMs` is a deadline for a hang (a loaded CI machine has taken over 10 s), not a measure.
   */
  waitForReceived(phone: string, predicate: (message: ReceivedMessage) => boolean, timeoutMs = 120_000): Promise<ReceivedMessage> {
    const found = this.account(phone).phone.received.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        phone,
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          this.timers.delete(timer);
          this.waiters.delete(waiter);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiters.delete(waiter);
        reject(new Error(`phone ${phone} received no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.timers.add(timer);
      this.waiters.add(waiter);
    });
  }

  /** The phone scans a QR shown by a client: `ref,noisePub,identityPub,advSecret[,platform]`. */
  async scanQr(phone: string, qr: string): Promise<{ deviceJid: string }> {
    const account = this.account(phone);
    const [ref, noiseKey, identityKey, advSecret] = qr.replace(QR_PREFIX, '').split(',');
    if (!ref || !noiseKey || !identityKey || !advSecret) throw new SandboxError(400, 'not a WhatsApp linking QR');
    const registration = [...this.registrations].find((candidate) => candidate.refs.includes(ref));
    if (!registration || !registration.connection.isOpen) throw new SandboxError(404, 'QR expired or unknown');
    if (!registration.noiseKey.equals(Buffer.from(noiseKey, 'base64')) || !registration.identityKey.equals(Buffer.from(identityKey, 'base64'))) {
      throw new SandboxError(400, 'QR keys do not match the connection that showed it');
    }
    const deviceJid = await this.sendPairSuccess(registration, account, Buffer.from(advSecret, 'base64'));
    return { deviceJid };
  }

  /** The phone's user types the 8-character code the client displayed. */
  async enterPairingCode(phone: string, code: string): Promise<{ deviceJid: string }> {
    const account = this.account(phone);
    const findRegistration = () => [...this.registrations].find((candidate) => candidate.linkCode?.account === account && candidate.connection.isOpen);
    // Baileys writes companion_hello without awaiting an answer, so the code can be shown to
    // the user a moment before the server has processed it.
    for (let attempt = 0; attempt < 50 && !findRegistration(); attempt++) await this.sleep(20);
    const registration = findRegistration();
    const linkCode = registration?.linkCode;
    if (!registration || !linkCode) throw new SandboxError(404, 'no client is waiting for a pairing code for this phone');
    const { Curve } = this.baileys;
    const wrapped = linkCode.wrappedCompanionEphemeral;
    const key = pbkdf2Sync(code.toUpperCase(), wrapped.subarray(0, 32), LINK_CODE_ITERATIONS, 32, 'sha256');
    const decipher = createDecipheriv('aes-256-ctr', key, wrapped.subarray(32, 48));
    linkCode.companionEphemeral = Buffer.concat([decipher.update(wrapped.subarray(48, 80)), decipher.final()]);
    linkCode.primaryEphemeral = Curve.generateKeyPair();
    const salt = randomBytes(32);
    const iv = randomBytes(16);
    const primaryKey = pbkdf2Sync(code.toUpperCase(), salt, LINK_CODE_ITERATIONS, 32, 'sha256');
    const cipher = createCipheriv('aes-256-ctr', primaryKey, iv);
    const wrappedPrimary = Buffer.concat([salt, iv, cipher.update(linkCode.primaryEphemeral.public), cipher.final()]);
    const linked = new Promise<string>((resolve, reject) => {
      registration.linking = { account, deviceId: 0, resolve, reject };
    });
    await registration.connection.send({
      tag: 'notification',
      attrs: { from: SERVER_JID, type: 'link_code_companion_reg', id: this.nextId(), t: unixNow() },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: {},
          content: [
            { tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(linkCode.ref) },
            { tag: 'primary_identity_pub', attrs: {}, content: account.phone.identityPublicKey },
            { tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: wrappedPrimary },
          ],
        },
      ],
    });
    return { deviceJid: await this.withTimeout(linked, 15_000, 'the client did not finish code pairing') };
  }

  async sendMessage(phone: string, to: string, message: OutgoingMessage): Promise<{ id: string }> {
    const account = this.account(phone);
    const id = this.nextId();
    const proto = this.buildMessage(account, to, message);
    await this.sendFromPhone(account, to, id, proto);
    return { id };
  }

  async sendReceipt(phone: string, to: string, ids: string[], type: ReceiptType): Promise<void> {
    const account = this.account(phone);
    if (to.endsWith('@g.us')) return this.groupReceipt(account, to, ids, type);
    const target = this.accountFor(to);
    if (!target || ids.length === 0) throw new SandboxError(400, 'unknown recipient or no ids');
    this.receiptToAccount(account, target, ids, type);
  }

  /**
   * A member's phone reports messages of a group delivered or read: as on WhatsApp, the author of
   * each gets a receipt from the group that names the member as `participant`. Every id must be a
   * message the member received in the group.
   */
  private groupReceipt(member: Account, groupJid: string, ids: string[], type: ReceiptType): void {
    const group = this.groups.get(groupJid);
    if (!group || !group.participants.includes(member)) throw new SandboxError(404, 'unknown group or not a participant');
    if (ids.length === 0) throw new SandboxError(400, 'no ids');
    const byAuthor = new Map<Account, string[]>();
    for (const id of ids) {
      const message = member.phone.received.find((m) => m.id === id && m.chat === group.jid && !m.fromOwnDevice);
      const author = message ? this.accountFor(message.fromPn) : undefined;
      if (!author) throw new SandboxError(404, `the phone received no message ${id} in the group`);
      byAuthor.set(author, [...(byAuthor.get(author) ?? []), id]);
    }
    for (const [author, written] of byAuthor) this.receiptToAccount(member, author, written, type, group.jid);
  }

  async sendPresence(phone: string, to: string, state: PresenceState): Promise<void> {
    const account = this.account(phone);
    const target = this.accountFor(to);
    if (!target) throw new SandboxError(404, 'unknown recipient');
    if (this.blockedBy(target, account)) return;
    const node: BinaryNode =
      state === 'available' || state === 'unavailable'
        ? { tag: 'presence', attrs: { from: account.phone.info.lid, type: state } }
        : {
            tag: 'chatstate',
            attrs: { from: account.phone.info.lid },
            content: [{ tag: state === 'recording' ? 'composing' : state, attrs: state === 'recording' ? { media: 'audio' } : {} }],
          };
    for (const companion of this.activeCompanions(target)) this.deliverNode(companion, node);
  }

  /** An account's profile as the server keeps it (name, about, picture id, privacy, address book). */
  profile(phone: string): ProfileInfo {
    const account = this.account(phone);
    const profile = this.profiles.of(account.phone.info.phone);
    return {
      phone: account.phone.info.phone,
      name: account.phone.info.name,
      ...(profile.about ? { about: profile.about.text } : {}),
      ...(profile.picture ? { pictureId: profile.picture.id } : {}),
      privacy: { ...profile.privacy },
      contacts: [...profile.contacts],
    };
  }

  /** What a phone's owner changes in their profile or address book. */
  setProfile(phone: string, change: ProfileChange): ProfileInfo {
    const account = this.account(phone);
    if (change.contacts) for (const contact of change.contacts) this.account(contact);
    this.profiles.change(account.phone.info.phone, change);
    return this.profile(phone);
  }

  /** The phones an account has blocked. */
  blocklistOf(phone: string): string[] {
    return this.blocklist.list(this.account(phone).phone.info.phone);
  }

  /** The phone's owner blocks or unblocks a contact from the phone; the linked devices hear of it. */
  setBlocked(phone: string, contactPhone: string, blocked: boolean): string[] {
    const account = this.account(phone);
    const contact = this.account(contactPhone);
    this.blocklist.set(account.phone.info.phone, contact.phone.info.phone, blocked);
    const notification: BinaryNode = {
      tag: 'notification',
      attrs: { from: account.phone.info.jid, type: 'account_sync', id: this.nextId(), t: unixNow() },
      content: [{ tag: 'blocklist', attrs: {}, content: [{ tag: 'item', attrs: { jid: contact.phone.info.lid, pn_jid: contact.phone.info.jid, action: blocked ? 'block' : 'unblock' } }] }],
    };
    for (const device of this.activeCompanions(account)) this.deliverNode(device, notification);
    return this.blocklistOf(phone);
  }

  async createGroup(phone: string, subject: string, participantPhones: string[]): Promise<GroupInfo> {
    const creator = this.account(phone);
    return this.groups.describe(this.groups.create(creator, subject, participantPhones.map((p) => this.account(p))));
  }

  /** A group as the server knows it: members, admins, settings and the current invite code. */
  groupInfo(jid: string): GroupInfo {
    const group = this.groups.get(jid);
    if (!group) throw new SandboxError(404, 'unknown group');
    return this.groups.describe(group);
  }

  /** The phone changes its chat organisation; the account's companions are told to fetch it. */
  async phoneChatAction(phone: string, action: PhoneChatAction): Promise<{ collection: string; version: number }> {
    const account = this.account(phone);
    if (action.type.startsWith('label') && !account.business) throw new SandboxError(403, 'labels exist on WhatsApp Business accounts only');
    const written = await account.phoneAppState.apply(action);
    this.announceAppState(account, [{ name: written.collection, version: written.version }]);
    return written;
  }

  /** The account's app state as its phone decoded it (with any patch that failed its checks). */
  appState(phone: string): Promise<AppStateView> {
    return this.account(phone).phoneAppState.view();
  }

  /** Turns a virtual phone's account into a WhatsApp Business one (or back). */
  setBusiness(phone: string, business: boolean): void {
    this.account(phone).business = business;
  }

  listDevices(): DeviceInfo[] {
    return [...this.accounts.values()].flatMap((account) =>
      [...account.companions.values()].map((companion) => ({
        jid: this.pn(account, companion.deviceId),
        lid: this.lid(account, companion.deviceId),
        phone: account.phone.info.phone,
        platform: companion.platform,
        connected: !!companion.connection?.isOpen,
        logins: companion.logins,
      })),
    );
  }

  listLoggedOut(): LoggedOutDevice[] {
    return [...this.loggedOut];
  }

  /**
   * Holds back the offline backlog (and its end marker) of the phone's devices at their next
   * logins, as a loaded server may: the device is connected and waits. `releaseBacklog` delivers it.
   */
  holdBacklog(phone: string): void {
    this.hold(this.heldBacklogs, phone);
  }

  releaseBacklog(phone: string): void {
    release(this.heldBacklogs, phone);
  }

  /**
   * Holds back the answer to the last query of the phone's devices' next logins (the key-bundle
   * digest Baileys asks for after `passive`), as a loaded server may: the device is logged in and
   * gets what is sent to it, but its client has not reported the connection open yet.
   * `releaseLogin` answers.
   */
  holdLogin(phone: string): void {
    this.hold(this.heldLogins, phone);
  }

  releaseLogin(phone: string): void {
    release(this.heldLogins, phone);
  }

  /**
   * Holds back what the phone's linked devices send to contacts and groups, before the server acks
   * or routes it, as a slow server or network may: a send stays in flight. `releaseMessages` goes
   * on with them in order; `messagesHeld` counts them.
   */
  holdMessages(phone: string): void {
    this.hold(this.heldMessages, phone);
  }

  releaseMessages(phone: string): void {
    release(this.heldMessages, phone);
  }

  messagesHeld(phone: string): number {
    return this.heldMessages.get(phone)?.length ?? 0;
  }

  /** From now on, what the phone's devices would be sent next waits in `held` (see `release`). */
  private hold(held: Map<string, Array<() => void>>, phone: string): void {
    this.account(phone);
    if (!held.has(phone)) held.set(phone, []);
  }

  /**
   * Loses the acks the phone's linked devices write from now until each logs in again, as when a
   * client dies with its acks unsent: the server still waits for them, and delivers the stanzas
   * again (marked `offline`) at the next login.
   */
  loseAcks(phone: string): void {
    for (const companion of this.account(phone).companions.values()) companion.losesAcks = true;
  }

  /** The messages and receipts the server still waits for the phone's linked devices to acknowledge (sent, or queued for their next login). */
  unacknowledged(phone: string): PendingStanza[] {
    return [...this.account(phone).companions.values()].flatMap((companion) =>
      [...companion.unacked.values(), ...companion.queue]
        .filter((node) => node.tag === 'message' || node.tag === 'receipt')
        .map((node) => ({
          device: this.pn(companion.account, companion.deviceId),
          tag: node.tag as PendingStanza['tag'],
          id: node.attrs.id ?? '',
          from: node.attrs.from ?? '',
          ...(node.attrs.participant ? { participant: node.attrs.participant } : {}),
          ...(node.attrs.type ? { type: node.attrs.type } : {}),
        })),
    );
  }

  /** Ends a connected device's stream the way WhatsApp does for each failure. */
  async fault(deviceJid: string, kind: FaultKind): Promise<void> {
    const companion = this.companionFor(deviceJid);
    const connection = companion?.connection;
    if (!companion || !connection?.isOpen) throw new SandboxError(404, 'device is not connected');
    switch (kind) {
      case 'device_removed':
        this.logOut(companion, 'device_removed');
        return connection.streamError('401', { tag: 'conflict', attrs: { type: 'device_removed' } });
      case 'replaced':
        return connection.streamError(undefined, { tag: 'conflict', attrs: { type: 'replaced' } });
      case 'restart_required':
        return connection.streamError('515');
      case 'timed_out':
        return connection.streamError('408');
      case 'connection_closed':
        return connection.streamError('428');
      case 'service_unavailable':
        return connection.streamError('503');
      case 'banned':
        return connection.streamError('403');
      case 'version_rejected':
        return connection.streamError('405');
      case 'drop':
        return connection.drop();
    }
  }

  // ---- connection lifecycle --------------------------------------------------------------

  private recordHandshake(connection: DeviceConnection, serverIdentity: ServerIdentity): void {
    const record: HandshakeRecord = { serverIdentity, clientFinish: 'none', at: Date.now() };
    this.handshakes.push(record);
    if (this.handshakes.length > HANDSHAKES_KEPT) this.handshakes.shift();
    this.handshakeOf.set(connection, record);
  }

  private async onAuthenticated(connection: DeviceConnection, payload: ClientPayload, clientStatic: Buffer): Promise<void> {
    const pairing = payload.devicePairingData;
    const handshake = this.handshakeOf.get(connection);
    if (handshake) handshake.clientFinish = pairing ? 'registration' : 'login';
    if (pairing) {
      const { proto } = this.baileys;
      const props = pairing.deviceProps ? proto.DeviceProps.decode(pairing.deviceProps) : undefined;
      const registration: Registration = {
        connection,
        noiseKey: clientStatic,
        registrationId: Buffer.from(pairing.eRegid ?? []).readUInt32BE(0),
        identityKey: Buffer.from(pairing.eIdent ?? []),
        signedPreKey: {
          keyId: Buffer.from(pairing.eSkeyId ?? []).readUIntBE(0, 3),
          publicKey: Buffer.from(pairing.eSkeyVal ?? []),
          signature: Buffer.from(pairing.eSkeySig ?? []),
        },
        platform: props?.os ?? 'unknown',
        refs: Array.from({ length: this.options.qrRefCount }, () => randomBytes(16).toString('base64url')),
      };
      this.registrations.add(registration);
      await connection.send({
        tag: 'iq',
        attrs: { from: SERVER_JID, type: 'set', id: this.nextId(), xmlns: 'md' },
        content: [
          {
            tag: 'pair-device',
            attrs: {},
            content: registration.refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })),
          },
        ],
      });
      return;
    }
    const account = this.accounts.get(String(payload.username ?? ''));
    const companion = account?.companions.get(payload.device ?? 0);
    if (!account || !companion) {
      await connection.failure('401');
      return;
    }
    const previous = companion.connection;
    companion.connection = connection;
    companion.logins += 1;
    companion.losesAcks = false;
    this.requeueUnacked(companion);
    if (previous?.isOpen) {
      await previous.streamError(undefined, { tag: 'conflict', attrs: { type: 'replaced' } });
    }
    await connection.send({
      tag: 'success',
      attrs: {
        t: unixNow(),
        props: '1',
        abprops: '1',
        location: 'sandbox',
        lid: this.lid(account, companion.deviceId),
        creation: unixNow(),
      },
    });
  }

  private onClosed(connection: DeviceConnection): void {
    for (const registration of this.registrations) {
      if (registration.connection === connection) {
        this.registrations.delete(registration);
        registration.linking?.reject(new Error('the client disconnected before pairing completed'));
      }
    }
    for (const account of this.accounts.values()) {
      for (const companion of account.companions.values()) {
        if (companion.connection === connection) {
          companion.connection = undefined;
          this.requeueUnacked(companion);
        }
      }
    }
  }

  private async onNode(connection: DeviceConnection, node: BinaryNode): Promise<void> {
    const companion = this.companionOf(connection);
    if (node.tag === 'iq') return this.onIq(connection, companion, node);
    if (!companion) return;
    switch (node.tag) {
      case 'ack':
        return this.onCompanionAck(companion, node);
      case 'message':
        return this.onCompanionMessage(companion, node);
      case 'receipt':
        return this.onCompanionReceipt(companion, node);
      case 'chatstate':
        return this.onCompanionChatstate(companion, node);
      case 'presence':
        return this.onCompanionPresence(companion, node);
      case 'call':
        return this.onCompanionCall(companion, node);
      default:
        return;
    }
  }

  private async onIq(connection: DeviceConnection, companion: Companion | undefined, node: BinaryNode): Promise<void> {
    const { xmlns, type, id } = node.attrs;
    const first = Array.isArray(node.content) ? node.content[0] : undefined;
    const reply = (content?: BinaryNode[]) =>
      connection.send({ tag: 'iq', attrs: { from: SERVER_JID, type: 'result', id: id ?? '' }, ...(content ? { content } : {}) });

    if (xmlns === 'md' || first?.tag === 'pair-device-sign') {
      return this.onMdIq(connection, companion, node, first, reply);
    }
    if (type === 'result' || !companion) return;
    switch (xmlns) {
      case 'encrypt':
        return this.onEncryptIq(companion, node, first, reply);
      case 'passive':
        await reply();
        return this.afterPassive(companion);
      case 'usync':
        return reply([this.usyncResult(child(node, 'usync'), companion.account)]);
      case 'w:sync:app:state': {
        const { collections, written } = answerAppStateSync(this.baileys, companion.account.appState, child(node, 'sync'), (blob) => this.media.put(blob));
        await reply([{ tag: 'sync', attrs: {}, content: collections }]);
        this.announceAppState(companion.account, written, companion);
        return;
      }
      case 'privacy':
        if (child(node, 'tokens')) return this.onPrivacyTokensIq(companion, node, reply);
        return this.answerIq(companion, node, reply, this.profiles.privacyIq(companion.account.phone.info.phone, node));
      case 'status':
        return this.answerIq(companion, node, reply, this.profiles.statusIq(companion.account.phone.info.phone, node));
      case 'w:profile:picture': {
        if (node.attrs.target?.endsWith('@g.us')) return this.answerIq(companion, node, reply, this.groups.pictureIq(companion.account, node, node.attrs.target));
        const target = node.attrs.target === undefined ? undefined : this.accountFor(node.attrs.target)?.phone.info.phone;
        if (node.attrs.target !== undefined && !target) return this.answerIq(companion, node, reply, { error: { code: 404, text: 'item-not-found' } });
        return this.answerIq(companion, node, reply, this.profiles.pictureIq(companion.account.phone.info.phone, node, target));
      }
      case 'blocklist':
        return this.onBlocklistIq(companion, node, reply);
      case 'w:biz':
        return this.answerIq(companion, node, reply, this.profiles.businessIq(node, (jid) => this.accountFor(jid)?.phone.info.phone));
      case 'w:g2':
        return this.groups.onIq(companion.account, node, reply, (code, text) =>
          companion.connection?.send({ tag: 'iq', attrs: { from: node.attrs.to ?? '@g.us', type: 'error', id: node.attrs.id ?? '' }, content: [{ tag: 'error', attrs: { code: String(code), text } }] }) ?? Promise.resolve(),
        );
      case 'w:m':
        return reply([this.media.mediaConnNode()]);
      case 'w:mex': {
        const answered = this.newsletters.mexIq(companion.account.phone.info.phone, node);
        if (!answered) return reply();
        await this.answerIq(companion, node, reply, answered.answer);
        if (answered.deleted) this.announceChannelDeleted(answered.deleted);
        return;
      }
      case 'newsletter':
        return this.answerIq(companion, node, reply, this.newsletters.newsletterIq(node));
      default:
        return reply();
    }
  }

  private async onMdIq(
    connection: DeviceConnection,
    companion: Companion | undefined,
    node: BinaryNode,
    first: BinaryNode | undefined,
    reply: (content?: BinaryNode[]) => Promise<void>,
  ): Promise<void> {
    const registration = [...this.registrations].find((candidate) => candidate.connection === connection);
    if (first?.tag === 'pair-device-sign' && registration?.linking) {
      return this.completePairing(registration, child(first, 'device-identity'));
    }
    if (first?.tag === 'remove-companion-device' && companion) {
      this.logOut(companion, 'user_initiated');
      return reply();
    }
    if (first?.tag === 'link_code_companion_reg' && registration) {
      if (first.attrs.stage === 'companion_hello') {
        const account = this.accountFor(first.attrs.jid ?? '');
        const wrapped = bytes(child(first, 'link_code_pairing_wrapped_companion_ephemeral_pub'));
        if (!account || !wrapped || wrapped.length !== 80) {
          return connection.send({ tag: 'iq', attrs: { from: SERVER_JID, type: 'error', id: node.attrs.id ?? '' }, content: [{ tag: 'error', attrs: { code: '400', text: 'bad-request' } }] });
        }
        const ref = randomBytes(16).toString('base64url');
        registration.linkCode = { account, ref, wrappedCompanionEphemeral: wrapped };
        return reply([{ tag: 'link_code_companion_reg', attrs: {}, content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(ref) }] }]);
      }
      if (first.attrs.stage === 'companion_finish') {
        await reply();
        // Not awaited: pairing completes with the client's next stanza, which this
        // connection can only read once the current one is handled.
        void this.finishCodePairing(registration, first);
        return;
      }
    }
    if (node.attrs.type !== 'result') return reply();
  }

  // ---- pairing ---------------------------------------------------------------------------

  private async sendPairSuccess(registration: Registration, account: Account, advSecret: Buffer): Promise<string> {
    const deviceId = account.nextDeviceId++;
    const linked = new Promise<string>((resolve, reject) => {
      registration.linking = { account, deviceId, resolve, reject };
    });
    await registration.connection.send({
      tag: 'iq',
      attrs: { from: SERVER_JID, type: 'set', id: this.nextId(), xmlns: 'md', t: unixNow() },
      content: [
        {
          tag: 'pair-success',
          attrs: {},
          content: [
            { tag: 'device-identity', attrs: {}, content: account.phone.signCompanion(registration.identityKey, advSecret, deviceId) },
            // The primary's platform: WhatsApp Business on Android (`smba`) or the plain app.
            { tag: 'platform', attrs: { name: account.business ? 'smba' : 'android' } },
            { tag: 'device', attrs: { jid: this.pn(account, deviceId), lid: this.lid(account, deviceId) } },
          ],
        },
      ],
    });
    return this.withTimeout(linked, 15_000, 'the client did not answer pair-success');
  }

  private async finishCodePairing(registration: Registration, node: BinaryNode): Promise<void> {
    const linkCode = registration.linkCode;
    const linking = registration.linking;
    if (!linkCode?.primaryEphemeral || !linkCode.companionEphemeral || !linking) return;
    const { Curve, hkdf } = this.baileys;
    try {
      const bundle = bytes(child(node, 'link_code_pairing_wrapped_key_bundle'));
      const companionIdentity = bytes(child(node, 'companion_identity_public'));
      if (!bundle || !companionIdentity) throw new Error('incomplete companion_finish');
      const companionShared = Curve.sharedKey(linkCode.primaryEphemeral.private, linkCode.companionEphemeral);
      const key = Buffer.from(hkdf(companionShared, 32, { salt: bundle.subarray(0, 32), info: 'link_code_pairing_key_bundle_encryption_key' }));
      const decipher = createDecipheriv('aes-256-gcm', key, bundle.subarray(32, 44));
      decipher.setAuthTag(bundle.subarray(bundle.length - 16));
      const plaintext = Buffer.concat([decipher.update(bundle.subarray(44, bundle.length - 16)), decipher.final()]);
      if (!plaintext.subarray(0, 32).equals(registration.identityKey) || !plaintext.subarray(32, 64).equals(linkCode.account.phone.identityPublicKey)) {
        throw new Error('key bundle identities do not match');
      }
      const identityShared = Curve.sharedKey(linkCode.account.phone.signedIdentityPrivateKey, companionIdentity);
      const advSecret = Buffer.from(hkdf(Buffer.concat([companionShared, identityShared, plaintext.subarray(64)]), 32, { info: 'adv_secret' }));
      linking.resolve(await this.sendPairSuccess(registration, linkCode.account, advSecret));
    } catch {
      // A wrong code only shows here: the key bundle does not decrypt.
      linking.reject(new SandboxError(400, 'pairing code does not match'));
    }
  }

  private async completePairing(registration: Registration, deviceIdentity: BinaryNode | undefined): Promise<void> {
    const linking = registration.linking;
    if (!linking) return;
    const { account, deviceId } = linking;
    const { proto, WA_ADV_DEVICE_SIG_PREFIX } = this.baileys;
    const signed = bytes(deviceIdentity);
    const identity = signed ? proto.ADVSignedDeviceIdentity.decode(signed) : undefined;
    const deviceSignatureValid =
      !!identity?.details &&
      !!identity.deviceSignature &&
      verifySignatureStrict(
        this.baileys,
        registration.identityKey,
        Buffer.concat([WA_ADV_DEVICE_SIG_PREFIX, identity.details, registration.identityKey, account.phone.identityPublicKey]),
        identity.deviceSignature,
      );
    if (!deviceSignatureValid) {
      linking.reject(new SandboxError(400, 'the client did not sign the device identity'));
      await registration.connection.failure('401');
      return;
    }
    account.companions.set(deviceId, {
      account,
      deviceId,
      platform: registration.platform,
      registrationId: registration.registrationId,
      identityKey: registration.identityKey,
      signedPreKey: registration.signedPreKey,
      preKeys: new Map(),
      queue: [],
      unacked: new Map(),
      logins: 0,
      initialSyncSent: false,
    });
    this.registrations.delete(registration);
    this.announceDevices(account, 'add', deviceId);
    linking.resolve(this.pn(account, deviceId));
    // Exactly what WhatsApp does after linking: the client must reconnect and log in.
    await registration.connection.streamError('515');
  }

  private logOut(companion: Companion, reason: LoggedOutDevice['reason']): void {
    const { account, deviceId } = companion;
    if (!account.companions.delete(deviceId)) return;
    this.announceDevices(account, 'remove', deviceId);
    this.loggedOut.push({
      jid: this.pn(account, deviceId),
      lid: this.lid(account, deviceId),
      phone: account.phone.info.phone,
      reason,
      at: Date.now(),
    });
  }

  // ---- login-time queries ------------------------------------------------------------------

  private async onEncryptIq(companion: Companion, node: BinaryNode, first: BinaryNode | undefined, reply: (content?: BinaryNode[]) => Promise<void>): Promise<void> {
    const { encodeBigEndian, KEY_BUNDLE_TYPE } = this.baileys;
    if (node.attrs.type === 'get' && first?.tag === 'count') {
      return reply([{ tag: 'count', attrs: { value: String(companion.preKeys.size) } }]);
    }
    if (node.attrs.type === 'get' && first?.tag === 'digest') {
      const answer = () => reply([{ tag: 'digest', attrs: {}, content: [{ tag: 'type', attrs: {}, content: KEY_BUNDLE_TYPE }] }]);
      const held = this.heldLogins.get(companion.account.phone.info.phone);
      if (held) {
        held.push(() => void answer().catch(() => undefined));
        return;
      }
      return answer();
    }
    if (node.attrs.type === 'get' && first?.tag === 'key') {
      const users = await Promise.all(children(first, 'user').map(async (user): Promise<BinaryNode> => {
        const jid = user.attrs.jid ?? '';
        const bundle = await this.takeBundle(jid);
        if (!bundle) return { tag: 'user', attrs: { jid }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] };
        const content: BinaryNode[] = [
          { tag: 'registration', attrs: {}, content: encodeBigEndian(bundle.registrationId) },
          { tag: 'type', attrs: {}, content: KEY_BUNDLE_TYPE },
          { tag: 'identity', attrs: {}, content: bundle.identityKey },
          {
            tag: 'skey',
            attrs: {},
            content: [
              { tag: 'id', attrs: {}, content: encodeBigEndian(bundle.signedPreKey.keyId, 3) },
              { tag: 'value', attrs: {}, content: bundle.signedPreKey.publicKey },
              { tag: 'signature', attrs: {}, content: bundle.signedPreKey.signature },
            ],
          },
        ];
        if (bundle.preKey) {
          content.push({
            tag: 'key',
            attrs: {},
            content: [
              { tag: 'id', attrs: {}, content: encodeBigEndian(bundle.preKey.keyId, 3) },
              { tag: 'value', attrs: {}, content: bundle.preKey.publicKey },
            ],
          });
        }
        return { tag: 'user', attrs: { jid }, content };
      }));
      return reply([{ tag: 'list', attrs: {}, content: users }]);
    }
    if (node.attrs.type === 'set') {
      for (const key of children(child(node, 'list'), 'key')) {
        const keyId = bytes(child(key, 'id'));
        const value = bytes(child(key, 'value'));
        if (keyId && value) companion.preKeys.set(keyId.readUIntBE(0, keyId.length), value);
      }
      const skey = child(node, 'skey') ?? child(child(node, 'rotate'), 'skey');
      const skeyId = bytes(child(skey, 'id'));
      const skeyValue = bytes(child(skey, 'value'));
      const skeySignature = bytes(child(skey, 'signature'));
      if (skeyId && skeyValue && skeySignature) {
        companion.signedPreKey = { keyId: skeyId.readUIntBE(0, skeyId.length), publicKey: skeyValue, signature: skeySignature };
      }
      return reply();
    }
    return reply();
  }

  /** After `passive`, the client waits for the end of offline delivery before going online. */
  private async afterPassive(companion: Companion): Promise<void> {
    const connection = companion.connection;
    if (!connection) return;
    const held = this.heldBacklogs.get(companion.account.phone.info.phone);
    if (held) {
      held.push(() => void this.afterPassive(companion).catch(() => undefined));
      return;
    }
    // As WhatsApp does: what piled up while the device was away or left unacknowledged (messages,
    // receipts, notifications), each marked `offline`, then the end-of-offline marker with the count.
    const queued = companion.queue.splice(0);
    for (const node of queued) this.deliverNode(companion, { ...node, attrs: { ...node.attrs, offline: '1' } });
    await connection.send({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(queued.length) } }] });
    if (!companion.initialSyncSent) {
      companion.initialSyncSent = true;
      await this.sendInitialSync(companion);
    }
  }

  /**
   * A real phone sends app-state keys and a history-sync notification right after linking;
   * Baileys holds its events back for 20 s until the notification arrives.
   */
  private async sendInitialSync(companion: Companion): Promise<void> {
    const { proto } = this.baileys;
    const account = companion.account;
    const { deflateSync } = await import('node:zlib');
    const history = proto.HistorySync.encode({ syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP, conversations: [] }).finish();
    const keyShare = account.phoneAppState.keyShare(companion.deviceId);
    const historyNotification: ProtoMessage = {
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
        historySyncNotification: {
          syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
          initialHistBootstrapInlinePayload: deflateSync(history),
          chunkOrder: 0,
          progress: 100,
        },
      },
    };
    for (const message of [keyShare, historyNotification]) {
      await this.deliverFromPhone(account, { kind: 'companion', companion }, this.nextId(), message, { category: 'peer', type: 'text' });
    }
  }

  private answerIq(companion: Companion, node: BinaryNode, reply: (content?: BinaryNode[]) => Promise<void>, answer: IqAnswer): Promise<void> {
    if ('error' in answer) {
      const error = { tag: 'error', attrs: { code: String(answer.error.code), text: answer.error.text } };
      return companion.connection?.send({ tag: 'iq', attrs: { from: SERVER_JID, type: 'error', id: node.attrs.id ?? '' }, content: [error] }) ?? Promise.resolve();
    }
    return reply(answer.content);
  }

  /**
   * `xmlns=blocklist`: get answers the list (LIDs, with the phone number); set blocks or unblocks
   * one contact, and every device of the blocker hears of it in an `account_sync` notification.
   */
  private async onBlocklistIq(companion: Companion, node: BinaryNode, reply: (content?: BinaryNode[]) => Promise<void>): Promise<void> {
    const me = companion.account;
    const item = (contact: Account, action?: string): BinaryNode => ({
      tag: 'item',
      attrs: { jid: contact.phone.info.lid, pn_jid: contact.phone.info.jid, ...(action ? { action } : {}) },
    });
    if (node.attrs.type !== 'set') {
      const listed = this.blocklist.list(me.phone.info.phone).map((phone) => item(this.account(phone)));
      return reply([{ tag: 'list', attrs: {}, content: listed }]);
    }
    const asked = child(node, 'item');
    const action = asked?.attrs.action;
    const contact = this.accountFor(asked?.attrs.jid ?? '');
    if ((action !== 'block' && action !== 'unblock') || (action === 'block' && !asked?.attrs.pn_jid)) {
      return this.answerIq(companion, node, reply, { error: { code: 400, text: 'bad-request' } });
    }
    if (!contact) return this.answerIq(companion, node, reply, { error: { code: 404, text: 'item-not-found' } });
    if (contact === me) return this.answerIq(companion, node, reply, { error: { code: 406, text: 'not-acceptable' } });
    this.blocklist.set(me.phone.info.phone, contact.phone.info.phone, action === 'block');
    await reply();
    const notification: BinaryNode = {
      tag: 'notification',
      attrs: { from: me.phone.info.jid, type: 'account_sync', id: this.nextId(), t: unixNow() },
      content: [{ tag: 'blocklist', attrs: {}, content: [item(contact, action)] }],
    };
    for (const device of this.activeCompanions(me)) this.deliverNode(device, notification);
  }

  /**
   * `xmlns=privacy` set with `<tokens>`: a device issues trusted-contact tokens to contacts (a
   * client does after its first message to a contact, then once per 7-day bucket). WhatsApp keeps
   * them and hands each token to the contact's devices in a `privacy_token` notification; those
   * attach it to their 1:1 messages back. A token names a known user, the type
   * `trusted_contact` and a timestamp `t`, or the whole set is refused with 400.
   */
  private async onPrivacyTokensIq(companion: Companion, node: BinaryNode, reply: (content?: BinaryNode[]) => Promise<void>): Promise<void> {
    const me = companion.account;
    const tokens = children(child(node, 'tokens'), 'token');
    const issued: { to: Account; t: number }[] = [];
    for (const token of tokens) {
      const to = this.accountFor(token.attrs.jid ?? '');
      const t = Number(token.attrs.t);
      if (node.attrs.type !== 'set' || token.attrs.type !== 'trusted_contact' || !to || !Number.isSafeInteger(t) || t <= 0) {
        return this.answerIq(companion, node, reply, { error: { code: 400, text: 'bad-request' } });
      }
      issued.push({ to, t });
    }
    if (issued.length === 0) return this.answerIq(companion, node, reply, { error: { code: 400, text: 'bad-request' } });
    await reply();
    for (const { to, t } of issued) {
      me.tokensIssued.push({ to: to.phone.info.phone, t });
      const notification: BinaryNode = {
        tag: 'notification',
        attrs: { from: me.phone.info.jid, sender_lid: me.phone.info.lid, type: 'privacy_token', id: this.nextId(), t: unixNow() },
        content: [{ tag: 'tokens', attrs: {}, content: [{ tag: 'token', attrs: { jid: me.phone.info.jid, t: String(t), type: 'trusted_contact' }, content: randomBytes(24) }] }],
      };
      for (const device of this.activeCompanions(to)) this.deliverNode(device, notification);
    }
  }

  /** Whether WhatsApp stops a 1:1 stanza from `from` to `to`: the recipient blocked the sender. */
  private blockedBy(to: Account, from: Account): boolean {
    return this.blocklist.has(to.phone.info.phone, from.phone.info.phone);
  }


  private usyncResult(usync: BinaryNode | undefined, viewer?: Account): BinaryNode {
    const protocols = new Set((child(usync, 'query')?.content as BinaryNode[] | undefined)?.map((p) => p.tag) ?? []);
    const users = children(child(usync, 'list'), 'user').map((user): BinaryNode => {
      const phoneNumber = bytes(child(user, 'contact'))?.toString().replace(/^\+/, '');
      const jid = user.attrs.jid ?? (phoneNumber ? `${phoneNumber}@${SERVER_JID}` : '');
      const account = this.accountFor(jid);
      const content: BinaryNode[] = [];
      if (protocols.has('contact')) content.push({ tag: 'contact', attrs: { type: account ? 'in' : 'out' } });
      if (protocols.has('devices')) {
        if (account && viewer) {
          account.deviceWatchers.add(viewer);
          viewer.deviceQueries.set(account.phone.info.phone, (viewer.deviceQueries.get(account.phone.info.phone) ?? 0) + 1);
        }
        const devices: BinaryNode[] = account
          ? [{ tag: 'device', attrs: { id: '0' } }, ...[...account.companions.keys()].map((id) => ({ tag: 'device', attrs: { id: String(id), 'key-index': String(id) } }))]
          : [];
        content.push({ tag: 'devices', attrs: {}, content: [{ tag: 'device-list', attrs: {}, content: devices }] });
      }
      if (protocols.has('lid') && account && !jid.endsWith('@lid')) content.push({ tag: 'lid', attrs: { val: account.phone.info.lid } });
      if (protocols.has('status') && account && viewer) content.push(this.profiles.statusNode(account.phone.info.phone, viewer.phone.info.phone));
      return { tag: 'user', attrs: { jid: account && jid.endsWith('@lid') ? account.phone.info.lid : account ? account.phone.info.jid : jid }, content };
    });
    return { tag: 'usync', attrs: { ...(usync?.attrs ?? {}) }, content: [{ tag: 'list', attrs: {}, content: users }] };
  }

  /**
   * A device of `account` was linked or removed: WhatsApp tells the devices that keep its device
   * list (every device of the account itself, and those of the accounts that asked for the list)
   * in a `devices` notification, so that they add it to their next messages or stop encrypting for
   * it (and drop its Signal session) without asking for the whole list again. The device is named
   * by its LID and by its phone-number jid (a client may keep the list under either).
   */
  private announceDevices(account: Account, change: 'add' | 'remove', deviceId: number): void {
    const listeners = new Set([account, ...account.deviceWatchers]);
    const ids = [0, ...account.companions.keys()].sort((a, b) => a - b);
    const hash = createHash('sha256').update(ids.join(',')).digest('base64').slice(0, 12);
    const notification: BinaryNode = {
      tag: 'notification',
      attrs: { from: account.phone.info.lid, type: 'devices', id: this.nextId(), t: unixNow() },
      content: [
        {
          tag: change,
          attrs: { device_hash: hash },
          content: [
            { tag: 'device', attrs: { jid: this.lid(account, deviceId), 'key-index': String(deviceId) } },
            { tag: 'device', attrs: { jid: this.pn(account, deviceId), 'key-index': String(deviceId) } },
            { tag: 'key-index-list', attrs: { ts: unixNow() } },
          ],
        },
      ],
    };
    for (const listener of listeners) {
      for (const companion of this.activeCompanions(listener)) {
        if (listener === account && companion.deviceId === deviceId) continue;
        this.deliverNode(companion, notification);
      }
    }
  }

  /**
   * After a write, WhatsApp tells every other device of the account to fetch: a `server_sync`
   * notification naming the collection to each companion, and the phone reads it too.
   */
  private announceAppState(account: Account, written: Array<{ name: string; version: number }>, writer?: Companion): void {
    if (!written.length) return;
    void account.phoneAppState.sync().catch(() => undefined);
    const latest = new Map(written.map((item) => [item.name, item.version]));
    for (const companion of this.activeCompanions(account)) {
      if (companion === writer) continue;
      // Baileys reads one collection per notification, as WhatsApp sends them.
      for (const [name, version] of latest) {
        this.deliverNode(companion, {
          tag: 'notification',
          attrs: { from: SERVER_JID, type: 'server_sync', id: this.nextId(), t: unixNow() },
          content: [{ tag: 'collection', attrs: { name, version: String(version) } }],
        });
      }
    }
  }

  // ---- message routing ---------------------------------------------------------------------

  private async onCompanionMessage(sender: Companion, node: BinaryNode): Promise<void> {
    const { id = '', to = '', type = 'text' } = node.attrs;
    if (node.attrs.category === 'peer') return this.onCompanionPeerMessage(sender, node);
    if (to === STATUS_JID) return this.onCompanionStatus(sender, node);
    if (to.endsWith('@newsletter')) return this.onCompanionChannelMessage(sender, node);
    const held = this.heldMessages.get(sender.account.phone.info.phone);
    if (held) {
      held.push(() => void this.onCompanionMessage(sender, node).catch(() => undefined));
      return;
    }
    const group = to.endsWith('@g.us') ? this.groups.get(to) : undefined;
    if (group && this.groups.refusesSender(group, sender.account)) {
      await sender.connection?.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow(), error: '401' } });
      return;
    }
    const recipient = group ? undefined : this.accountFor(to);
    if (recipient && recipient !== sender.account && this.blockedBy(sender.account, recipient)) {
      // The blocker's own messages to the blocked contact: WhatsApp refuses them.
      await sender.connection?.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow(), error: '403' } });
      return;
    }
    await sender.connection?.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow() } });
    const deviceIdentity = child(node, 'device-identity');
    const perDevice = new Map<string, BinaryNode>();
    for (const target of children(child(node, 'participants'), 'to')) {
      const enc = child(target, 'enc');
      if (enc && target.attrs.jid) perDevice.set(this.canonicalDevice(target.attrs.jid), enc);
    }
    const senderLid = this.lid(sender.account, sender.deviceId);
    const senderPn = this.pn(sender.account, sender.deviceId);
    const base = { id, type, t: unixNow(), notify: sender.account.phone.info.name };
    if (group) {
      const groupEnc = child(node, 'enc');
      for (const account of group.participants) {
        for (const device of this.devicesOf(account)) {
          const deviceLid = this.deviceLid(device);
          if (deviceLid === senderLid) continue;
          const encs = [perDevice.get(deviceLid), groupEnc].filter((enc): enc is BinaryNode => !!enc);
          if (!encs.length) continue;
          await this.deliverStanza(device, {
            tag: 'message',
            attrs: { ...base, from: group.jid, participant: senderLid, participant_pn: senderPn, addressing_mode: 'lid' },
            content: deviceIdentity ? [...encs, deviceIdentity] : encs,
          }, { author: senderLid, sender: sender.account, group: group.jid });
        }
      }
      return;
    }
    for (const [deviceLid, enc] of perDevice) {
      const device = this.deviceFor(deviceLid);
      if (!device) continue;
      // A blocked contact's messages are acked as usual but never reach the blocker.
      if (this.blockedBy(this.accountOfDevice(device), sender.account)) continue;
      const ownDevice = this.accountOfDevice(device) === sender.account;
      await this.deliverStanza(device, {
        tag: 'message',
        attrs: {
          ...base,
          from: senderLid,
          sender_pn: this.pn(sender.account, 0),
          ...(ownDevice ? { recipient: this.lidForm(to) } : {}),
        },
        content: deviceIdentity ? [enc, deviceIdentity] : [enc],
      }, { author: senderLid, sender: sender.account });
    }
  }

  /**
   * A message a companion sends to its own phone only (`category=peer`: one `enc` for device 0,
   * no participant list), as Baileys' `sendPeerDataOperationMessage` does. The phone answers a
   * request for older messages of a chat (`HISTORY_SYNC_ON_DEMAND`) with a history sync sent to
   * that companion alone; other peer operations it does not serve.
   */
  private async onCompanionPeerMessage(sender: Companion, node: BinaryNode): Promise<void> {
    const { id = '', to = '' } = node.attrs;
    const account = sender.account;
    if (this.accountFor(to) !== account) {
      await sender.connection?.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow(), error: '400' } });
      return;
    }
    await sender.connection?.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow() } });
    const enc = child(node, 'enc');
    const ciphertext = bytes(enc);
    const encType = enc?.attrs.type;
    if (!ciphertext || (encType !== 'pkmsg' && encType !== 'msg')) return;
    const senderLid = this.lid(account, sender.deviceId);
    let decoded: ProtoMessage;
    try {
      decoded = await account.phone.decrypt(senderLid, encType, ciphertext);
    } catch {
      this.askToRetry(account, node, { author: senderLid });
      return;
    }
    const { proto } = this.baileys;
    const request = (decoded.deviceSentMessage?.message ?? decoded).protocolMessage?.peerDataOperationRequestMessage;
    const onDemand = request?.historySyncOnDemandRequest;
    if (request?.peerDataOperationRequestType !== proto.Message.PeerDataOperationRequestType.HISTORY_SYNC_ON_DEMAND || !onDemand?.chatJid) return;
    await this.answerHistoryRequest(account, sender, id, onDemand);
  }

  /** The requested number of messages of the chat right before the anchor, to the asking companion only. */
  private async answerHistoryRequest(
    account: Account,
    companion: Companion,
    requestId: string,
    request: NonNullable<NonNullable<ProtoMessage['protocolMessage']>['peerDataOperationRequestMessage']>['historySyncOnDemandRequest'] & object,
  ): Promise<void> {
    const phone = account.phone;
    const asked = request.chatJid ?? '';
    const chat = asked.endsWith('@g.us') ? asked : this.lidForm(asked);
    const contact = asked.endsWith('@g.us') ? undefined : this.accountFor(asked);
    const count = Math.max(0, Math.min(Number(request.onDemandMsgCount ?? 0), ON_DEMAND_MAX));
    const anchor = { id: request.oldestMsgId ?? '', fromMe: Boolean(request.oldestMsgFromMe), timestampMs: Number(request.oldestMsgTimestampMs ?? 0) };
    const messages = phone.archive.before(chat, anchor, count);
    phone.historyRequests.push({ requestId, chat, anchorId: anchor.id, count, answered: messages.length, at: Date.now() });
    const notification = onDemandHistoryNotification(this.baileys, this.media, { id: chat, ...(contact ? { pnJid: contact.phone.info.jid } : {}) }, messages, requestId);
    await this.deliverFromPhone(account, { kind: 'companion', companion }, this.nextId(), notification, { category: 'peer', type: 'text' });
  }

  /**
   * A status update goes, as WhatsApp sends it, to the devices the client addressed (its
   * `statusJidList`, each with the sender key in a pkmsg) as `from=status@broadcast` with the
   * author as participant; nobody else gets it.
   */
  private async onCompanionStatus(sender: Companion, node: BinaryNode): Promise<void> {
    const { id = '', type = 'text' } = node.attrs;
    await sender.connection?.send({ tag: 'ack', attrs: { class: 'message', id, from: STATUS_JID, t: unixNow() } });
    const skmsg = child(node, 'enc');
    const senderLid = this.lid(sender.account, sender.deviceId);
    for (const target of children(child(node, 'participants'), 'to')) {
      const device = this.deviceFor(target.attrs.jid ?? '');
      const pkmsg = child(target, 'enc');
      if (!device || this.deviceLid(device) === senderLid) continue;
      await this.deliverStanza(device, {
        tag: 'message',
        attrs: { id, type, t: unixNow(), notify: sender.account.phone.info.name, from: STATUS_JID, participant: senderLid, participant_pn: this.pn(sender.account, sender.deviceId) },
        content: [pkmsg, skmsg].filter((enc): enc is BinaryNode => !!enc),
      }, { author: senderLid, sender: sender.account, group: STATUS_JID });
    }
  }

  /**
   * A message to a channel is not end-to-end encrypted: the client sends the `proto.Message` in a
   * `<plaintext>` node. The owner's or an admin's post gets a server id in the ack and goes to
   * every device of everyone who follows the channel; a reaction (`type=reaction`, naming the
   * post by `server_id`) is counted. Anyone else's post is refused with 403, an unknown channel
   * or post with 404, in the ack's `error` as WhatsApp does.
   */
  private async onCompanionChannelMessage(sender: Companion, node: BinaryNode): Promise<void> {
    const { id = '', to = '', type = 'text' } = node.attrs;
    const phone = sender.account.phone.info.phone;
    const ack = (attrs: Record<string, string>) => sender.connection?.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow(), ...attrs } });
    try {
      if (type === 'reaction') {
        const code = child(node, 'reaction')?.attrs.code ?? '';
        this.newsletters.react(to, phone, Number(node.attrs.server_id ?? ''), node.attrs.edit === '7' ? '' : code);
        await ack({});
        return;
      }
      const plaintext = bytes(child(node, 'plaintext'));
      if (!plaintext) {
        await ack({ error: '400' });
        return;
      }
      const post = this.newsletters.post(to, phone, id, type, plaintext);
      await ack({ server_id: String(post.serverId) });
      await this.deliverChannelPost(this.newsletters.find(to), post, sender);
    } catch (error) {
      const graphQl = (error as { graphQl?: { code: number } }).graphQl;
      if (!graphQl) throw error;
      await ack({ error: String(graphQl.code) });
    }
  }

  /** `sender`: the companion that posted, or the phone number of the phone that did (neither gets its own post back). */
  private async deliverChannelPost(newsletter: Newsletter, post: NewsletterPost, sender: Companion | string): Promise<void> {
    const stanza: BinaryNode = {
      tag: 'message',
      attrs: { from: newsletter.jid, id: post.id, server_id: String(post.serverId), t: String(post.t), type: post.type },
      content: [{ tag: 'plaintext', attrs: {}, content: post.plaintext }],
    };
    for (const phone of this.newsletters.audience(newsletter)) {
      const account = this.accounts.get(phone);
      if (!account) continue;
      for (const device of this.devicesOf(account)) {
        if (device.kind === 'companion') {
          if (device.companion !== sender) this.deliverNode(device.companion, stanza);
        } else if (sender !== phone) this.receiveChannelPostOnPhone(account, newsletter, post);
      }
    }
  }

  private receiveChannelPostOnPhone(account: Account, newsletter: Newsletter, post: NewsletterPost): void {
    const message = this.baileys.proto.Message.decode(post.plaintext) as ProtoMessage;
    const { pollSecret: _secret, voteCiphertext: _vote, ...visible } = describeMessage(message);
    const record: ReceivedMessage = { ...visible, id: post.id, from: newsletter.jid, fromPn: newsletter.jid, fromLid: newsletter.jid, chat: newsletter.jid, fromOwnDevice: false, timestamp: post.t, receivedAt: Date.now(), encryption: 'plaintext' };
    account.phone.received.push(record);
    for (const waiter of this.waiters) {
      if (waiter.phone === account.phone.info.phone && waiter.predicate(record)) waiter.resolve(record);
    }
  }

  /** Followers' devices hear that a channel is gone (Baileys logs it; the metadata answers 404 from then on). */
  private announceChannelDeleted(newsletter: Newsletter): void {
    const payload = { operation: 'NotificationNewsletterStateChange', updates: [{ jid: newsletter.jid, state: { type: 'DELETED' } }] };
    for (const phone of this.newsletters.audience(newsletter)) {
      const account = this.accounts.get(phone);
      for (const companion of account ? this.activeCompanions(account) : []) {
        this.deliverNode(companion, {
          tag: 'notification',
          attrs: { from: newsletter.jid, type: 'mex', id: this.nextId(), t: unixNow() },
          content: [{ tag: 'mex', attrs: { op_name: payload.operation }, content: Buffer.from(JSON.stringify(payload)) }],
        });
      }
    }
  }

  /** A virtual phone creates a channel (it becomes its owner). */
  createChannel(phone: string, name: string, description?: string): NewsletterView {
    this.account(phone);
    return this.channelCall(() => this.newsletters.view(this.newsletters.create(phone, name, description).jid));
  }

  /** A virtual phone follows or unfollows a channel, by jid or invite code. */
  followChannel(phone: string, key: string, following: boolean): NewsletterView {
    this.account(phone);
    return this.channelCall(() => {
      const jid = key.endsWith('@newsletter') ? key : this.newsletters.find(key, 'INVITE').jid;
      this.newsletters.follow(jid, phone, following);
      return this.newsletters.view(jid);
    });
  }

  /** The owner makes another account an admin of the channel (who may then post). */
  promoteChannelAdmin(jid: string, phone: string): NewsletterView {
    this.account(phone);
    return this.channelCall(() => {
      this.newsletters.promote(jid, phone);
      return this.newsletters.view(jid);
    });
  }

  /** A virtual phone posts a text to a channel it owns or administers; every follower's devices get it. */
  async postToChannel(phone: string, jid: string, text: string): Promise<{ id: string; serverId: number }> {
    this.account(phone);
    const id = this.nextId();
    const plaintext = Buffer.from(this.baileys.proto.Message.encode({ conversation: text }).finish());
    const post = this.channelCall(() => this.newsletters.post(jid, phone, id, 'text', plaintext));
    await this.deliverChannelPost(this.newsletters.find(jid), post, phone);
    return { id, serverId: post.serverId };
  }

  channel(jid: string): NewsletterView {
    return this.newsletters.view(jid);
  }

  private channelCall<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      const graphQl = (error as { graphQl?: { code: number; message: string } }).graphQl;
      if (graphQl) throw new SandboxError(graphQl.code === 403 || graphQl.code === 404 ? graphQl.code : 400, graphQl.message);
      throw error;
    }
  }

  /** The phone's user views statuses another account posted: a read receipt from `status@broadcast`, as WhatsApp sends it. */
  async viewStatus(phone: string, poster: string, ids: string[]): Promise<void> {
    const viewer = this.account(phone);
    const target = this.accountFor(poster);
    if (!target || !ids.length) throw new SandboxError(400, 'unknown poster or no ids');
    this.receiptToAccount(viewer, target, ids, 'read', STATUS_JID);
  }

  /** A virtual phone posts a text status to the given contacts' devices (its own companions too, as WhatsApp does). */
  async postStatus(phone: string, text: string, to: string[], style: { backgroundArgb?: number; font?: number } = {}): Promise<{ id: string }> {
    const account = this.account(phone);
    const id = this.nextId();
    const message: ProtoMessage = { extendedTextMessage: { text, ...(style.backgroundArgb !== undefined ? { backgroundArgb: style.backgroundArgb } : {}), ...(style.font !== undefined ? { font: style.font } : {}) } };
    const { ciphertext, senderKeyDistributionMessage } = await account.phone.encryptGroup(STATUS_JID, message);
    const distribution: ProtoMessage = { senderKeyDistributionMessage: { groupId: STATUS_JID, axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage } };
    const audience = [account, ...to.map((p) => this.account(p)).filter((a) => a !== account)];
    for (const member of audience) {
      for (const device of this.devicesOf(member)) {
        if (device.kind === 'phone' && device.account === account) continue;
        const deviceJid = this.deviceLid(device);
        if (!(await account.phone.ensureSession(deviceJid, () => this.takeBundle(deviceJid)))) continue;
        const pk = await account.phone.encrypt(deviceJid, distribution);
        await this.deliverStanza(device, {
          tag: 'message',
          attrs: { id, type: 'text', t: unixNow(), from: STATUS_JID, participant: account.phone.info.lid, participant_pn: account.phone.info.jid, notify: account.phone.info.name },
          content: [
            { tag: 'enc', attrs: { v: '2', type: pk.type }, content: pk.ciphertext },
            { tag: 'enc', attrs: { v: '2', type: 'skmsg' }, content: ciphertext },
          ],
        }, { author: account.phone.info.lid, sender: account, group: STATUS_JID });
      }
    }
    account.phone.sent.set(id, { id, chat: STATUS_JID, message });
    return { id };
  }

  private onCompanionReceipt(companion: Companion, node: BinaryNode): void {
    const ids = [node.attrs.id ?? '', ...children(child(node, 'list'), 'item').map((item) => item.attrs.id ?? '')].filter(Boolean);
    this.sentReceipts.push({ from: this.pn(companion.account, companion.deviceId), to: node.attrs.to ?? '', type: node.attrs.type ?? 'delivery', ids, at: Date.now() });
    if (this.sentReceipts.length > 1000) this.sentReceipts.shift();
    if (node.attrs.type === 'server-error') {
      // A media retry request goes to the account's own phone, which holds the file.
      const held = companion.account.phone.heldMedia.get(node.attrs.id ?? '');
      this.mediaRetries.push({ id: node.attrs.id ?? '', device: this.pn(companion.account, companion.deviceId), at: Date.now() });
      return this.deliverNode(companion, answerMediaRetry(this.baileys, node, held, this.media, companion.account.phone.info.jid));
    }
    // A device acknowledges a message it decrypted with a receipt rather than an ack (any type
    // but `retry`, which asks for it again).
    if (node.attrs.type !== 'retry') {
      const receipted = new Set(ids);
      for (const [key, stanza] of companion.unacked) if (stanza.tag === 'message' && receipted.has(stanza.attrs.id ?? '')) companion.unacked.delete(key);
    }
    const target = this.accountFor(node.attrs.to ?? '');
    if (node.attrs.type === 'retry' && target) {
      void this.resendFromPhone(target, companion, node.attrs.id ?? '').catch(() => undefined);
      return;
    }
    if (!target || target === companion.account) return;
    const type = node.attrs.type;
    if (type !== undefined && type !== 'read') return;
    for (const device of this.activeCompanions(target)) {
      this.deliverNode(device, {
        tag: 'receipt',
        attrs: { id: ids[0] ?? '', from: companion.account.phone.info.lid, t: unixNow(), ...(type ? { type } : {}) },
        ...(ids.length > 1 ? { content: [{ tag: 'list', attrs: {}, content: ids.slice(1).map((item) => ({ tag: 'item', attrs: { id: item } })) }] } : {}),
      });
    }
  }

  private onCompanionChatstate(companion: Companion, node: BinaryNode): void {
    const target = this.accountFor(node.attrs.to ?? '');
    const first = Array.isArray(node.content) ? node.content[0] : undefined;
    if (!target || !first || this.blockedBy(target, companion.account)) return;
    const state: PresenceState = first.attrs.media === 'audio' ? 'recording' : first.tag === 'paused' ? 'paused' : 'composing';
    target.phone.presences.push({ from: companion.account.phone.info.lid, state, at: Date.now() });
    for (const device of this.activeCompanions(target)) {
      this.deliverNode(device, { tag: 'chatstate', attrs: { from: companion.account.phone.info.lid }, content: [first] });
    }
  }

  /**
   * `<presence type=available|unavailable name>` sets the account's presence (and push name:
   * it is what WhatsApp shows others as `notify`); `<presence type=subscribe to>` asks for a
   * contact's presence, which WhatsApp answers with the current one.
   */
  private onCompanionPresence(companion: Companion, node: BinaryNode): void {
    const name = node.attrs.name;
    if (name) companion.account.phone.info.name = name;
    const type = node.attrs.type;
    if (type === 'subscribe') {
      const target = this.accountFor(node.attrs.to ?? '');
      if (!target || target === companion.account) return;
      this.presence.subscribe(companion.account.phone.info.phone, target.phone.info.phone);
      const stanza = this.presenceFor(target, companion.account);
      if (stanza) this.deliverNode(companion, stanza);
      return;
    }
    if (type === 'available' || type === 'unavailable') this.announcePresence(companion.account, type === 'available');
  }

  private announcePresence(account: Account, online: boolean): void {
    if (!this.presence.set(account.phone.info.phone, online)) return;
    for (const phone of this.presence.subscribersOf(account.phone.info.phone)) {
      const viewer = this.account(phone);
      const stanza = this.presenceFor(account, viewer);
      if (stanza) for (const companion of this.activeCompanions(viewer)) this.deliverNode(companion, stanza);
    }
  }

  /**
   * What `viewer` is told of `owner`'s presence: nothing to a blocked contact or while online is
   * hidden from them; the last-seen time only where the owner's last-seen privacy allows.
   */
  private presenceFor(owner: Account, viewer: Account): BinaryNode | undefined {
    if (this.blockedBy(owner, viewer)) return undefined;
    const ownerPhone = owner.phone.info.phone;
    const viewerPhone = viewer.phone.info.phone;
    const { online, lastSeen } = this.presence.of(ownerPhone);
    if (online) return this.profiles.onlineVisible(ownerPhone, viewerPhone) ? { tag: 'presence', attrs: { from: owner.phone.info.lid, type: 'available' } } : undefined;
    const last = lastSeen && this.profiles.visible(ownerPhone, viewerPhone, 'last') ? String(lastSeen) : 'deny';
    return { tag: 'presence', attrs: { from: owner.phone.info.lid, type: 'unavailable', last } };
  }

  /**
   * A virtual phone calls an account: every linked device gets the `<call><offer>` (audio, and
   * video for a video call), as WhatsApp rings them all; nothing rings at a callee that blocked
   * the caller. The call rings until a device rejects it or the caller hangs up.
   */
  placeCall(phone: string, to: string, options: { video?: boolean; group?: boolean } = {}): CallInfo {
    const caller = this.account(phone);
    const callee = this.accountFor(to);
    if (!callee || callee === caller) throw new SandboxError(404, 'unknown callee');
    const callId = randomBytes(16).toString('hex').toUpperCase();
    const call: CallInfo = { callId, from: phone, to: callee.phone.info.phone, video: !!options.video, group: !!options.group, status: 'ringing' };
    this.calls.set(callId, call);
    if (this.blockedBy(callee, caller)) return { ...call };
    const offer: BinaryNode = {
      tag: 'offer',
      attrs: {
        'call-id': callId,
        'call-creator': caller.phone.info.lid,
        caller_pn: caller.phone.info.jid,
        count: '0',
        ...(options.group ? { type: 'group' } : {}),
      },
      content: [
        { tag: 'audio', attrs: { enc: 'opus', rate: '16000' } },
        ...(options.video ? [{ tag: 'video', attrs: { enc: 'vp8', dec: 'vp8' } }] : []),
        { tag: 'net', attrs: { medium: '3' } },
      ],
    };
    this.ringCallee(callee, caller, offer);
    return { ...call };
  }

  /** The caller hangs up: the callee's devices stop ringing (`<terminate>`). */
  endCall(phone: string, callId: string): CallInfo {
    const caller = this.account(phone);
    const call = this.calls.get(callId);
    if (!call || call.from !== caller.phone.info.phone) throw new SandboxError(404, 'unknown call');
    if (call.status === 'ringing') {
      call.status = 'terminated';
      this.ringCallee(this.account(call.to), caller, { tag: 'terminate', attrs: { 'call-id': callId, 'call-creator': caller.phone.info.lid } });
    }
    return { ...call };
  }

  callsOf(phone: string): CallInfo[] {
    const account = this.account(phone);
    return [...this.calls.values()].filter((c) => c.from === account.phone.info.phone || c.to === account.phone.info.phone).map((c) => ({ ...c }));
  }

  private ringCallee(callee: Account, caller: Account, info: BinaryNode, except?: Companion): void {
    const stanza: BinaryNode = {
      tag: 'call',
      attrs: { from: caller.phone.info.lid, id: this.nextId(), t: unixNow(), notify: caller.phone.info.name },
      content: [info],
    };
    for (const companion of this.activeCompanions(callee)) if (companion !== except) this.deliverNode(companion, stanza);
  }

  /**
   * A device answers a call with `<call to=caller><reject call-id call-creator/></call>`: the
   * server acks it by id (Baileys waits for that), the caller learns it was rejected, and the
   * callee's other devices stop ringing.
   */
  private async onCompanionCall(companion: Companion, node: BinaryNode): Promise<void> {
    const info = Array.isArray(node.content) ? node.content[0] : undefined;
    await companion.connection?.send({ tag: 'ack', attrs: { class: 'call', id: node.attrs.id ?? '', from: node.attrs.to ?? SERVER_JID, ...(info ? { type: info.tag } : {}) } });
    const call = this.calls.get(info?.attrs['call-id'] ?? '');
    if (!info || info.tag !== 'reject' || !call || call.status !== 'ringing' || call.to !== companion.account.phone.info.phone) return;
    call.status = 'rejected';
    call.rejectedBy = this.pn(companion.account, companion.deviceId);
    this.ringCallee(companion.account, this.account(call.from), { tag: 'reject', attrs: { 'call-id': call.callId, 'call-creator': this.account(call.from).phone.info.lid, count: '0' } }, companion);
  }

  /** The phone's owner opens or leaves WhatsApp: subscribers hear of it as their privacy allows. */
  setPhonePresence(phone: string, online: boolean): void {
    this.announcePresence(this.account(phone), online);
  }

  /** Delivers one per-device stanza: over the wire to a companion, or into a virtual phone. */
  private async deliverStanza(device: DeviceRef, stanza: BinaryNode, origin: { author: string; sender: Account; group?: string }): Promise<void> {
    if (device.kind === 'companion') {
      this.deliverNode(device.companion, stanza);
      return;
    }
    await this.receiveOnPhone(device.account, stanza, origin);
  }

  private deliverNode(companion: Companion, node: BinaryNode): void {
    const kept = node.tag === 'message' || node.tag === 'receipt';
    if (companion.connection?.isOpen) {
      if (kept) companion.unacked.set(stanzaKey(node.tag, node.attrs.id, node.attrs.from, node.attrs.participant, node.attrs.type), node);
      void companion.connection.send(node);
    } else if (kept || node.tag === 'notification') companion.queue.push(node);
  }

  /** The client's ack names the stanza by class, id, sender, participant and type (Baileys' `buildAckStanza`). */
  private onCompanionAck(companion: Companion, node: BinaryNode): void {
    if (companion.losesAcks) return;
    const key = stanzaKey(node.attrs.class, node.attrs.id, node.attrs.to, node.attrs.participant, node.attrs.type);
    companion.unacked.delete(key);
    // Acknowledged on a connection that was since replaced: the copy queued for the next one is moot.
    const queued = companion.queue.findIndex((n) => stanzaKey(n.tag, n.attrs.id, n.attrs.from, n.attrs.participant, n.attrs.type) === key);
    if (queued >= 0) companion.queue.splice(queued, 1);
  }

  private requeueUnacked(companion: Companion): void {
    if (!companion.unacked.size) return;
    companion.queue.unshift(...companion.unacked.values());
    companion.unacked.clear();
  }

  private async receiveOnPhone(account: Account, stanza: BinaryNode, origin: { author: string; sender: Account; group?: string }): Promise<void> {
    const phone = account.phone;
    let message: ProtoMessage | undefined;
    let encryption: ReceivedMessage['encryption'] = 'msg';
    for (const enc of children(stanza, 'enc')) {
      const ciphertext = bytes(enc);
      if (!ciphertext) continue;
      const encType = enc.attrs.type;
      let decoded: ProtoMessage | undefined;
      try {
        decoded =
          encType === 'skmsg' && origin.group
            ? await phone.decryptGroup(origin.group, origin.author, ciphertext)
            : encType === 'pkmsg' || encType === 'msg'
              ? await phone.decrypt(origin.author, encType, ciphertext)
              : undefined;
      } catch {
        // What a WhatsApp client does when it cannot decrypt: a retry receipt to the sending device,
        // which then sends the message again on a fresh session.
        this.askToRetry(account, stanza, origin);
        return;
      }
      if (!decoded) continue;
      await phone.acceptSenderKey(origin.author, decoded);
      message = { ...(message ?? {}), ...decoded };
      // A group's content comes on its sender key; the pairwise copies beside it carry that key.
      if (encType === 'skmsg' || !origin.group) encryption = encType as ReceivedMessage['encryption'];
    }
    if (!message) return;
    const fromOwnDevice = origin.sender === account;
    const destination = message.deviceSentMessage?.destinationJid ?? undefined;
    const content = message.deviceSentMessage?.message ?? message;
    const described = describeMessage(content);
    if (described.kind === 'other' && message.senderKeyDistributionMessage && !origin.group) return;
    const senderInfo = origin.sender.phone.info;
    const id = stanza.attrs.id ?? '';
    const chat = origin.group ?? (fromOwnDevice ? this.lidForm(destination ?? stanza.attrs.recipient ?? '') : senderInfo.lid);
    const { pollSecret, voteCiphertext, ...visible } = described;
    if (visible.kind === 'poll' && pollSecret && visible.poll) {
      phone.polls.set(id, { id, creatorLid: senderInfo.lid, creatorPn: senderInfo.jid, secret: pollSecret, options: visible.poll.options });
    }
    if (visible.kind === 'vote' && visible.vote && voteCiphertext) {
      const poll = phone.polls.get(visible.vote.pollId);
      const selected = poll ? decryptVote(this.baileys, voteCiphertext, poll, [senderInfo.lid, senderInfo.jid]) : undefined;
      visible.vote = { ...visible.vote, selectedOptions: selected ?? [] };
    }
    const record: ReceivedMessage = {
      ...visible,
      id,
      from: origin.author,
      fromPn: senderInfo.jid,
      fromLid: senderInfo.lid,
      chat,
      fromOwnDevice,
      timestamp: Number(stanza.attrs.t ?? unixNow()),
      receivedAt: Date.now(),
      encryption,
    };
    if (visible.kind === 'protocol') return;
    const media = receiveMedia(content, this.media);
    if (media) {
      record.kind = media.media.type;
      record.media = media.media;
      if (media.plaintext) phone.receivedMedia.set(id, media.plaintext);
      if (media.plaintext && media.mediaKey) phone.heldMedia.set(id, { kind: media.media.type, mediaKey: media.mediaKey, plaintext: media.plaintext });
    }
    phone.received.push(record);
    if (ARCHIVED_KINDS.has(record.kind)) {
      phone.archive.add(chat, {
        id,
        fromMe: fromOwnDevice,
        ...(origin.group && !fromOwnDevice ? { participant: senderInfo.lid } : {}),
        timestamp: record.timestamp,
        message: content,
        pushName: senderInfo.name,
      });
    }
    for (const waiter of this.waiters) {
      if (waiter.phone === phone.info.phone && waiter.predicate(record)) waiter.resolve(record);
    }
    if (!fromOwnDevice && this.options.autoDeliveryReceipts) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.receiptToAccount(account, origin.sender, [id], 'delivered', origin.group);
      }, this.options.deliveryReceiptDelayMs);
      this.timers.add(timer);
    }
  }

  /** A retry receipt from a virtual phone to the companion device whose message it could not decrypt. */
  private askToRetry(account: Account, stanza: BinaryNode, origin: { author: string; group?: string }): void {
    const device = this.deviceFor(origin.author);
    if (device?.kind !== 'companion') return;
    const id = stanza.attrs.id ?? '';
    const phone = account.phone;
    const count = (phone.retriesAsked.get(id) ?? 0) + 1;
    if (count > MAX_RETRIES) return;
    phone.retriesAsked.set(id, count);
    const registration = Buffer.alloc(4);
    registration.writeUInt32BE(phone.registrationId);
    this.deliverNode(device.companion, {
      tag: 'receipt',
      attrs: { id, t: unixNow(), type: 'retry', ...(origin.group ? { from: origin.group, participant: phone.info.lid } : { from: phone.info.lid }) },
      content: [
        { tag: 'retry', attrs: { count: String(count), id, t: unixNow(), v: '1' } },
        { tag: 'registration', attrs: {}, content: registration },
      ],
    });
  }

  /**
   * A companion could not decrypt a message from a virtual phone and asks for it again: the phone
   * builds a fresh session from a new pre-key bundle of that device and sends the same id again.
   */
  private async resendFromPhone(target: Account, companion: Companion, id: string): Promise<void> {
    const sent = target.phone.sent.get(id);
    if (!sent || sent.chat.endsWith('@g.us')) return;
    const deviceJid = this.lid(companion.account, companion.deviceId);
    const count = (target.phone.retriesServed.get(`${id}|${deviceJid}`) ?? 0) + 1;
    if (count > MAX_RETRIES) return;
    target.phone.retriesServed.set(`${id}|${deviceJid}`, count);
    if (!(await target.phone.renewSession(deviceJid, () => this.takeBundle(deviceJid)))) return;
    const own = companion.account === target;
    const message = own ? { deviceSentMessage: { destinationJid: sent.chat, message: sent.message } } : sent.message;
    await this.deliverFromPhone(target, { kind: 'companion', companion }, id, message, { type: stanzaTypeOf(sent.message), ...(own ? { recipient: sent.chat } : {}) });
  }

  private receiptToAccount(from: Account, to: Account, ids: string[], type: ReceiptType, group?: string): void {
    for (const companion of this.activeCompanions(to)) {
      this.deliverNode(companion, {
        tag: 'receipt',
        attrs: {
          id: ids[0] ?? '',
          t: unixNow(),
          ...(group ? { from: group, participant: from.phone.info.lid } : { from: from.phone.info.lid }),
          ...(type === 'read' ? { type: 'read' } : {}),
        },
        ...(ids.length > 1 ? { content: [{ tag: 'list', attrs: {}, content: ids.slice(1).map((id) => ({ tag: 'item', attrs: { id } })) }] } : {}),
      });
    }
  }

  private async sendFromPhone(account: Account, to: string, id: string, message: ProtoMessage): Promise<void> {
    const phone = account.phone;
    const type = stanzaTypeOf(message);
    const group = to.endsWith('@g.us') ? this.groups.get(to) : undefined;
    if (to.endsWith('@g.us')) {
      if (!group || !group.participants.includes(account)) throw new SandboxError(404, 'unknown group or not a participant');
      if (this.groups.refusesSender(group, account)) throw new SandboxError(403, 'only admins may send to this group');
      const { ciphertext, senderKeyDistributionMessage } = await phone.encryptGroup(group.jid, message);
      const distribution: ProtoMessage = {
        senderKeyDistributionMessage: { groupId: group.jid, axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage },
      };
      for (const member of group.participants) {
        for (const device of this.devicesOf(member)) {
          if (device.kind === 'phone' && device.account === account) continue;
          const deviceJid = this.deviceLid(device);
          if (!(await phone.ensureSession(deviceJid, () => this.takeBundle(deviceJid)))) continue;
          const pk = await phone.encrypt(deviceJid, distribution);
          await this.deliverStanza(device, {
            tag: 'message',
            attrs: { id, type, t: unixNow(), from: group.jid, participant: phone.info.lid, participant_pn: phone.info.jid, addressing_mode: 'lid', notify: phone.info.name },
            content: [
              { tag: 'enc', attrs: { v: '2', type: pk.type }, content: pk.ciphertext },
              { tag: 'enc', attrs: { v: '2', type: 'skmsg' }, content: ciphertext },
            ],
          }, { author: phone.info.lid, sender: account, group: group.jid });
        }
      }
    } else {
      const target = this.accountFor(to);
      if (!target) throw new SandboxError(404, 'unknown recipient');
      if (target !== account && this.blockedBy(account, target)) throw new SandboxError(403, 'this phone blocked the recipient');
      const chat = target.phone.info.lid;
      const delivered = !this.blockedBy(target, account);
      for (const device of delivered ? this.devicesOf(target) : []) {
        await this.deliverFromPhone(account, device, id, message, { type });
      }
      if (target !== account) {
        for (const companion of this.activeCompanions(account)) {
          await this.deliverFromPhone(account, { kind: 'companion', companion }, id, { deviceSentMessage: { destinationJid: chat, message } }, { type, recipient: chat });
        }
      }
    }
    phone.sent.set(id, { id, chat: group?.jid ?? this.lidForm(to), message });
    if (ARCHIVED_KINDS.has(describeMessage(message).kind) || mediaOf(message)) {
      phone.archive.add(group?.jid ?? this.lidForm(to), { id, fromMe: true, timestamp: Number(unixNow()), message });
    }
    const poll = message.pollCreationMessageV3 ?? message.pollCreationMessage;
    const secret = message.messageContextInfo?.messageSecret;
    if (poll && secret) {
      phone.polls.set(id, { id, creatorLid: phone.info.lid, creatorPn: phone.info.jid, secret: Buffer.from(secret), options: (poll.options ?? []).map((o) => o.optionName ?? '') });
    }
  }

  private async deliverFromPhone(account: Account, device: DeviceRef, id: string, message: ProtoMessage, attrs: { type: string; category?: string; recipient?: string }): Promise<void> {
    const phone = account.phone;
    const deviceJid = this.deviceLid(device);
    if (!(await phone.ensureSession(deviceJid, () => this.takeBundle(deviceJid)))) return;
    const { type, ciphertext } = await phone.encrypt(deviceJid, message);
    await this.deliverStanza(device, {
      tag: 'message',
      attrs: {
        id,
        from: phone.info.lid,
        sender_pn: phone.info.jid,
        t: unixNow(),
        notify: phone.info.name,
        type: attrs.type,
        ...(attrs.category ? { category: attrs.category } : {}),
        ...(attrs.recipient ? { recipient: attrs.recipient } : {}),
      },
      content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
    }, { author: phone.info.lid, sender: account });
  }

  private buildMessage(account: Account, to: string, message: OutgoingMessage): ProtoMessage {
    const phone = account.phone;
    const keyFor = (targetId: string) => {
      const sent = phone.sent.get(targetId);
      if (sent) return { remoteJid: sent.chat, fromMe: true, id: targetId };
      const received = phone.received.find((item) => item.id === targetId);
      if (!received) throw new SandboxError(404, `phone ${phone.info.phone} knows no message ${targetId}`);
      // A group's message, or a status (reacting to a status names status@broadcast and its author), as WhatsApp keys them.
      return received.chat.endsWith('@g.us') || received.chat === STATUS_JID
        ? { remoteJid: received.chat, fromMe: false, id: targetId, participant: received.fromLid }
        : { remoteJid: received.fromLid, fromMe: false, id: targetId };
    };
    switch (message.type) {
      case 'text': {
        if (!message.quotedId && !message.mentions?.length) return { conversation: message.text };
        const quoted = message.quotedId ? keyFor(message.quotedId) : undefined;
        const contextInfo = {
          ...(quoted ? { stanzaId: quoted.id, participant: quoted.fromMe ? phone.info.lid : (quoted.participant ?? quoted.remoteJid), quotedMessage: { conversation: '' } } : {}),
          ...(message.mentions?.length ? { mentionedJid: message.mentions } : {}),
        };
        return { extendedTextMessage: { text: message.text, contextInfo } };
      }
      case 'location':
        return { locationMessage: { degreesLatitude: message.latitude, degreesLongitude: message.longitude, name: message.name, address: message.address } };
      case 'contact':
        return { contactMessage: { displayName: message.displayName, vcard: message.vcard } };
      case 'contacts':
        return { contactsArrayMessage: { displayName: message.displayName ?? `${message.contacts.length} contacts`, contacts: message.contacts } };
      case 'poll':
        return {
          pollCreationMessageV3: { name: message.name, options: message.options.map((optionName) => ({ optionName })), selectableOptionsCount: message.selectableCount ?? 1 },
          messageContextInfo: { messageSecret: randomBytes(32) },
        };
      case 'vote': {
        const poll = phone.polls.get(message.pollId);
        if (!poll) throw new SandboxError(404, `phone ${phone.info.phone} knows no poll ${message.pollId}`);
        const key = keyFor(message.pollId);
        const vote = encryptPollVote(this.baileys, message.options, {
          secret: poll.secret,
          pollId: poll.id,
          creatorJid: poll.creatorLid,
          voterJid: phone.info.lid,
        });
        return { pollUpdateMessage: { pollCreationMessageKey: key, vote, senderTimestampMs: Date.now() } };
      }
      case 'reaction':
        return { reactionMessage: { key: keyFor(message.targetId), text: message.emoji, senderTimestampMs: Date.now() } };
      case 'edit':
        return {
          protocolMessage: {
            key: keyFor(message.targetId),
            type: this.baileys.proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
            editedMessage: { conversation: message.text },
            timestampMs: Date.now(),
          },
        };
      case 'revoke':
        return { protocolMessage: { key: keyFor(message.targetId), type: this.baileys.proto.Message.ProtocolMessage.Type.REVOKE } };
      case 'image':
      case 'video':
      case 'audio':
      case 'document':
      case 'sticker': {
        const quoted = message.quotedId ? keyFor(message.quotedId) : undefined;
        const contextInfo =
          quoted || message.mentions?.length
            ? {
                ...(quoted ? { stanzaId: quoted.id, participant: quoted.fromMe ? phone.info.lid : (quoted.participant ?? quoted.remoteJid), quotedMessage: { conversation: '' } } : {}),
                ...(message.mentions?.length ? { mentionedJid: message.mentions } : {}),
              }
            : undefined;
        return buildMediaMessage(message, this.media, contextInfo);
      }
      default:
        throw new SandboxError(400, `unsupported message type for ${to}`);
    }
  }

  // ---- addressing ----------------------------------------------------------------------------

  private account(phone: string): Account {
    const account = this.accounts.get(phone.replace(/^\+/, '').split('@')[0] ?? '');
    if (!account) throw new SandboxError(404, `no virtual phone ${phone}`);
    return account;
  }

  private accountFor(jid: string): Account | undefined {
    const decoded = this.baileys.jidDecode(jid);
    if (!decoded) return undefined;
    return decoded.server === 'lid' ? this.accountsByLid.get(decoded.user) : this.accounts.get(decoded.user);
  }

  private companionFor(jid: string): Companion | undefined {
    const device = this.baileys.jidDecode(jid)?.device;
    return device ? this.accountFor(jid)?.companions.get(device) : undefined;
  }

  private deviceFor(jid: string): DeviceRef | undefined {
    const account = this.accountFor(jid);
    if (!account) return undefined;
    const device = this.baileys.jidDecode(jid)?.device ?? 0;
    if (device === 0) return { kind: 'phone', account };
    const companion = account.companions.get(device);
    return companion ? { kind: 'companion', companion } : undefined;
  }

  private devicesOf(account: Account): DeviceRef[] {
    return [{ kind: 'phone', account }, ...[...account.companions.values()].map((companion) => ({ kind: 'companion' as const, companion }))];
  }

  private activeCompanions(account: Account): Companion[] {
    return [...account.companions.values()];
  }

  private accountOfDevice(device: DeviceRef): Account {
    return device.kind === 'phone' ? device.account : device.companion.account;
  }

  private deviceLid(device: DeviceRef): string {
    return device.kind === 'phone' ? device.account.phone.info.lid : this.lid(device.companion.account, device.companion.deviceId);
  }

  private canonicalDevice(jid: string): string {
    const account = this.accountFor(jid);
    const device = this.baileys.jidDecode(jid)?.device ?? 0;
    return account ? this.lid(account, device) : jid;
  }

  private lidForm(jid: string): string {
    const account = this.accountFor(jid);
    return account ? account.phone.info.lid : jid;
  }

  private pn(account: Account, device: number): string {
    return this.baileys.jidEncode(account.phone.info.phone, SERVER_JID, device || undefined);
  }

  private lid(account: Account, device: number): string {
    return this.baileys.jidEncode(account.phone.lidUser, 'lid', device || undefined);
  }

  private companionOf(connection: DeviceConnection): Companion | undefined {
    for (const account of this.accounts.values()) {
      for (const companion of account.companions.values()) {
        if (companion.connection === connection) return companion;
      }
    }
    return undefined;
  }

  private async takeBundle(jid: string): Promise<PreKeyBundle | undefined> {
    const device = this.deviceFor(jid);
    if (!device) return undefined;
    if (device.kind === 'phone') return device.account.phone.takeBundle();
    const { companion } = device;
    const next = companion.preKeys.entries().next();
    if (!next.done) companion.preKeys.delete(next.value[0]);
    return {
      registrationId: companion.registrationId,
      identityKey: companion.identityKey,
      signedPreKey: companion.signedPreKey,
      ...(next.done ? {} : { preKey: { keyId: next.value[0], publicKey: next.value[1] } }),
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private nextId(): string {
    this.messageCounter += 1;
    return `3EB0${randomBytes(6).toString('hex').toUpperCase()}${this.messageCounter.toString(16).toUpperCase().padStart(4, '0')}`;
  }

  private async withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new SandboxError(409, message)), ms);
          this.timers.add(timer);
        }),
      ]);
    } finally {
      if (timer) {
        clearTimeout(timer);
        this.timers.delete(timer);
      }
    }
  }
}

/** Retry receipts per message and device before a client gives up, as WhatsApp's do. */
const MAX_RETRIES = 5;

/** The most messages a phone sends for one on-demand history request (WhatsApp Web asks for 50). */
const ON_DEMAND_MAX = 50;

/** What a phone keeps in a chat's history: what people wrote, not the reactions, votes and edits about it. */
const ARCHIVED_KINDS = new Set<string>(['text', 'location', 'contact', 'poll', 'image', 'video', 'audio', 'document', 'sticker']);

function stanzaKey(tag: string | undefined, id: string | undefined, from: string | undefined, participant: string | undefined, type: string | undefined): string {
  // A receipt's type is part of its name: the delivery and the read receipt of one message are
  // two stanzas, each acknowledged on its own (the ack repeats the type).
  return `${tag ?? ''}|${id ?? ''}|${from ?? ''}|${participant ?? ''}${tag === 'receipt' ? `|${type ?? ''}` : ''}`;
}

/** Sends what waited for a phone in `held`, in order, and stops holding. */
function release(held: Map<string, Array<() => void>>, phone: string): void {
  const waiting = held.get(phone) ?? [];
  held.delete(phone);
  for (const send of waiting) send();
}
