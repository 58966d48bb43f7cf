import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Baileys, BinaryNode } from './baileys.loader';
import { encryptMedia, type MediaKind } from './media.crypto';
import type { SandboxMediaServer } from './media.server';

/** What a phone keeps of a media message it holds, to upload it again when asked. */
export interface HeldMedia {
  kind: MediaKind;
  mediaKey: Buffer;
  plaintext: Buffer;
}

const retryKey = (mediaKey: Buffer): Buffer => Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(0), 'WhatsApp Media Retry Notification', 32));

function gcm(direction: 'encrypt', key: Buffer, iv: Buffer, data: Buffer, aad: Buffer): Buffer;
function gcm(direction: 'decrypt', key: Buffer, iv: Buffer, data: Buffer, aad: Buffer): Buffer;
function gcm(direction: 'encrypt' | 'decrypt', key: Buffer, iv: Buffer, data: Buffer, aad: Buffer): Buffer {
  if (direction === 'encrypt') {
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
    return Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(aad);
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
}

const child = (node: BinaryNode | undefined, tag: string): BinaryNode | undefined =>
  Array.isArray(node?.content) ? node.content.find((item) => item.tag === tag) : undefined;
const bytes = (node: BinaryNode | undefined): Buffer | undefined => (node?.content instanceof Uint8Array ? Buffer.from(node.content) : undefined);

/**
 * The phone's answer to a companion's media retry request (`<receipt type="server-error">`,
 * Baileys' `updateMediaMessage`): it checks the request (AES-GCM under the key derived from the
 * message's media key, the message id as AAD), uploads the file it holds again (same media key,
 * so the same ciphertext and hashes) and tells the companion the new direct path in a
 * `mediaretry` notification encrypted the same way. Without the file it says NOT_FOUND.
 */
export function answerMediaRetry(baileys: Baileys, receipt: BinaryNode, held: HeldMedia | undefined, server: SandboxMediaServer, from: string): BinaryNode {
  const id = receipt.attrs.id ?? '';
  const rmr = child(receipt, 'rmr') ?? { tag: 'rmr', attrs: {} };
  const notification = (content: BinaryNode[]): BinaryNode => ({
    tag: 'notification',
    attrs: { from, type: 'mediaretry', id, t: String(Math.floor(Date.now() / 1000)) },
    content: [{ tag: 'rmr', attrs: rmr.attrs }, ...content],
  });
  // Without the media key the phone cannot even read the request: WhatsApp answers with an error code.
  if (!held) return notification([{ tag: 'error', attrs: { code: String(baileys.proto.MediaRetryNotification.ResultType.NOT_FOUND) } }]);
  const key = retryKey(held.mediaKey);
  const { ResultType } = baileys.proto.MediaRetryNotification;
  let result: number = ResultType.SUCCESS;
  try {
    const encrypt = child(receipt, 'encrypt');
    const request = gcm('decrypt', key, bytes(child(encrypt, 'enc_iv')) ?? Buffer.alloc(12), bytes(child(encrypt, 'enc_p')) ?? Buffer.alloc(16), Buffer.from(id));
    if (baileys.proto.ServerErrorReceipt.decode(request).stanzaId !== id) result = ResultType.DECRYPTION_ERROR;
  } catch {
    result = ResultType.DECRYPTION_ERROR;
  }
  let directPath: string | undefined;
  if (result === ResultType.SUCCESS) directPath = server.put(encryptMedia(held.plaintext, held.kind, held.mediaKey).encrypted).directPath;
  const plaintext = baileys.proto.MediaRetryNotification.encode({ stanzaId: id, result, ...(directPath ? { directPath } : {}) }).finish();
  const iv = randomBytes(12);
  return notification([
    {
      tag: 'encrypt',
      attrs: {},
      content: [
        { tag: 'enc_p', attrs: {}, content: gcm('encrypt', key, iv, Buffer.from(plaintext), Buffer.from(id)) },
        { tag: 'enc_iv', attrs: {}, content: iv },
      ],
    },
  ]);
}
