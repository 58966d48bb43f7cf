import { readFileSync } from 'node:fs';
import type { AuthenticationCreds, BinaryNode, CacheStore, ProtoMessage, SignalKeyStore, WAMessageKey, WASocket } from './baileys.loader';
import { loadBaileys } from './baileys.loader';
import { sandboxMediaDispatcher } from './media-host.dispatcher';
import { createMemoryKeyStore } from './memory-key.store';
import { silentLogger } from './silent.logger';
import { installStrictCurveVerify } from './strict-verify.util';
import type { WaSandbox } from './wa-sandbox.server';

/** The web version the sandbox reports; fixed so nothing ever calls fetchLatestBaileysVersion. */
export const SANDBOX_WA_VERSION: [number, number, number] = [2, 3000, 1043857760];

/**
 * How long `waitFor` waits by default: a deadline for a hang, not a measure. A loaded 2-core CI
 * run missed 15 s for a logout's connection update.
 */
const HANG_MS = 120_000;

export interface SandboxAuth {
  creds: AuthenticationCreds;
  keys: SignalKeyStore;
}

export interface ConnectOptions {
  /** Reuse after the 515 restart or to log in again; a new in-memory identity otherwise. */
  auth?: SandboxAuth;
  /** Base64 root key to trust; defaults to the sandbox's. Pass another to prove refusal. */
  trustedRootPublicKey?: string;
  /** How long each QR lives on the client before it shows the next ref. */
  qrTimeoutMs?: number;
  pushName?: string;
  /**
   * The socket's cache of users' device lists; pass the same one to the next socket to keep the
   * lists across a restart, as the runner does (Baileys makes a fresh one per socket otherwise).
   */
  userDevicesCache?: CacheStore;
  /** Baileys' (patched-in) hook before a receipt is acknowledged: reject to leave it unacknowledged. */
  beforeReceiptAck?: (told: {
    'messages.update'?: Array<{ key: WAMessageKey; update: { status?: number | null } }>;
    /** A group member's receipt: the member in `userJid`, the kind by which timestamp is set. */
    'message-receipt.update'?: Array<{ key: WAMessageKey; receipt: { userJid?: string | null; receiptTimestamp?: unknown; readTimestamp?: unknown } }>;
  }) => Promise<void>;
}

type EventMap = Parameters<WASocket['ev']['on']>[0];

/** Resolves with the first truthy answer of `probe`, asked every `everyMs`; fails naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = HANG_MS,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer) return answer;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface SandboxSession {
  sock: WASocket;
  auth: SandboxAuth;
  /** Every event the socket emitted, in order, for assertions. */
  events: Array<{ name: string; data: unknown }>;
  waitFor<T = unknown>(name: EventMap, predicate?: (data: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves with the status code of the `connection: 'close'` update. */
  closed: Promise<number | undefined>;
  end(): Promise<void>;
}

let uploadTimerPatched = false;

/**
 * Baileys rc14 races each pre-key upload against a 30 s timer it never clears, which keeps a
 * test process alive for 30 s after the last login. Timers of exactly that duration are
 * unref'd: they still fire if the process lives on, they just do not hold it open.
 */
function unrefPreKeyUploadTimer(uploadTimeoutMs: number): void {
  if (uploadTimerPatched) return;
  uploadTimerPatched = true;
  const original = globalThis.setTimeout;
  const patched = ((handler: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => {
    const timer = original(handler, delay, ...args);
    if (delay === uploadTimeoutMs) timer.unref();
    return timer;
  }) as typeof setTimeout;
  globalThis.setTimeout = Object.assign(patched, original);
}

/** Points Baileys' certificate check at a root key (mutates the exported `WA_CERT_DETAILS`). */
export async function trustRootPublicKey(rootPublicKeyBase64: string): Promise<void> {
  const baileys = await loadBaileys();
  installStrictCurveVerify(baileys);
  baileys.WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(rootPublicKeyBase64, 'base64');
}

export async function createMemoryAuth(): Promise<SandboxAuth> {
  const { initAuthCreds } = await loadBaileys();
  return { creds: initAuthCreds(), keys: createMemoryKeyStore() };
}

const TRACKED_EVENTS: EventMap[] = ['connection.update', 'messages.upsert', 'messages.update', 'messages.reaction', 'presence.update', 'creds.update', 'messaging-history.set', 'chats.update', 'chats.delete', 'labels.edit', 'labels.association', 'contacts.upsert', 'contacts.update', 'message-receipt.update'];

/**
 * Opens a real Baileys socket against the sandbox with in-memory auth, a silent logger, a fixed
 * version and strict signature verification, and records its events.
 */
export async function connectBaileys(sandbox: WaSandbox, options: ConnectOptions = {}): Promise<SandboxSession> {
  const baileys = await loadBaileys();
  unrefPreKeyUploadTimer(baileys.UPLOAD_TIMEOUT);
  await trustRootPublicKey(options.trustedRootPublicKey ?? sandbox.rootPublicKey);
  const auth = options.auth ?? (await createMemoryAuth());
  const sentMessages = new Map<string, ProtoMessage>();
  const sock = baileys.makeWASocket({
    waWebSocketUrl: sandbox.wsUrl,
    auth,
    version: SANDBOX_WA_VERSION,
    logger: silentLogger,
    markOnlineOnConnect: false,
    qrTimeout: options.qrTimeoutMs,
    connectTimeoutMs: 10_000,
    defaultQueryTimeoutMs: 10_000,
    keepAliveIntervalMs: 30_000,
    retryRequestDelayMs: 50,
    ...(options.pushName ? { pushName: options.pushName } : {}),
    ...(options.userDevicesCache ? { userDevicesCache: options.userDevicesCache } : {}),
    ...(options.beforeReceiptAck ? { beforeReceiptAck: options.beforeReceiptAck } : {}),
    getMessage: async (key: WAMessageKey) => (key.id ? sentMessages.get(key.id) : undefined),
    // App-state snapshots are blobs on the media host, which Baileys fetches from WhatsApp's.
    options: { dispatcher: sandboxMediaDispatcher(sandbox.mediaBaseUrl, readFileSync(sandbox.mediaCaFile, 'utf8')) } as RequestInit,
  });
  const events: SandboxSession['events'] = [];
  const listeners = new Set<() => void>();
  for (const name of TRACKED_EVENTS) {
    sock.ev.on(name, (data: unknown) => {
      events.push({ name, data });
      if (name === 'creds.update') Object.assign(auth.creds, data as Partial<AuthenticationCreds>);
      if (name === 'messages.upsert') {
        for (const message of (data as { messages: Array<{ key: WAMessageKey; message?: ProtoMessage | null }> }).messages) {
          if (message.key.fromMe && message.key.id && message.message) sentMessages.set(message.key.id, message.message);
        }
      }
      for (const listener of listeners) listener();
    });
  }
  const waitFor = <T>(name: EventMap, predicate: (data: T) => boolean = () => true, timeoutMs = HANG_MS): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let seen = 0;
      const check = () => {
        for (; seen < events.length; seen++) {
          const event = events[seen];
          if (event && event.name === name && predicate(event.data as T)) {
            done();
            resolve(event.data as T);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${name} event matched within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const closed = waitFor<{ connection?: string; lastDisconnect?: { error?: { output?: { statusCode?: number } } } }>(
    'connection.update',
    (update) => update.connection === 'close',
    10 * 60_000,
  ).then((update) => update.lastDisconnect?.error?.output?.statusCode);
  // The close waiter is long-lived by design; `end()` and stream ends settle it.
  closed.catch(() => undefined);
  return {
    sock,
    auth,
    events,
    waitFor,
    closed,
    end: async () => {
      sock.end(undefined);
      await closed.catch(() => undefined);
    },
  };
}

/**
 * The whole linking dance other suites need: show a QR, let the virtual phone scan it, take
 * the 515 restart and log in again. Returns the logged-in session.
 */
export async function pairWithQr(sandbox: WaSandbox, phone: string, options: ConnectOptions = {}): Promise<SandboxSession> {
  const first = await connectBaileys(sandbox, options);
  const { qr } = await first.waitFor<{ qr?: string }>('connection.update', (update) => !!update.qr);
  await sandbox.scanQr(phone, qr ?? '');
  const code = await first.closed;
  if (code !== 515) throw new Error(`expected the 515 restart after pairing, got ${String(code)}`);
  return loginAgain(sandbox, first.auth, options);
}

export async function loginAgain(sandbox: WaSandbox, auth: SandboxAuth, options: ConnectOptions = {}): Promise<SandboxSession> {
  const session = await connectBaileys(sandbox, { ...options, auth });
  await session.waitFor<{ connection?: string }>('connection.update', (update) => update.connection === 'open');
  return session;
}

