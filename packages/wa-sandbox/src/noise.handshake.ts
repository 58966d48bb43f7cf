import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import type { Baileys, KeyPair } from './baileys.loader';

const GCM_TAG_LENGTH = 16;
const EMPTY = Buffer.alloc(0);

function iv(counter: number): Buffer {
  const buffer = Buffer.alloc(12);
  buffer.writeUInt32BE(counter, 8);
  return buffer;
}

function gcmEncrypt(key: Buffer, nonce: Buffer, plaintext: Uint8Array, aad: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function gcmDecrypt(key: Buffer, nonce: Buffer, ciphertext: Uint8Array, aad: Buffer): Buffer {
  const data = Buffer.from(ciphertext);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(data.subarray(data.length - GCM_TAG_LENGTH));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - GCM_TAG_LENGTH)), decipher.final()]);
}

function hkdf64(ikm: Uint8Array, salt: Buffer): [Buffer, Buffer] {
  const out = Buffer.from(hkdfSync('sha256', ikm, salt, EMPTY, 64));
  return [out.subarray(0, 32), out.subarray(32)];
}

export interface ClientFinish {
  clientStatic: Buffer;
  payload: Buffer;
}

/**
 * The responder side of WhatsApp's Noise_XX_25519_AESGCM_SHA256, mirroring Baileys'
 * `makeNoiseHandler` step for step (same running hash, same key mixing, same split).
 */
export class NoiseResponder {
  private hash: Buffer;
  private salt: Buffer;
  private key: Buffer;
  private counter = 0;
  private readonly ephemeral: KeyPair;
  private sendKey?: Buffer;
  private recvKey?: Buffer;
  private sendCounter = 0;
  private recvCounter = 0;

  constructor(
    private readonly baileys: Baileys,
    private readonly serverStatic: KeyPair,
    prologue: Uint8Array,
  ) {
    this.hash = Buffer.from(baileys.NOISE_MODE);
    this.salt = this.hash;
    this.key = this.hash;
    this.ephemeral = baileys.Curve.generateKeyPair();
    this.authenticate(prologue);
  }

  get isTransport(): boolean {
    return this.sendKey !== undefined;
  }

  /** Consumes ClientHello and returns the encoded ServerHello handshake message. */
  serverHello(clientEphemeral: Uint8Array, certificateChain: Uint8Array): Uint8Array {
    const { Curve, proto } = this.baileys;
    this.authenticate(clientEphemeral);
    this.authenticate(this.ephemeral.public);
    this.mixKey(Curve.sharedKey(this.ephemeral.private, clientEphemeral));
    const encryptedStatic = this.encryptHandshake(this.serverStatic.public);
    this.mixKey(Curve.sharedKey(this.serverStatic.private, clientEphemeral));
    const encryptedPayload = this.encryptHandshake(certificateChain);
    return proto.HandshakeMessage.encode({
      serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload: encryptedPayload },
    }).finish();
  }

  /** Consumes ClientFinish, switches to transport keys, returns the client's static key and payload. */
  clientFinish(encryptedStatic: Uint8Array, encryptedPayload: Uint8Array): ClientFinish {
    const clientStatic = this.decryptHandshake(encryptedStatic);
    this.mixKey(this.baileys.Curve.sharedKey(this.ephemeral.private, clientStatic));
    const payload = this.decryptHandshake(encryptedPayload);
    const [clientWrite, clientRead] = hkdf64(EMPTY, this.salt);
    this.recvKey = clientWrite;
    this.sendKey = clientRead;
    return { clientStatic, payload };
  }

  encrypt(plaintext: Uint8Array): Buffer {
    if (!this.sendKey) throw new Error('noise transport not established');
    return gcmEncrypt(this.sendKey, iv(this.sendCounter++), plaintext, EMPTY);
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    if (!this.recvKey) throw new Error('noise transport not established');
    return gcmDecrypt(this.recvKey, iv(this.recvCounter++), ciphertext, EMPTY);
  }

  private authenticate(data: Uint8Array): void {
    this.hash = createHash('sha256').update(this.hash).update(data).digest();
  }

  private mixKey(material: Uint8Array): void {
    const [salt, key] = hkdf64(material, this.salt);
    this.salt = salt;
    this.key = key;
    this.counter = 0;
  }

  private encryptHandshake(plaintext: Uint8Array): Buffer {
    const result = gcmEncrypt(this.key, iv(this.counter++), plaintext, this.hash);
    this.authenticate(result);
    return result;
  }

  private decryptHandshake(ciphertext: Uint8Array): Buffer {
    const result = gcmDecrypt(this.key, iv(this.counter++), ciphertext, this.hash);
    this.authenticate(ciphertext);
    return result;
  }
}
