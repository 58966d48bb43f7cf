import type { ProtoMessage } from './baileys.loader';
import { decryptMedia, encryptMedia, MediaVerificationError, sha256, type MediaKind } from './media.crypto';
import type { SandboxMediaServer } from './media.server';
import type { OutgoingMediaMessage, ReceivedMedia } from './sandbox.types';

type MediaProto = NonNullable<ProtoMessage['imageMessage']> &
  NonNullable<ProtoMessage['videoMessage']> &
  NonNullable<ProtoMessage['audioMessage']> &
  NonNullable<ProtoMessage['documentMessage']> &
  NonNullable<ProtoMessage['stickerMessage']>;

export const MEDIA_KINDS: readonly MediaKind[] = ['image', 'video', 'audio', 'document', 'sticker'];

/** The media part of a message, unwrapping the captioned-document envelope WhatsApp uses. */
export function mediaOf(message: ProtoMessage): { kind: MediaKind; proto: Partial<MediaProto> } | undefined {
  const inner = message.documentWithCaptionMessage?.message ?? message;
  for (const kind of MEDIA_KINDS) {
    const proto = inner[`${kind}Message`];
    if (proto) return { kind, proto: proto as Partial<MediaProto> };
  }
  return undefined;
}

const buf = (value: Uint8Array | null | undefined): Buffer | undefined => (value && value.length ? Buffer.from(value) : undefined);

/**
 * What a phone does with a media message it received: fetch the ciphertext the message points
 * to, check both hashes and the MAC, decrypt. The description says whether that worked and why
 * not; the plaintext comes back only when everything verified.
 */
export function receiveMedia(message: ProtoMessage, server: SandboxMediaServer): { media: ReceivedMedia; plaintext?: Buffer; mediaKey?: Buffer } | undefined {
  const found = mediaOf(message);
  if (!found) return undefined;
  const { kind, proto } = found;
  const described: ReceivedMedia = {
    type: kind,
    mimetype: proto.mimetype ?? '',
    fileLength: Number(proto.fileLength ?? 0),
    verified: false,
    ...(proto.caption ? { caption: proto.caption } : {}),
    ...(proto.fileName ? { fileName: proto.fileName } : {}),
    ...(proto.ptt ? { ptt: true } : {}),
    ...(proto.seconds ? { seconds: proto.seconds } : {}),
    ...(buf(proto.waveform) ? { waveform: Buffer.from(proto.waveform as Uint8Array).toString('base64') } : {}),
    ...(proto.gifPlayback ? { gifPlayback: true } : {}),
    ...(proto.isAnimated ? { isAnimated: true } : {}),
    ...(proto.contextInfo?.stanzaId ? { quotedId: proto.contextInfo.stanzaId } : {}),
    ...(proto.contextInfo?.mentionedJid?.length ? { mentions: [...proto.contextInfo.mentionedJid] } : {}),
    ...(proto.directPath ? { directPath: proto.directPath } : {}),
  };
  const mediaKey = buf(proto.mediaKey);
  const fileEncSha256 = buf(proto.fileEncSha256);
  const fileSha256 = buf(proto.fileSha256);
  if (!mediaKey || !fileEncSha256 || !fileSha256) return { media: { ...described, problem: 'missing_keys' } };
  const stored = server.get(proto.directPath || proto.url || '');
  if (stored === undefined) return { media: { ...described, problem: 'not_found' } };
  if (stored === 'expired') return { media: { ...described, problem: 'expired' } };
  try {
    const plaintext = decryptMedia(stored, kind, { mediaKey, fileEncSha256, fileSha256 });
    return { media: { ...described, verified: true, size: plaintext.length, sha256: sha256(plaintext).toString('hex') }, plaintext, mediaKey };
  } catch (error) {
    if (error instanceof MediaVerificationError) return { media: { ...described, problem: error.problem } };
    throw error;
  }
}

/** What a phone's WhatsApp does to send a file: encrypt, upload, and describe it in the message. */
export function buildMediaMessage(
  out: OutgoingMediaMessage,
  server: SandboxMediaServer,
  contextInfo: Record<string, unknown> | undefined,
): ProtoMessage {
  const plaintext = Buffer.from(out.data, 'base64');
  const encrypted = encryptMedia(plaintext, out.type);
  const { url, directPath } = server.put(encrypted.encrypted);
  const common = {
    url,
    directPath,
    mediaKey: encrypted.mediaKey,
    fileEncSha256: encrypted.fileEncSha256,
    fileSha256: encrypted.fileSha256,
    fileLength: encrypted.fileLength,
    mediaKeyTimestamp: Math.floor(Date.now() / 1000),
    mimetype: out.mimetype ?? DEFAULT_MIMETYPES[out.type],
    ...(contextInfo ? { contextInfo } : {}),
  };
  switch (out.type) {
    case 'image':
      return { imageMessage: { ...common, ...(out.caption ? { caption: out.caption } : {}) } };
    case 'video':
      return { videoMessage: { ...common, ...(out.caption ? { caption: out.caption } : {}), ...(out.seconds ? { seconds: out.seconds } : {}), ...(out.gifPlayback ? { gifPlayback: true } : {}) } };
    case 'audio':
      return {
        audioMessage: {
          ...common,
          ...(out.ptt ? { ptt: true } : {}),
          ...(out.seconds ? { seconds: out.seconds } : {}),
          ...(out.waveform ? { waveform: Buffer.from(out.waveform, 'base64') } : {}),
        },
      };
    case 'document': {
      const documentMessage = { ...common, fileName: out.fileName ?? 'file', title: out.fileName ?? 'file', ...(out.caption ? { caption: out.caption } : {}) };
      // WhatsApp wraps a captioned document in documentWithCaptionMessage.
      return out.caption ? { documentWithCaptionMessage: { message: { documentMessage } } } : { documentMessage };
    }
    case 'sticker':
      return { stickerMessage: { ...common, ...(out.isAnimated ? { isAnimated: true } : {}) } };
  }
}

const DEFAULT_MIMETYPES: Record<MediaKind, string> = {
  image: 'image/jpeg',
  video: 'video/mp4',
  audio: 'audio/ogg; codecs=opus',
  document: 'application/octet-stream',
  sticker: 'image/webp',
};
