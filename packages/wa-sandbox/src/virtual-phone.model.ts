import { createHmac, randomBytes } from 'node:crypto';
import type { AuthenticationCreds, Baileys, KeyPair, ProtoMessage, SignalKeyStore, SignalRepository } from './baileys.loader';
import type { HeldMedia } from './media.retry';
import { createTransactionalMemoryKeyStore } from './memory-key.store';
import type { PollRecord } from './message.codec';
import { ChatArchive, type HistoryRequestRecord } from './phone-history';
import type { PhoneInfo, ReceivedMessage, ReceivedPresence } from './sandbox.types';
import { silentLogger } from './silent.logger';

export interface PreKeyBundle {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKey?: { keyId: number; publicKey: Buffer };
}

export interface SentRecord {
  id: string;
  chat: string;
  message: ProtoMessage;
}

/**
 * A phone (device 0 of an account) simulated by the sandbox. It holds a real Signal identity
 * built from Baileys' own primitives, so what it encrypts and decrypts is exactly what a real
 * peer would produce; its identity key doubles as the account (ADV) signing key.
 */
export class VirtualPhone {
  readonly received: ReceivedMessage[] = [];
  /** Decrypted, verified files of received media messages, by message id. */
  readonly receivedMedia = new Map<string, Buffer>();
  /** Media this phone holds (received or sent), by message id, to upload again when a companion asks. */
  readonly heldMedia = new Map<string, HeldMedia>();
  readonly presences: ReceivedPresence[] = [];
  readonly sent = new Map<string, SentRecord>();
  /** Retry receipts this phone sent, per message id; and retries it served, per message id and device. */
  readonly retriesAsked = new Map<string, number>();
  readonly retriesServed = new Map<string, number>();
  readonly polls = new Map<string, PollRecord>();
  /** Every chat's messages, which linked devices ask for when they want older ones. */
  readonly archive = new ChatArchive();
  readonly historyRequests: HistoryRequestRecord[] = [];
  private readonly freePreKeys: number[] = [];

  private constructor(
    private readonly baileys: Baileys,
    readonly info: PhoneInfo,
    readonly lidUser: string,
    private readonly creds: AuthenticationCreds,
    private readonly keys: SignalKeyStore,
    readonly signal: SignalRepository,
  ) {}

  static async create(baileys: Baileys, info: PhoneInfo, lidUser: string, preKeyCount: number): Promise<VirtualPhone> {
    const creds = baileys.initAuthCreds();
    const keys = createTransactionalMemoryKeyStore(baileys, silentLogger);
    const signal = baileys.DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds, keys }, silentLogger, async () => []);
    const phone = new VirtualPhone(baileys, info, lidUser, creds, keys, signal);
    const preKeys: Record<string, KeyPair> = {};
    for (let id = 1; id <= preKeyCount; id++) {
      preKeys[id] = baileys.Curve.generateKeyPair();
      phone.freePreKeys.push(id);
    }
    await keys.set({ 'pre-key': preKeys });
    return phone;
  }

  get identityPublicKey(): Buffer {
    return Buffer.from(this.creds.signedIdentityKey.public);
  }

  get signedIdentityPrivateKey(): Buffer {
    return Buffer.from(this.creds.signedIdentityKey.private);
  }

  /** Hands out a bundle the way the server does: each one-time pre-key is given out once. */
  async takeBundle(): Promise<PreKeyBundle> {
    const preKeyId = this.freePreKeys.shift();
    const preKeyPair =
      preKeyId === undefined ? undefined : (await this.keys.get('pre-key', [String(preKeyId)]))[String(preKeyId)];
    return {
      registrationId: this.creds.registrationId,
      identityKey: this.identityPublicKey,
      signedPreKey: {
        keyId: this.creds.signedPreKey.keyId,
        publicKey: Buffer.from(this.creds.signedPreKey.keyPair.public),
        signature: Buffer.from(this.creds.signedPreKey.signature),
      },
      ...(preKeyId !== undefined && preKeyPair ? { preKey: { keyId: preKeyId, publicKey: Buffer.from(preKeyPair.public) } } : {}),
    };
  }

  /**
   * What the primary phone does when it links a companion: sign the companion's identity with
   * the account key (XEdDSA over 6,0 || details || identity) and MAC it with the QR's ADV secret.
   */
  signCompanion(companionIdentity: Uint8Array, advSecret: Buffer, keyIndex: number): Uint8Array {
    const { proto, Curve, WA_ADV_ACCOUNT_SIG_PREFIX } = this.baileys;
    const details = proto.ADVDeviceIdentity.encode({
      rawId: randomBytes(4).readUInt32BE(0),
      timestamp: Math.floor(Date.now() / 1000),
      keyIndex,
    }).finish();
    const accountSignature = Curve.sign(
      this.creds.signedIdentityKey.private,
      Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, details, companionIdentity]),
    );
    const signed = proto.ADVSignedDeviceIdentity.encode({
      details,
      accountSignatureKey: this.identityPublicKey,
      accountSignature,
    }).finish();
    const hmac = createHmac('sha256', advSecret).update(signed).digest();
    return proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac }).finish();
  }

  get registrationId(): number {
    return this.creds.registrationId;
  }

  async ensureSession(jid: string, bundle: () => Promise<PreKeyBundle | undefined>): Promise<boolean> {
    const { exists } = await this.signal.validateSession(jid);
    if (exists) return true;
    return this.renewSession(jid, bundle);
  }

  /** A fresh session from a new pre-key bundle, as a WhatsApp client does when a device asks it to retry. */
  async renewSession(jid: string, bundle: () => Promise<PreKeyBundle | undefined>): Promise<boolean> {
    const next = await bundle();
    if (!next) return false;
    const { generateSignalPubKey } = this.baileys;
    await this.signal.injectE2ESession({
      jid,
      session: {
        registrationId: next.registrationId,
        identityKey: generateSignalPubKey(next.identityKey),
        signedPreKey: { ...next.signedPreKey, publicKey: generateSignalPubKey(next.signedPreKey.publicKey) },
        ...(next.preKey ? { preKey: { ...next.preKey, publicKey: generateSignalPubKey(next.preKey.publicKey) } } : {}),
      },
    });
    return true;
  }

  async encrypt(jid: string, message: ProtoMessage): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Uint8Array }> {
    const { encodeWAMessage } = this.baileys;
    return this.signal.encryptMessage({ jid, data: encodeWAMessage(message) });
  }

  async decrypt(jid: string, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<ProtoMessage> {
    const { proto, unpadRandomMax16 } = this.baileys;
    const plaintext = await this.signal.decryptMessage({ jid, type, ciphertext });
    return proto.Message.decode(unpadRandomMax16(plaintext));
  }

  async decryptGroup(group: string, authorJid: string, ciphertext: Uint8Array): Promise<ProtoMessage> {
    const { proto, unpadRandomMax16 } = this.baileys;
    const plaintext = await this.signal.decryptGroupMessage({ group, authorJid, msg: ciphertext });
    return proto.Message.decode(unpadRandomMax16(plaintext));
  }

  async acceptSenderKey(authorJid: string, message: ProtoMessage): Promise<void> {
    if (message.senderKeyDistributionMessage) {
      await this.signal.processSenderKeyDistributionMessage({ authorJid, item: message.senderKeyDistributionMessage });
    }
  }

  async encryptGroup(group: string, message: ProtoMessage): Promise<{ ciphertext: Uint8Array; senderKeyDistributionMessage: Uint8Array }> {
    const { encodeWAMessage } = this.baileys;
    return this.signal.encryptGroupMessage({ group, meId: `${this.lidUser}@lid`, data: encodeWAMessage(message) });
  }
}
