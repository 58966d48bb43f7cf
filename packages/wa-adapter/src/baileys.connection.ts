import { EventEmitter } from 'node:events';

import { AppError, BoundedSet, isGroupJid, isLidJid, isPhoneJid, normalizeJid, normalizePhoneNumber } from '@wa/domain';
import type {
  AnyMessageContent,
  BaileysEventMap,
  CacheStore,
  GroupMetadata,
  WAMessage,
  WAMessageKey,
  proto,
} from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

import {
  authorOf,
  decodeWebMessage,
  deliveryStatus,
  encodeWebMessage,
  pollCreationOf,
  pollOptionTexts,
  statusUpdatesOf,
  toIncomingMessage,
  toMillis,
  toProtoKey,
  toWaKey,
} from './baileys-message.mapper';
import { type BaileysModule, loadBaileys } from './baileys.loader';
import { chatUpdatesOf, contactNamesOf, labelAssociationsOf, labelEditsOf, starUpdatesOf, toChatModification } from './baileys-chat.mapper';
import { whatsappMediaDispatcher } from './whatsapp-media.dispatcher';
import type { WaChatChange, WaContactNameChange, WaLabel, WaLastMessage } from './wa-chat.port';
import { backoffDelay, classifyDisconnect, refusedCertificateCheck, type BackoffOptions } from './disconnect.policy';
import { buildPollUpdateMessage, decryptIncomingPollVote } from './poll-vote.crypto';
import { BaileysContacts } from './baileys.contacts';
import { BlockedContacts } from './blocked-contacts';
import { BaileysGroupAdmin, attachJoinRequests } from './baileys.group-admin';
import { BaileysCommunities, attachCommunityLinks } from './baileys.communities';
import { BaileysChannels } from './baileys.channels';
import { BaileysGroupPolicies } from './baileys.group-policies';
import { attachPresence } from './baileys.presence';
import { onDemandHistoryNotification, readOnDemandHistory } from './baileys.history';
import { BaileysProfile } from './baileys.profile';
import { SessionCaches } from './session.caches';
import type { WaLogger } from './silent.logger';
import { mediaUploadFailure } from './media-upload.error';
import type { WaPrivacyCategory } from './wa-profile.port';
import type { WaGroupPolicies } from './wa-group-policies.port';
import type { WaJoinRequestUpdate } from './wa-group-admin.port';
import { isLoggedInCreds, type SqlAuthState, type SqlAuthStateStore } from './sql-auth-state.store';
import type {
  WaConnection,
  WaConnectionEvents,
  WaContactCheck,
  WaGroupMetadata,
  WaGroupParticipantsUpdate,
  WaGroupUpdate,
  WaIncomingMessage,
  WaMe,
  WaMessageKey,
  WaMessageLookup,
  WaMessageStatusUpdate,
  WaOutgoingContent,
  WaParticipantResult,
  WaPollVote,
  WaPresence,
  WaReceived,
  WaSendOptions,
  WaSendResult,
  WaStatus,
  WaStatusContent,
} from './wa-engine.port';

type Socket = ReturnType<BaileysModule['makeWASocket']>;

export interface BaileysConnectionConfig {
  authStore: SqlAuthStateStore;
  messages: WaMessageLookup;
  logger: WaLogger;
  version: [number, number, number];
  wsUrl?: string;
  browser?: [string, string, string];
  syncHistory: boolean;
  /**
   * WhatsApp's media host or its stand-in: joined with the direct path of a history-sync blob our
   * phone uploaded, and where Baileys' own blob downloads (app-state snapshots) are sent.
   */
  mediaBaseUrl: string;
  maxConsecutiveFailures: number;
  backoff: BackoffOptions;
  pairingTimeoutMs: number;
  /** New QR codes offered after the first one, across sockets, before giving up with `qr_timeout`. */
  qrMaxRefreshes: number;
  /** Baileys' `qrTimeout`: how long each QR is shown; unset = Baileys' own 60 s, then 20 s. */
  qrTimeoutMs?: number;
  connectTimeoutMs: number;
  /** How long a query to the server may wait for its answer (Baileys' `defaultQueryTimeoutMs`). */
  queryTimeoutMs: number;
}

interface LiveSocket {
  sock: Socket;
  auth: SqlAuthState;
  detach: () => void;
  closed: Promise<void>;
  markClosed: () => void;
  /** The server's offline backlog came and every stanza of it was handled (patched-in signal). */
  backlogProcessed: boolean;
}

/** Baileys rc14 shows the first QR of a socket this long, every later one BAILEYS_NEXT_QR_MS (socket.js, `qrTimeout`). */
const BAILEYS_FIRST_QR_MS = 60_000;
const BAILEYS_NEXT_QR_MS = 20_000;

/** The primary's platform at pairing for WhatsApp Business (Android, iOS); `android`/`iphone` otherwise. */
const BUSINESS_PLATFORMS = new Set(['smba', 'smbi']);

/** Ids we sent ourselves are kept briefly so their own upsert echo is not reported as a new message. */
const SENT_IDS_KEPT = 1000;

/**
 * One WhatsApp session across any number of sockets. Every socket end is answered with a new
 * socket and new listeners (Baileys' event emitter dies with its socket); the caches outlive them.
 */
export class BaileysConnection implements WaConnection {
  private readonly events = new EventEmitter();
  private readonly caches = new SessionCaches();
  private receiptSink?: (received: WaReceived) => Promise<void>;
  private statusSink?: (updates: WaMessageStatusUpdate[]) => Promise<void>;
  /** Callers of `backlogProcessed` waiting for the live socket's backlog. */
  private readonly backlogWaiters = new Set<() => void>();
  private live: LiveSocket | undefined;
  private wanted: 'running' | 'stopped' = 'stopped';
  private disposed = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pairingTimer: NodeJS.Timeout | undefined;
  private pairingCode: string | undefined;
  private currentStatus: WaStatus = { state: 'stopped' };
  private latestQr: string | undefined;
  /** QR codes offered since the last start or login, over every socket in between. */
  private qrsOffered = 0;
  /** QR codes offered by the current socket: its first one lives longer. */
  private socketQrs = 0;
  private readonly sentIds = new BoundedSet<string>(SENT_IDS_KEPT);
  private readonly blocked = new BlockedContacts();
  private readonly knownMappings = new Set<string>();
  /** Our global presence as last set, repeated when the push name changes. */
  private globalPresence: 'available' | 'unavailable' = 'unavailable';
  private readonly profile = new BaileysProfile(() => this.connected().sock, () => this.globalPresence);
  private readonly contacts = new BaileysContacts(() => this.connected().sock, loadBaileys);
  private readonly channels = new BaileysChannels(() => this.connected().sock, loadBaileys);
  private readonly policies = new BaileysGroupPolicies(() => this.connected().sock, async (jid) => void (await this.caches.groupMetadata.del(jid)));
  private readonly groupAdmin = new BaileysGroupAdmin(() => this.connected().sock, async (jid) => void (await this.caches.groupMetadata.del(jid)));
  private readonly communities = new BaileysCommunities(() => this.connected().sock, async (jid) => void (await this.caches.groupMetadata.del(jid)));

  constructor(
    readonly sessionId: string,
    private readonly config: BaileysConnectionConfig,
    private readonly beforeFirstSocket: () => Promise<void>,
    private readonly onDisposed: () => void,
  ) {}

  get status(): WaStatus {
    return this.currentStatus;
  }

  get qr(): string | undefined {
    return this.latestQr;
  }

  setReceiptSink(sink: ((received: WaReceived) => Promise<void>) | undefined): void {
    this.receiptSink = sink;
  }

  setStatusSink(sink: ((updates: WaMessageStatusUpdate[]) => Promise<void>) | undefined): void {
    this.statusSink = sink;
  }

  backlogProcessed(timeoutMs: number): Promise<boolean> {
    if (this.live?.backlogProcessed) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (processed: boolean): void => {
        clearTimeout(timer);
        this.backlogWaiters.delete(waiter);
        resolve(processed);
      };
      const waiter = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.backlogWaiters.add(waiter);
    });
  }

  on<E extends keyof WaConnectionEvents>(event: E, listener: WaConnectionEvents[E]): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  async start(): Promise<void> {
    if (this.disposed) throw new AppError('session_unavailable', 'this connection was disposed');
    if (this.wanted === 'running') return;
    this.wanted = 'running';
    this.failures = 0;
    this.qrsOffered = 0;
    await this.beforeFirstSocket();
    this.setStatus({ state: 'starting' });
    await this.openSocket();
  }

  async stop(): Promise<void> {
    const wasRunning = this.wanted === 'running';
    this.wanted = 'stopped';
    this.clearTimers();
    const live = this.live;
    await this.closeSocket();
    // A half-done pairing leaves keys the phone never confirmed; the next start must offer a fresh QR.
    // Between two sockets of a running connection (a reconnect waiting, or the next socket's
    // credentials loading) there is no live socket to ask: the stored credentials say whether the
    // device was linked. A connection already stopped or failed is left as it was.
    if (live ? !isLoggedInCreds(live.auth.state.creds) : wasRunning && !(await this.config.authStore.isLoggedIn(this.sessionId))) {
      await this.config.authStore.clear(this.sessionId);
    }
    this.pairingCode = undefined;
    this.latestQr = undefined;
    if (this.currentStatus.state !== 'failed' && this.currentStatus.state !== 'logged_out') {
      this.setStatus({ state: 'stopped' });
    }
  }

  async logout(): Promise<void> {
    this.wanted = 'stopped';
    this.clearTimers();
    const live = this.live;
    if (live && this.currentStatus.state === 'connected') {
      // Tells WhatsApp to drop the linked device; the socket then ends with 401.
      await live.sock.logout().catch((error: unknown) => this.reportError(error));
    }
    await this.closeSocket();
    await this.wipe();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.stop();
    this.disposed = true;
    this.caches.close();
    this.events.removeAllListeners();
    this.onDisposed();
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    const phone = normalizePhoneNumber(phoneNumber);
    if (!phone) throw new AppError('validation_error', 'phoneNumber must be an international number (E.164)', { phoneNumber });
    const live = this.live;
    if (!live) throw new AppError('session_not_connected', 'start the session before requesting a pairing code');
    if (isLoggedInCreds(live.auth.state.creds)) throw new AppError('conflict', 'the session is already linked to a phone');
    if (this.currentStatus.state !== 'qr' && this.currentStatus.state !== 'pairing') await this.waitForStatus('qr', 30_000);
    const code = await this.live!.sock.requestPairingCode(phone);
    this.pairingCode = code;
    this.setStatus({ state: 'pairing', code });
    clearTimeout(this.pairingTimer);
    this.pairingTimer = setTimeout(() => void this.abandonPairing(), this.config.pairingTimeoutMs);
    return code;
  }

  async sendMessage(chatJid: string, content: WaOutgoingContent, options: WaSendOptions): Promise<WaSendResult> {
    const quoted = options.quoted ? await this.findMessage(options.quoted) : undefined;
    if (options.quoted && !quoted) throw new AppError('not_found', 'quoted message not found', { id: options.quoted.id });
    return this.send(chatJid, toAnyContent(content), options.messageId, quoted);
  }

  react(target: WaMessageKey, emoji: string, options: WaSendOptions): Promise<WaSendResult> {
    return this.send(target.chatJid, { react: { text: emoji, key: toProtoKey(target) } }, options.messageId);
  }

  edit(target: WaMessageKey, text: string, options: WaSendOptions): Promise<WaSendResult> {
    if (!target.fromMe) throw new AppError('validation_error', 'only own messages can be edited');
    return this.send(target.chatJid, { text, edit: toProtoKey(target) }, options.messageId);
  }

  revoke(target: WaMessageKey, options: WaSendOptions): Promise<WaSendResult> {
    return this.send(target.chatJid, { delete: toProtoKey(target) }, options.messageId);
  }

  async vote(poll: WaMessageKey, selectedOptions: string[], options: WaSendOptions): Promise<WaSendResult> {
    const { sock } = this.connected();
    const b = await loadBaileys();
    await this.refuseBlocked(sock, poll.chatJid);
    const stored = await this.findMessage(poll);
    if (!stored) throw new AppError('not_found', 'poll not found', { id: poll.id });
    const creation = pollCreationOf(b.normalizeMessageContent(stored.message) ?? undefined);
    const secret = stored.message?.messageContextInfo?.messageSecret;
    if (!creation || !secret) throw new AppError('validation_error', 'the message is not a poll that can be voted on', { id: poll.id });
    const texts = pollOptionTexts(creation);
    const unknown = selectedOptions.filter((o) => !texts.includes(o));
    if (unknown.length) throw new AppError('validation_error', 'unknown poll options', { unknown, options: texts });
    const selectable = creation.selectableOptionsCount ?? 0;
    if (selectable > 0 && selectedOptions.length > selectable) {
      throw new AppError('validation_error', `this poll allows at most ${selectable} selected options`, { selectableCount: selectable });
    }

    const me = this.me(sock);
    const useLid = await this.pollUsesLid(sock, stored.key);
    const ownJid = useLid && me.lid ? me.lid : me.jid;
    const creatorJid = stored.key.fromMe ? ownJid : authorOf(stored.key, [])[0];
    const content = await buildPollUpdateMessage({
      pollKey: toProtoKey(poll),
      messageSecret: secret,
      selectedOptions,
      pollCreatorJid: creatorJid,
      voterJid: ownJid,
    });
    const full = b.generateWAMessageFromContent(poll.chatJid, content, { userJid: sock.user?.id ?? me.jid, messageId: options.messageId });
    this.rememberSent(options.messageId);
    // Baileys' sendMessage has no vote content; relayMessage picks stanza type "poll" for a
    // pollUpdateMessage, and the meta node is what WhatsApp expects on a vote.
    await sock.relayMessage(poll.chatJid, full.message!, {
      messageId: options.messageId,
      additionalNodes: [{ tag: 'meta', attrs: { polltype: 'vote' } }],
    });
    return this.result(b, full);
  }

  async read(keys: WaMessageKey[]): Promise<void> {
    await this.connected().sock.readMessages(keys.map(toProtoKey));
  }

  async sendPresence(presence: WaPresence, chatJid?: string): Promise<void> {
    const { sock } = this.connected();
    const global = !chatJid && (presence === 'available' || presence === 'unavailable');
    // Baileys drops a global presence while the account has no push name; WhatsApp takes it without one.
    if (global && !sock.authState.creds.me?.name) await sock.sendNode({ tag: 'presence', attrs: { type: presence } });
    else await sock.sendPresenceUpdate(presence, chatJid);
    if (global) this.globalPresence = presence;
  }

  ownProfile = () => this.profile.ownProfile();
  updateProfileName = (name: string) => this.profile.updateProfileName(name);
  updateProfileAbout = (about: string) => this.profile.updateProfileAbout(about);
  updateProfilePicture = (image: Buffer) => this.profile.updateProfilePicture(image);
  removeProfilePicture = () => this.profile.removeProfilePicture();
  privacySettings = () => this.profile.privacySettings();
  updatePrivacy = (category: WaPrivacyCategory, value: string) => this.profile.updatePrivacy(category, value);
  profilePictureUrl = (jid: string) => this.profile.profilePictureUrl(jid);
  about = (jid: string) => this.profile.about(jid);
  checkNumbers = (phones: string[]) => this.contacts.checkNumbers(phones);
  businessProfile = (jid: string) => this.contacts.businessProfile(jid);
  phoneOfLid = (lid: string) => this.contacts.phoneOfLid(lid);
  blocklist = () => this.contacts.blocklist();
  async setBlocked(jid: string, blocked: boolean): Promise<void> {
    await this.contacts.setBlocked(jid, blocked);
    // Known at once, not only when WhatsApp's notification of it comes in.
    this.blocked.apply(await this.withAlternates(this.connected().sock, [normalizeJid(jid)]), blocked);
  }
  createChannel = (name: string, description?: string) => this.channels.createChannel(name, description);
  channelMetadata = (key: { jid: string } | { invite: string }) => this.channels.channelMetadata(key);
  followChannel = (jid: string, following: boolean) => this.channels.followChannel(jid, following);
  muteChannel = (jid: string, muted: boolean) => this.channels.muteChannel(jid, muted);
  updateChannel = (jid: string, change: { name?: string; description?: string }) => this.channels.updateChannel(jid, change);
  deleteChannel = (jid: string) => this.channels.deleteChannel(jid);
  followedChannels = () => this.channels.followedChannels();
  channelMessages = (jid: string, count: number) => this.channels.channelMessages(jid, count);
  reactToChannelMessage = (jid: string, serverId: string, emoji: string) => this.channels.reactToChannelMessage(jid, serverId, emoji);

  groupPolicies = (groupJid: string) => this.policies.groupPolicies(groupJid);
  setGroupPolicies = (groupJid: string, change: Partial<WaGroupPolicies>) => this.policies.setGroupPolicies(groupJid, change);
  groupPictureUrl = (groupJid: string) => this.groupAdmin.groupPictureUrl(groupJid);
  setGroupPicture = (groupJid: string, image: Buffer) => this.groupAdmin.setGroupPicture(groupJid, image);
  removeGroupPicture = (groupJid: string) => this.groupAdmin.removeGroupPicture(groupJid);
  groupJoinRequests = (groupJid: string) => this.groupAdmin.groupJoinRequests(groupJid);
  updateGroupJoinRequests = (groupJid: string, participants: string[], action: 'approve' | 'reject') => this.groupAdmin.updateGroupJoinRequests(groupJid, participants, action);
  joinByInvite = (code: string) => this.groupAdmin.joinByInvite(code);
  createCommunity = (subject: string, description?: string) => this.communities.createCommunity(subject, description);
  community = (communityJid: string) => this.communities.community(communityJid);
  listCommunities = () => this.communities.listCommunities();
  linkCommunityGroup = (communityJid: string, groupJid: string) => this.communities.linkCommunityGroup(communityJid, groupJid);
  unlinkCommunityGroup = (communityJid: string, groupJid: string) => this.communities.unlinkCommunityGroup(communityJid, groupJid);

  /**
   * On the socket the offer came through: a call can ring as soon as the login succeeded, while
   * the client still waits for its last login queries before it reports the connection open
   * (seconds on a loaded machine), and must be rejectable then.
   */
  async rejectCall(callId: string, from: string): Promise<void> {
    const live = this.live;
    if (!live) throw new AppError('session_not_connected', 'the WhatsApp session is not connected', { status: this.currentStatus.state });
    await live.sock.rejectCall(callId, from);
  }

  async subscribePresence(jid: string): Promise<void> {
    await this.connected().sock.presenceSubscribe(jid);
  }

  async onWhatsApp(phoneNumber: string): Promise<WaContactCheck> {
    const phone = normalizePhoneNumber(phoneNumber);
    if (!phone) throw new AppError('validation_error', 'phoneNumber must be an international number (E.164)', { phoneNumber });
    const { sock } = this.connected();
    const [hit] = (await sock.onWhatsApp(phone)) ?? [];
    if (!hit?.exists) return { exists: false };
    const jid = normalizeJid(hit.jid);
    const lid = await sock.signalRepository.lidMapping.getLIDForPN(jid).catch(() => null);
    return { exists: true, jid, ...(lid ? { lid: normalizeJid(lid) } : {}) };
  }

  async fetchHistory(anchor: WaMessageKey, anchorTimestampMs: number, count: number): Promise<string> {
    return this.connected().sock.fetchMessageHistory(count, toProtoKey(anchor), anchorTimestampMs);
  }

  async createGroup(subject: string, participants: string[]): Promise<WaGroupMetadata> {
    const metadata = await this.connected().sock.groupCreate(subject, participants);
    await this.caches.groupMetadata.set(metadata.id, metadata);
    return toWaGroup(metadata);
  }

  async groupMetadata(groupJid: string): Promise<WaGroupMetadata> {
    const metadata = await this.connected().sock.groupMetadata(groupJid);
    await this.caches.groupMetadata.set(metadata.id, metadata);
    return toWaGroup(metadata);
  }

  async reuploadMedia(raw: Uint8Array): Promise<Uint8Array> {
    const b = await loadBaileys();
    const updated = await this.connected().sock.updateMediaMessage(decodeWebMessage(b, raw));
    return b.proto.WebMessageInfo.encode(updated).finish();
  }

  async listGroups(): Promise<WaGroupMetadata[]> {
    const groups = await this.connected().sock.groupFetchAllParticipating();
    for (const metadata of Object.values(groups)) await this.caches.groupMetadata.set(metadata.id, metadata);
    return Object.values(groups).map(toWaGroup);
  }

  async updateGroupParticipants(groupJid: string, participants: string[], action: 'add' | 'remove' | 'promote' | 'demote'): Promise<WaParticipantResult[]> {
    const results = await this.connected().sock.groupParticipantsUpdate(groupJid, participants, action);
    await this.caches.groupMetadata.del(groupJid);
    return results.map((r) => ({ jid: r.jid ?? '', status: r.status }));
  }

  async updateGroupSubject(groupJid: string, subject: string): Promise<void> {
    await this.connected().sock.groupUpdateSubject(groupJid, subject);
    await this.caches.groupMetadata.del(groupJid);
  }

  async updateGroupDescription(groupJid: string, description: string): Promise<void> {
    // Baileys reads the current description id first (`prev`), as WhatsApp wants it.
    await this.connected().sock.groupUpdateDescription(groupJid, description || undefined);
    await this.caches.groupMetadata.del(groupJid);
  }

  async updateGroupSetting(groupJid: string, setting: 'announcement' | 'not_announcement' | 'locked' | 'unlocked'): Promise<void> {
    await this.connected().sock.groupSettingUpdate(groupJid, setting);
    await this.caches.groupMetadata.del(groupJid);
  }

  async groupInviteCode(groupJid: string): Promise<string> {
    const code = await this.connected().sock.groupInviteCode(groupJid);
    if (!code) throw new AppError('internal_error', 'WhatsApp answered no invite code');
    return code;
  }

  async revokeGroupInvite(groupJid: string): Promise<string> {
    const code = await this.connected().sock.groupRevokeInvite(groupJid);
    if (!code) throw new AppError('internal_error', 'WhatsApp answered no invite code');
    return code;
  }

  async groupInviteInfo(code: string): Promise<WaGroupMetadata> {
    return toWaGroup(await this.connected().sock.groupGetInviteInfo(code));
  }

  async leaveGroup(groupJid: string): Promise<void> {
    await this.connected().sock.groupLeave(groupJid);
    await this.caches.groupMetadata.del(groupJid);
  }

  async modifyChat(chatJid: string, change: WaChatChange, lastMessage?: WaLastMessage): Promise<void> {
    await this.connected().sock.chatModify(toChatModification(change, lastMessage), chatJid);
  }

  async forwardMessage(chatJid: string, source: WaMessageKey, options: WaSendOptions): Promise<WaSendResult> {
    const message = await this.findMessage(source);
    if (!message) throw new AppError('not_found', 'the message to forward is not stored', { id: source.id });
    return this.send(chatJid, { forward: message }, options.messageId);
  }

  async sendStatus(content: WaStatusContent, recipients: string[], options: WaSendOptions): Promise<WaSendResult> {
    const { sock } = this.connected();
    const b = await loadBaileys();
    this.rememberSent(options.messageId);
    const body = 'type' in content ? toAnyContent(content) : { text: content.text };
    const style: { backgroundColor?: string; font?: number } = 'type' in content ? {} : content;
    const sent = await sock
      .sendMessage('status@broadcast', body, {
        messageId: options.messageId,
        statusJidList: recipients,
        ...(style.backgroundColor ? { backgroundColor: style.backgroundColor } : {}),
        ...(style.font !== undefined ? { font: style.font } : {}),
      } as Parameters<Socket['sendMessage']>[2])
      .catch((err: unknown) => {
        throw mediaUploadFailure(err);
      });
    if (!sent) throw new AppError('internal_error', 'WhatsApp engine returned no message for the status');
    return this.result(b, sent);
  }

  isBusiness(): boolean {
    return BUSINESS_PLATFORMS.has(String(this.live?.auth.state.creds.platform ?? ''));
  }

  async editLabel(label: WaLabel): Promise<void> {
    // The label index names no chat: Baileys takes a jid it does not use.
    await this.connected().sock.addLabel('', { id: label.id, name: label.name, color: label.color, deleted: label.deleted, predefinedId: label.predefinedId ? Number(label.predefinedId) : undefined });
  }

  async labelChat(chatJid: string, labelId: string, labeled: boolean): Promise<void> {
    const { sock } = this.connected();
    await (labeled ? sock.addChatLabel(chatJid, labelId) : sock.removeChatLabel(chatJid, labelId));
  }

  async labelMessage(chatJid: string, messageId: string, labelId: string, labeled: boolean): Promise<void> {
    const { sock } = this.connected();
    await (labeled ? sock.addMessageLabel(chatJid, messageId, labelId) : sock.removeMessageLabel(chatJid, messageId, labelId));
  }

  async setContactName(jid: string, name: WaContactNameChange | null): Promise<void> {
    const { sock } = this.connected();
    if (!name) {
      await sock.removeContact(jid);
      return;
    }
    await sock.addOrEditContact(jid, { fullName: name.fullName, firstName: name.firstName ?? name.fullName.split(' ')[0] });
  }

  async starMessage(key: WaMessageKey, starred: boolean): Promise<void> {
    await this.connected().sock.star(key.chatJid, [{ id: key.id, fromMe: key.fromMe }], starred);
  }

  private async openSocket(): Promise<void> {
    const b = await loadBaileys();
    const auth = await this.config.authStore.use(this.sessionId);
    // stop() (or dispose()) came while the credentials loaded (new ones take a while: their keys
    // are made off the event loop): a socket opened now would outlive the stop, unclosed.
    if (this.wanted !== 'running' || this.disposed) return;
    const logger = this.config.logger.child({ sessionId: this.sessionId });
    const mediaDispatcher = whatsappMediaDispatcher(this.config.mediaBaseUrl);
    const sock = b.makeWASocket({
      ...(this.config.wsUrl ? { waWebSocketUrl: this.config.wsUrl } : {}),
      version: this.config.version,
      ...(this.config.browser ? { browser: this.config.browser } : {}),
      logger,
      ...(this.config.qrTimeoutMs ? { qrTimeout: this.config.qrTimeoutMs } : {}),
      auth: { creds: auth.state.creds, keys: b.makeCacheableSignalKeyStore(auth.state.keys, logger, this.caches.signalKeys) },
      connectTimeoutMs: this.config.connectTimeoutMs,
      defaultQueryTimeoutMs: this.config.queryTimeoutMs,
      markOnlineOnConnect: false,
      syncFullHistory: false,
      shouldSyncHistoryMessage: () => this.config.syncHistory,
      generateHighQualityLinkPreview: false,
      getMessage: async (key) => (await this.findMessage(toWaKey(key)))?.message ?? undefined,
      // Patched into Baileys: the message is stored before its receipt tells WhatsApp to forget it.
      beforeMessageReceipt: (message) => this.beforeReceipt(b, sock, message),
      // Patched in too: a receipt's statuses are stored before WhatsApp gets its ack.
      beforeReceiptAck: (told) => this.beforeReceiptAck(sock, told),
      cachedGroupMetadata: async (jid) => this.caches.groupMetadata.get(jid),
      msgRetryCounterCache: this.caches.msgRetryCounter,
      // Typed as the plain CacheStore: NodeCache's synchronous mget/mset work where Baileys awaits
      // them, but do not match the Promise-returning signatures of PossiblyExtendedCacheStore.
      userDevicesCache: this.caches.userDevices as CacheStore,
      callOfferCache: this.caches.callOffer,
      placeholderResendCache: this.caches.placeholderResend,
      ...(mediaDispatcher ? { options: { dispatcher: mediaDispatcher } as unknown as RequestInit } : {}),
      // Baileys checks no app-state MAC by default: a patch or snapshot altered between the phone
      // and us would be applied. Checked, a bad patch is skipped and a bad snapshot reported.
      appStateMacVerification: { patch: true, snapshot: true },
    });
    this.watchLidMappings(sock);
    this.socketQrs = 0;
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const live: LiveSocket = { sock, auth, closed, markClosed, detach: () => undefined, backlogProcessed: false };
    const detachEvents = sock.ev.process((events) => this.handleEvents(b, live, events));
    // Baileys only reports failed acks; a plain server ack is the "sent" the outbox waits for.
    const onAck = (node: { attrs: Record<string, string> }): void => {
      if (this.live !== live || node.attrs.error || !node.attrs.id) return;
      const chatJid = node.attrs.from ?? '';
      this.emit('messageStatus', { key: { chatJid, id: node.attrs.id, fromMe: true }, status: 'server_ack', timestampMs: Date.now() });
    };
    sock.ws.on('CB:ack,class:message', onAck);
    const detachPresence = attachPresence(sock, (update) => this.live === live && this.emit('presence', update));
    const detachJoinRequests = attachJoinRequests(sock, (update) => this.live === live && this.emit('joinRequest', update));
    const detachCommunityLinks = attachCommunityLinks(
      sock,
      async (jid) => void (await this.caches.groupMetadata.del(jid)),
      (update) => this.live === live && this.emit('community', update),
    );
    live.detach = () => {
      detachEvents();
      sock.ws.off('CB:ack,class:message', onAck);
      detachPresence();
      detachJoinRequests();
      detachCommunityLinks();
    };
    this.live = live;
  }

  private async handleEvents(b: BaileysModule, live: LiveSocket, events: Partial<BaileysEventMap>): Promise<void> {
    if (events['creds.update']) {
      Object.assign(live.auth.state.creds, events['creds.update']);
      await live.auth.saveCreds().catch((error: unknown) => this.reportError(error));
      // The phone shared the account's app-state key (right after pairing): read the whole state.
      if (events['creds.update'].myAppStateKeyId) this.syncUnreadAppState(b, live);
    }
    if (events['connection.update']) await this.onConnectionUpdate(live, events['connection.update']);
    if (this.live !== live) return;
    for (const call of events.call ?? []) {
      this.emit('call', {
        callId: call.id,
        from: normalizeJid(call.from),
        ...(call.callerPn ? { callerPn: normalizeJid(call.callerPn) } : {}),
        status: call.status,
        video: !!call.isVideo,
        group: !!call.isGroup,
        ...(call.groupJid ? { groupJid: call.groupJid } : {}),
        offline: call.offline,
        timestampMs: call.date.getTime() || Date.now(),
      });
    }
    for (const { blocklist, type } of events['blocklist.update'] ? [events['blocklist.update']] : []) {
      this.blocked.apply(blocklist, type === 'add');
      this.emit('blocklist', { jids: blocklist.map(normalizeJid), blocked: type === 'add' });
    }
    if (events['lid-mapping.update']) this.emitMapping(events['lid-mapping.update'].lid, events['lid-mapping.update'].pn);
    for (const mapping of events['messaging-history.set']?.lidPnMappings ?? []) this.emitMapping(mapping.lid, mapping.pn);
    for (const message of events['messages.upsert']?.messages ?? []) {
      await this.onUpsert(b, live, message).catch((error: unknown) => this.reportError(error));
    }
    for (const update of statusUpdatesOf(events)) this.emit('messageStatus', update);
    for (const group of events['groups.update'] ?? []) if (group.id) await this.caches.groupMetadata.del(group.id);
    for (const update of chatUpdatesOf(events)) this.emit('chatUpdate', update);
    for (const update of starUpdatesOf(events)) this.emit('messageStar', update);
    for (const label of labelEditsOf(events)) this.emit('labelEdit', label);
    for (const association of labelAssociationsOf(events)) this.emit('labelAssociation', association);
    for (const update of contactNamesOf(events)) this.emit('contactName', update);
    if (events['group-participants.update']) await this.caches.groupMetadata.del(events['group-participants.update'].id);
  }

  /**
   * Reads every app-state collection this session never read, from the start (a snapshot and the
   * patches after it). Baileys does that first full sync only when it processes history, which the
   * runner turns off by default; without it a newly linked session would learn the account's
   * archived chats, labels and contact names only as each collection next changes. Not as Baileys'
   * "initial" sync: that one holds chat updates back until a history sync lists the chat.
   */
  private syncUnreadAppState(b: BaileysModule, live: LiveSocket): void {
    void (async () => {
      const names = b.ALL_WA_PATCH_NAMES;
      const versions = await live.auth.state.keys.get('app-state-sync-version', [...names]);
      const unread = names.filter((name) => !versions[name]);
      if (unread.length && this.live === live) await live.sock.resyncAppState(unread, false);
    })().catch((error: unknown) => this.reportError(error));
  }

  private async onConnectionUpdate(live: LiveSocket, update: BaileysEventMap['connection.update']): Promise<void> {
    // Before the ownership check: closeSocket lets go of `live` first, then waits for this.
    if (update.connection === 'close') live.markClosed();
    if (this.live !== live) return;
    if (update.processedPendingNotifications) {
      live.backlogProcessed = true;
      for (const waiter of [...this.backlogWaiters]) waiter();
    }
    if (update.qr) {
      // A new QR means the previous one expired unscanned; past the budget nobody is looking.
      if (!this.pairingCode && this.qrBudgetSpent()) {
        void this.giveUpQr();
        return;
      }
      this.latestQr = update.qr;
      this.qrsOffered += 1;
      const lifetimeMs = this.config.qrTimeoutMs ?? (this.socketQrs === 0 ? BAILEYS_FIRST_QR_MS : BAILEYS_NEXT_QR_MS);
      this.socketQrs += 1;
      // Once a pairing code is shown, the phone is typing it: a QR status would hide the code.
      if (!this.pairingCode) this.setStatus({ state: 'qr', qr: update.qr, expiresAt: Date.now() + lifetimeMs });
    }
    if (update.connection === 'open') {
      this.failures = 0;
      this.qrsOffered = 0;
      this.pairingCode = undefined;
      this.latestQr = undefined;
      clearTimeout(this.pairingTimer);
      this.blocked.load(async () => (await live.sock.fetchBlocklist()).filter((jid): jid is string => !!jid));
      this.setStatus({ state: 'connected', me: this.me(live.sock) });
      if (live.auth.state.creds.myAppStateKeyId) this.syncUnreadAppState(await loadBaileys(), live);
    }
    if (update.connection === 'close') {
      live.detach();
      this.live = undefined;
      const error = update.lastDisconnect?.error;
      const code = (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
      if (this.wanted === 'running') await this.afterUnexpectedClose(code, error);
    }
  }

  private async afterUnexpectedClose(code: number | undefined, error: Error | undefined): Promise<void> {
    // Baileys ends a socket with 408 when its QR refs run out: with the budget spent, a new
    // socket would only offer more QR codes nobody scans.
    if (this.currentStatus.state === 'qr' && this.qrBudgetSpent()) {
      await this.giveUpQr();
      return;
    }
    const action = classifyDisconnect(code, error);
    this.config.logger.info({ sessionId: this.sessionId, code, message: error?.message, action: action.kind }, 'whatsapp socket closed');
    const check = refusedCertificateCheck(error);
    if (check) {
      // Names the failed check and the server, never certificate or key bytes.
      this.config.logger.warn(
        { sessionId: this.sessionId, event: 'whatsapp_server_untrusted', check, server: this.config.wsUrl ?? 'WhatsApp default' },
        'refused the WhatsApp server: its noise certificate does not authenticate it',
      );
    }
    if (action.kind === 'logged_out') {
      this.wanted = 'stopped';
      this.clearTimers();
      await this.wipe();
      return;
    }
    if (action.kind === 'fail') {
      this.wanted = 'stopped';
      this.clearTimers();
      this.setStatus({ state: 'failed', reason: action.reason, message: action.message });
      return;
    }
    this.failures += 1;
    if (this.failures > this.config.maxConsecutiveFailures) {
      this.wanted = 'stopped';
      this.clearTimers();
      this.setStatus({
        state: 'failed',
        reason: 'too_many_restarts',
        message: `gave up after ${this.config.maxConsecutiveFailures} consecutive failed connections (last code ${code ?? 'none'})`,
      });
      return;
    }
    const delayMs = action.kind === 'restart' ? 0 : backoffDelay(this.failures, this.config.backoff);
    this.setStatus({ state: 'reconnecting', attempt: this.failures, delayMs, ...(code ? { code } : {}) });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.wanted === 'running') this.openSocket().catch((error: unknown) => this.reportError(error));
    }, delayMs);
  }

  private qrBudgetSpent(): boolean {
    return this.qrsOffered > this.config.qrMaxRefreshes;
  }

  /** No QR was scanned in time: stop for good (until the next start) instead of offering new ones forever. */
  private async giveUpQr(): Promise<void> {
    this.config.logger.info({ sessionId: this.sessionId, qrsOffered: this.qrsOffered }, 'no QR code was scanned; giving up');
    this.wanted = 'stopped';
    this.clearTimers();
    this.latestQr = undefined;
    this.setStatus({ state: 'failed', reason: 'qr_timeout', message: `none of the ${this.qrsOffered} QR codes offered was scanned` });
    await this.closeSocket();
    // The keys of a pairing nobody completed are worth nothing; the next start begins afresh.
    await this.config.authStore.clear(this.sessionId).catch((error: unknown) => this.reportError(error));
  }

  /** The phone never confirmed the code in time: start over with fresh keys and a new QR. */
  private async abandonPairing(): Promise<void> {
    if (this.wanted !== 'running' || !this.live || isLoggedInCreds(this.live.auth.state.creds)) return;
    this.pairingCode = undefined;
    await this.closeSocket();
    await this.config.authStore.clear(this.sessionId);
    if (this.wanted !== 'running') return;
    this.setStatus({ state: 'starting' });
    await this.openSocket().catch((error: unknown) => this.reportError(error));
  }

  private async closeSocket(): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.live = undefined;
    live.sock.end(undefined);
    await Promise.race([live.closed, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    live.detach();
  }

  private async wipe(): Promise<void> {
    await this.config.authStore.clear(this.sessionId);
    this.caches.flush();
    this.pairingCode = undefined;
    this.latestQr = undefined;
    this.setStatus({ state: 'logged_out' });
  }

  /**
   * What a received message becomes (a message, a reaction, an edit, a deletion or a poll vote)
   * goes to the receipt sink before WhatsApp gets the delivery receipt. A message this adapter
   * cannot interpret (a vote on a poll it does not know) is acknowledged as before: holding its
   * receipt would only make WhatsApp deliver it again and again.
   */
  private async beforeReceipt(b: BaileysModule, sock: LiveSocket['sock'], message: WAMessage): Promise<void> {
    const sink = this.receiptSink;
    const live = this.live;
    if (!sink || !live || live.sock !== sock) return;
    const key = message.key;
    if (key.fromMe && key.id && this.sentIds.has(key.id)) return;
    if (message.messageStubType) return;
    let received: WaReceived | undefined;
    try {
      received = await this.interpret(b, live, message);
    } catch (error) {
      this.reportError(error);
      return;
    }
    if (received) await sink(received);
  }

  /**
   * The statuses a receipt tells go to the status sink before WhatsApp gets the receipt's ack; a
   * rejection holds the ack back, so WhatsApp delivers the receipt again at the next login (the
   * runner tries a refused write again before it rejects).
   */
  private async beforeReceiptAck(sock: LiveSocket['sock'], told: Partial<BaileysEventMap>): Promise<void> {
    const sink = this.statusSink;
    if (!sink || this.live?.sock !== sock) return;
    const updates = statusUpdatesOf(told);
    if (updates.length) await sink(updates);
  }

  /** The event a received message is, or undefined for what is none (key distribution, unknown protocol messages). */
  private async interpret(b: BaileysModule, live: LiveSocket, message: WAMessage): Promise<WaReceived | undefined> {
    const key = message.key;
    const content = b.normalizeMessageContent(message.message);
    if (!content) return undefined;
    const timestampMs = toMillis(message.messageTimestamp);
    const protocol = content.protocolMessage;
    if (protocol) {
      const target = protocol.key ? this.targetOf(message, protocol.key) : undefined;
      if (!target) return undefined;
      if (protocol.type === b.proto.Message.ProtocolMessage.Type.REVOKE) {
        return { kind: 'revoke', revoke: { key: toWaKey(key), target, timestampMs, raw: encodeWebMessage(b, message) } };
      }
      if (protocol.type === b.proto.Message.ProtocolMessage.Type.MESSAGE_EDIT) {
        const edited = b.normalizeMessageContent(protocol.editedMessage);
        const text = edited?.conversation ?? edited?.extendedTextMessage?.text ?? edited?.imageMessage?.caption ?? edited?.videoMessage?.caption;
        return { kind: 'edit', edit: { key: toWaKey(key), target, ...(text ? { text } : {}), timestampMs, raw: encodeWebMessage(b, message) } };
      }
      return undefined;
    }
    if (content.reactionMessage) {
      const reaction = content.reactionMessage;
      if (!reaction.key) return undefined;
      return {
        kind: 'reaction',
        reaction: { key: toWaKey(key), target: toWaKey(reaction.key), emoji: reaction.text ?? '', timestampMs, raw: encodeWebMessage(b, message) },
      };
    }
    if (content.pollUpdateMessage) {
      const vote = await this.pollVote(b, live, message, content.pollUpdateMessage);
      return vote ? { kind: 'pollVote', vote } : undefined;
    }
    if (content.senderKeyDistributionMessage && b.getContentType(content) === 'senderKeyDistributionMessage') return undefined;
    return { kind: 'message', message: toIncomingMessage(b, message, content) };
  }

  private async onUpsert(b: BaileysModule, live: LiveSocket, message: WAMessage): Promise<void> {
    const key = message.key;
    if (key.remoteJidAlt) this.emitMapping(key.remoteJid ?? '', key.remoteJidAlt);
    if (key.participantAlt) this.emitMapping(key.participant ?? '', key.participantAlt);
    const history = onDemandHistoryNotification(b, message);
    if (history) {
      const { batch, lidMappings } = await readOnDemandHistory(b, history, this.config.mediaBaseUrl);
      for (const mapping of lidMappings) this.emitMapping(mapping.lid, mapping.pn);
      return this.emit('history', batch);
    }
    if (key.fromMe) {
      // A receipt that lands while events are buffered is folded into the upsert itself.
      const status = deliveryStatus(message.status);
      if (status && status !== 'pending') this.emit('messageStatus', { key: toWaKey(key), status, timestampMs: Date.now() });
      if (key.id && this.sentIds.has(key.id)) return;
    }
    if (message.messageStubType === b.proto.WebMessageInfo.StubType.CIPHERTEXT) {
      // Baileys stores what it could not decrypt as a CIPHERTEXT stub (after asking the sender to retry).
      const reason = message.messageStubParameters?.[0] === b.NO_MESSAGE_FOUND_ERROR_TEXT ? 'no_content' : 'decrypt_failed';
      this.emit('undecryptable', { key: toWaKey(key), reason });
      return;
    }
    // Group changes come as stub messages of `w:gp2` notifications. Read from here rather than from
    // `groups.update`: rc14's event buffer keeps only the first update per group of one flush.
    if (message.messageStubType && key.remoteJid && isGroupJid(key.remoteJid)) {
      this.emitGroupChange(b, message);
      return;
    }
    const received = await this.interpret(b, live, message);
    if (!received) return;
    switch (received.kind) {
      case 'message':
        return this.emit('message', received.message);
      case 'reaction':
        return this.emit('reaction', received.reaction);
      case 'edit':
        return this.emit('edit', received.edit);
      case 'revoke':
        return this.emit('revoke', received.revoke);
      case 'pollVote':
        return this.emit('pollVote', received.vote);
    }
  }

  private emitGroupChange(b: BaileysModule, message: WAMessage): void {
    const Stub = b.proto.WebMessageInfo.StubType;
    const key = message.key;
    const params = message.messageStubParameters ?? [];
    // A removed picture's author is only on the message (Baileys clears the key's participant).
    const author = key.participant ?? message.participant;
    const base = {
      groupJid: key.remoteJid!,
      ...(author ? { author: normalizeJid(author) } : {}),
      ...(key.participantAlt ? { authorPn: normalizeJid(key.participantAlt) } : {}),
      timestampMs: toMillis(message.messageTimestamp) || Date.now(),
    };
    const update = (change: Partial<WaGroupUpdate>): void => this.emit('groupUpdate', { ...base, ...change });
    const participants = (action: WaGroupParticipantsUpdate['action']): void => {
      const list = params.flatMap((raw: string) => {
        try {
          const p = JSON.parse(raw) as { id?: string; phoneNumber?: string; lid?: string };
          if (!p.id) return [];
          if (p.lid) return [{ jid: normalizeJid(p.lid), phoneJid: normalizeJid(p.id) }];
          return [{ jid: normalizeJid(p.id), ...(p.phoneNumber ? { phoneJid: normalizeJid(p.phoneNumber) } : {}) }];
        } catch {
          return [];
        }
      });
      this.emit('groupParticipants', { ...base, action, participants: list });
    };
    switch (message.messageStubType) {
      case Stub.GROUP_CHANGE_SUBJECT:
        return update({ subject: params[0] ?? '' });
      case Stub.GROUP_CHANGE_DESCRIPTION:
        return update({ description: params[0] ?? '' });
      case Stub.GROUP_CHANGE_ANNOUNCE:
        return update({ announce: params[0] === 'on' || params[0] === 'true' });
      case Stub.GROUP_CHANGE_RESTRICT:
        return update({ restrict: params[0] === 'on' || params[0] === 'true' });
      case Stub.GROUP_CHANGE_ICON:
        return update(params[0] ? { picture: 'set', pictureId: params[0] } : { picture: 'removed' });
      case Stub.GROUP_MEMBERSHIP_JOIN_APPROVAL_REQUEST_NON_ADMIN_ADD: {
        // rc14 reads `created_membership_requests` and `revoked_membership_requests` into this stub:
        // [{lid, pn} of the requester, created | revoked (by the requester) | rejected (by an admin), method].
        const actions: Record<string, WaJoinRequestUpdate['action']> = { created: 'requested', revoked: 'cancelled', rejected: 'rejected' };
        const action = actions[String(params[1] ?? '')];
        let requester: { lid?: string; pn?: string } = {};
        try {
          requester = JSON.parse(params[0] ?? '{}') as { lid?: string; pn?: string };
        } catch {
          return;
        }
        const jid = requester.lid ?? requester.pn;
        if (!action || !jid) return;
        return this.emit('joinRequest', {
          groupJid: base.groupJid,
          requester: { jid: normalizeJid(jid), ...(requester.lid && requester.pn ? { phoneJid: normalizeJid(requester.pn) } : {}) },
          action,
          ...(params[2] ? { method: params[2] } : {}),
          ...(action === 'rejected' && base.author ? { author: base.author, ...(base.authorPn ? { authorPn: base.authorPn } : {}) } : {}),
          timestampMs: base.timestampMs,
        });
      }
      case Stub.GROUP_CREATE: {
        // A group created with us in it: "joined", unless we created it (from another device).
        const me = this.live?.auth.state.creds.me;
        const mine = [me?.id, me?.lid].filter((j): j is string => !!j).map(normalizeJid);
        if (base.author && mine.includes(base.author)) return;
        return this.emit('groupParticipants', { ...base, action: 'add', participants: mine.map((jid) => ({ jid })) });
      }
      case Stub.GROUP_PARTICIPANT_ADD:
      case Stub.GROUP_PARTICIPANT_INVITE:
      case Stub.GROUP_PARTICIPANT_ADD_REQUEST_JOIN:
        return participants('add');
      case Stub.GROUP_PARTICIPANT_REMOVE:
        return participants('remove');
      case Stub.GROUP_PARTICIPANT_LEAVE:
        return participants('leave');
      case Stub.GROUP_PARTICIPANT_PROMOTE:
        return participants('promote');
      case Stub.GROUP_PARTICIPANT_DEMOTE:
        return participants('demote');
      default:
        return;
    }
  }

  private async pollVote(b: BaileysModule, live: LiveSocket, message: WAMessage, update: proto.Message.IPollUpdateMessage): Promise<WaPollVote | undefined> {
    const pollKey = update.pollCreationMessageKey;
    if (!pollKey?.id || !update.vote) return undefined;
    const stored = await this.findMessage(toWaKey(pollKey));
    if (!stored) throw new Error(`vote ${message.key.id} refers to poll ${pollKey.id}, which is not in the message store`);
    const creation = pollCreationOf(b.normalizeMessageContent(stored.message) ?? undefined);
    const secret = stored.message?.messageContextInfo?.messageSecret;
    if (!creation || !secret) throw new Error(`message ${pollKey.id} is not a poll with a message secret`);
    const me = this.me(live.sock);
    const ownJids = [me.jid, me.lid].filter((j): j is string => Boolean(j));
    const creators = await this.withAlternates(live.sock, authorOf(stored.key, ownJids));
    const voters = await this.withAlternates(live.sock, authorOf(message.key, ownJids));
    const vote = await decryptIncomingPollVote(update.vote, {
      pollMsgId: pollKey.id,
      messageSecret: secret,
      pollCreatorJids: creators,
      voterJids: voters,
      optionTexts: pollOptionTexts(creation),
    });
    return {
      key: toWaKey(message.key),
      poll: toWaKey(stored.key),
      voterJid: vote.voterJid,
      selectedOptions: vote.selectedOptions,
      timestampMs: update.senderTimestampMs ? Number(update.senderTimestampMs) : toMillis(message.messageTimestamp),
      raw: encodeWebMessage(b, message),
    };
  }

  /** A contact the account blocked gets nothing from us: refused here, as WhatsApp's own clients do. */
  private async refuseBlocked(sock: Socket, chatJid: string): Promise<void> {
    const jid = normalizeJid(chatJid);
    if (isPhoneJid(jid) || isLidJid(jid)) await this.blocked.refuse(await this.withAlternates(sock, [jid]));
  }

  /** Adds the LID twin of phone jids and the phone twin of LIDs, as far as Baileys knows them. */
  private async withAlternates(sock: Socket, jids: string[]): Promise<string[]> {
    const out = new Set(jids);
    for (const jid of jids) {
      const alt = isLidJid(jid)
        ? await sock.signalRepository.lidMapping.getPNForLID(jid).catch(() => null)
        : await sock.signalRepository.lidMapping.getLIDForPN(jid).catch(() => null);
      if (alt) out.add(normalizeJid(alt));
    }
    return [...out];
  }

  /** Edits and revokes carry the key as the sender saw it; turn it into our point of view. */
  private targetOf(message: WAMessage, key: proto.IMessageKey): WaMessageKey | undefined {
    if (!key.id) return undefined;
    const chatJid = message.key.remoteJid ?? key.remoteJid ?? '';
    const participant = key.participant ?? (isGroupJid(chatJid) && !message.key.fromMe ? message.key.participant : undefined);
    return {
      chatJid,
      id: key.id,
      fromMe: Boolean(message.key.fromMe && key.fromMe),
      ...(participant ? { participant } : {}),
    };
  }

  /** In an `@lid` chat (or a LID-addressed group) votes use LIDs on both sides, as whatsmeow does. */
  private async pollUsesLid(sock: Socket, pollKey: WAMessageKey): Promise<boolean> {
    const chat = pollKey.remoteJid ?? '';
    if (isLidJid(chat)) return true;
    if (!isGroupJid(chat)) return false;
    if (!pollKey.fromMe && pollKey.participant) return isLidJid(pollKey.participant);
    const metadata = (await this.caches.groupMetadata.get(chat)) ?? (await sock.groupMetadata(chat));
    return metadata.addressingMode === 'lid';
  }

  private async send(chatJid: string, content: AnyMessageContent, messageId: string, quoted?: WAMessage): Promise<WaSendResult> {
    const { sock } = this.connected();
    await this.refuseBlocked(sock, chatJid);
    const b = await loadBaileys();
    this.rememberSent(messageId);
    const sent = await sock.sendMessage(chatJid, content, { messageId, ...(quoted ? { quoted } : {}) }).catch((err: unknown) => {
      throw mediaUploadFailure(err);
    });
    if (!sent) throw new AppError('internal_error', 'WhatsApp engine returned no message for the send');
    return this.result(b, sent);
  }

  private result(b: BaileysModule, message: WAMessage): WaSendResult {
    return { key: toWaKey(message.key), timestampMs: toMillis(message.messageTimestamp), raw: encodeWebMessage(b, message) };
  }

  private rememberSent(id: string): void {
    this.sentIds.add(id);
  }

  private async findMessage(key: WaMessageKey): Promise<WAMessage | undefined> {
    const raw = await this.config.messages.findRaw(this.sessionId, key);
    return raw ? decodeWebMessage(await loadBaileys(), raw) : undefined;
  }

  private connected(): LiveSocket {
    if (!this.live || this.currentStatus.state !== 'connected') {
      throw new AppError('session_not_connected', 'the WhatsApp session is not connected', { status: this.currentStatus.state });
    }
    return this.live;
  }

  private me(sock: Socket): WaMe {
    const user = sock.user ?? this.live?.auth.state.creds.me;
    return {
      jid: user?.id ? normalizeJid(user.id) : '',
      ...(user?.lid ? { lid: normalizeJid(user.lid) } : {}),
      ...(user?.name || user?.notify ? { pushName: user.name ?? user.notify } : {}),
    };
  }

  /**
   * Every pn<->lid pair Baileys learns goes through its LID mapping store's `storeLIDPNMappings`:
   * usync answers when it looks a contact up before sending, message envelopes (`sender_pn`),
   * history and app state. Only some of those raise `lid-mapping.update`, and the store's own
   * writes are held back until the send's key transaction commits (after WhatsApp may already
   * have acknowledged the message), so each pair is reported as the store is handed it.
   */
  private watchLidMappings(sock: Socket): void {
    const mappings = sock.signalRepository.lidMapping;
    const store = mappings.storeLIDPNMappings.bind(mappings);
    mappings.storeLIDPNMappings = async (pairs) => {
      for (const { lid, pn } of pairs) this.emitMapping(lid, pn);
      return store(pairs);
    };
  }

  private emitMapping(a: string, b: string): void {
    const [lid, pn] = isLidJid(a) ? [a, b] : [b, a];
    if (!isLidJid(lid) || isLidJid(pn) || !pn) return;
    const mapping = { lid: normalizeJid(lid), pn: normalizeJid(pn) };
    const id = `${mapping.lid}|${mapping.pn}`;
    if (this.knownMappings.has(id)) return;
    this.knownMappings.add(id);
    this.emit('lidMapping', mapping);
  }

  private waitForStatus(state: WaStatus['state'], timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new AppError('session_unavailable', `the session did not reach "${state}" in time`));
      }, timeoutMs);
      const off = this.on('status', (s) => {
        if (s.state !== state) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  private setStatus(status: WaStatus): void {
    this.currentStatus = status;
    this.emit('status', status);
  }

  private emit<E extends keyof WaConnectionEvents>(event: E, ...args: Parameters<WaConnectionEvents[E]>): void {
    this.events.emit(event, ...args);
  }

  private reportError(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.config.logger.error({ sessionId: this.sessionId, err }, 'whatsapp connection error');
    if (this.events.listenerCount('error') > 0) this.emit('error', err);
  }

  private clearTimers(): void {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.pairingTimer);
    this.reconnectTimer = undefined;
    this.pairingTimer = undefined;
  }
}

function media(m: { data: Uint8Array } | { url: string } | { file: string }): Buffer | { url: string } {
  if ('data' in m) return Buffer.from(m.data);
  // Baileys streams a non-http url from disk (createReadStream), encrypting and uploading as it reads.
  return 'file' in m ? { url: m.file } : { url: m.url };
}

const mentionsOf = (content: { mentions?: string[] }) => (content.mentions?.length ? { mentions: content.mentions } : {});

function toAnyContent(content: WaOutgoingContent): AnyMessageContent {
  switch (content.type) {
    case 'text':
      return { text: content.text, ...(content.mentions ? { mentions: content.mentions } : {}) };
    case 'image':
      return { image: media(content.media), ...(content.caption ? { caption: content.caption } : {}), ...(content.mimetype ? { mimetype: content.mimetype } : {}), ...mentionsOf(content) };
    case 'video':
      return {
        video: media(content.media),
        ...(content.caption ? { caption: content.caption } : {}),
        ...(content.mimetype ? { mimetype: content.mimetype } : {}),
        ...(content.seconds !== undefined ? { seconds: content.seconds } : {}),
        ...(content.gifPlayback ? { gifPlayback: true } : {}),
        ...mentionsOf(content),
      };
    case 'audio':
      return {
        audio: media(content.media),
        ptt: Boolean(content.voiceNote),
        ...(content.mimetype ? { mimetype: content.mimetype } : {}),
        ...(content.seconds !== undefined ? { seconds: content.seconds } : {}),
        ...(content.waveform ? { waveform: content.waveform } : {}),
      };
    case 'document':
      return {
        document: media(content.media),
        mimetype: content.mimetype,
        ...(content.fileName ? { fileName: content.fileName } : {}),
        ...(content.caption ? { caption: content.caption } : {}),
        ...mentionsOf(content),
      };
    case 'sticker':
      return { sticker: media(content.media) };
    case 'location':
      return {
        location: {
          degreesLatitude: content.latitude,
          degreesLongitude: content.longitude,
          ...(content.name ? { name: content.name } : {}),
          ...(content.address ? { address: content.address } : {}),
        },
      };
    case 'contact':
      return { contacts: { displayName: content.displayName, contacts: [{ displayName: content.displayName, vcard: content.vcard }] } };
    case 'contacts':
      return {
        contacts: {
          displayName: content.displayName ?? (content.contacts.length === 1 ? content.contacts[0].displayName : `${content.contacts.length} contacts`),
          contacts: content.contacts.map((c) => ({ displayName: c.displayName, vcard: c.vcard })),
        },
      };
    case 'poll':
      return { poll: { name: content.name, values: content.options, selectableCount: content.selectableCount } };
  }
}

function toWaGroup(metadata: GroupMetadata): WaGroupMetadata {
  return {
    jid: metadata.id,
    subject: metadata.subject,
    ...(metadata.owner ? { owner: metadata.owner } : {}),
    ...(metadata.desc ? { description: metadata.desc } : {}),
    ...(metadata.creation ? { createdAtMs: metadata.creation * 1000 } : {}),
    ...(metadata.addressingMode ? { addressingMode: metadata.addressingMode as 'lid' | 'pn' } : {}),
    announce: !!metadata.announce,
    restrict: !!metadata.restrict,
    participants: metadata.participants.map((p) => ({
      jid: p.id,
      ...(p.phoneNumber ? { phoneJid: p.phoneNumber } : {}),
      ...(p.admin ? { admin: p.admin } : {}),
    })),
  };
}


