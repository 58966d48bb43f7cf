import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** The media types a message can carry, with the HKDF info WhatsApp derives their keys under. */
export const MEDIA_KEY_INFO = {
  image: 'WhatsApp Image Keys',
  video: 'WhatsApp Video Keys',
  audio: 'WhatsApp Audio Keys',
  document: 'WhatsApp Document Keys',
  sticker: 'WhatsApp Image Keys',
} as const;

export type MediaKind = keyof typeof MEDIA_KEY_INFO;

/**
 * What else WhatsApp encrypts and keeps on its media hosts like media, each with keys derived
 * under its own HKDF info: history-sync blobs (`md-msg-hist`) and app-state blobs (snapshots,
 * large patches).
 */
export type BlobKind = MediaKind | 'history' | 'app-state';
const KEY_INFO: Record<BlobKind, string> = { ...MEDIA_KEY_INFO, history: 'WhatsApp History Keys', 'app-state': 'WhatsApp App State Keys' };

/** Upload path per kind, as Baileys' MEDIA_PATH_MAP and WhatsApp (a sticker is an image upload). */
export const MEDIA_UPLOAD_PATH: Record<MediaKind, string> = {
  image: '/mms/image',
  video: '/mms/video',
  audio: '/mms/audio',
  document: '/mms/document',
  sticker: '/mms/image',
};

const MAC_LENGTH = 10;

interface MediaKeys {
  iv: Buffer;
  cipherKey: Buffer;
  macKey: Buffer;
}

function expand(mediaKey: Buffer, kind: BlobKind): MediaKeys {
  const expanded = Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(0), KEY_INFO[kind], 112));
  return { iv: expanded.subarray(0, 16), cipherKey: expanded.subarray(16, 48), macKey: expanded.subarray(48, 80) };
}

export interface EncryptedMedia {
  mediaKey: Buffer;
  /** AES-256-CBC ciphertext followed by the 10-byte truncated HMAC: what is uploaded. */
  encrypted: Buffer;
  fileSha256: Buffer;
  fileEncSha256: Buffer;
  fileLength: number;
}

/** What a WhatsApp client does before it uploads a file. */
export function encryptMedia(plaintext: Buffer, kind: BlobKind, mediaKey: Buffer = randomBytes(32)): EncryptedMedia {
  const { iv, cipherKey, macKey } = expand(mediaKey, kind);
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, MAC_LENGTH);
  const encrypted = Buffer.concat([ciphertext, mac]);
  return {
    mediaKey,
    encrypted,
    fileSha256: sha256(plaintext),
    fileEncSha256: sha256(encrypted),
    fileLength: plaintext.length,
  };
}

export type MediaProblem = 'enc_sha256_mismatch' | 'mac_mismatch' | 'undecryptable' | 'sha256_mismatch';

export class MediaVerificationError extends Error {
  constructor(readonly problem: MediaProblem) {
    super(`media does not verify: ${problem}`);
  }
}

/**
 * What a receiving WhatsApp client does with a downloaded file: the ciphertext's SHA-256 must be
 * the message's fileEncSha256, the truncated MAC must match, and the plaintext's SHA-256 must be
 * the message's fileSha256. Any failure is a MediaVerificationError naming the check.
 */
export function decryptMedia(
  encrypted: Buffer,
  kind: BlobKind,
  expected: { mediaKey: Buffer; fileEncSha256?: Buffer; fileSha256?: Buffer },
): Buffer {
  if (expected.fileEncSha256 && !sha256(encrypted).equals(expected.fileEncSha256)) throw new MediaVerificationError('enc_sha256_mismatch');
  if (encrypted.length < MAC_LENGTH + 16) throw new MediaVerificationError('undecryptable');
  const { iv, cipherKey, macKey } = expand(expected.mediaKey, kind);
  const ciphertext = encrypted.subarray(0, encrypted.length - MAC_LENGTH);
  const mac = encrypted.subarray(encrypted.length - MAC_LENGTH);
  const computed = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, MAC_LENGTH);
  if (!timingSafeEqual(mac, computed)) throw new MediaVerificationError('mac_mismatch');
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new MediaVerificationError('undecryptable');
  }
  if (expected.fileSha256 && !sha256(plaintext).equals(expected.fileSha256)) throw new MediaVerificationError('sha256_mismatch');
  return plaintext;
}

export const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

/** Base64url without padding, as WhatsApp writes a file hash in an upload path and token. */
export const uploadToken = (hash: Buffer): string => hash.toString('base64url');
