/**
 * Received media between the gateway and the runner that stored it. Wire names: never rename.
 *
 * The file crosses the transport in chunks of at most MEDIA_CHUNK_BYTES (base64 in JSON), one
 * request each: NATS refuses messages over its max_payload (1 MB by default), and the same
 * request/reply works unchanged over TCP, with no second listener or port to secure and route.
 */
import type { SessionRef } from './rpc';

export const RPC_MEDIA = {
  /** Gateway -> runner: size, type and name of a message's stored file (fetching it first when the policy is on request). */
  stat: 'media.stat',
  /** Gateway -> runner: bytes [offset, offset + length) of a message's stored file. */
  read: 'media.read',
} as const;

/** 512 KiB of file = ~683 KiB of base64: under NATS' default 1 MB max_payload with the JSON around it. */
export const MEDIA_CHUNK_BYTES = 512 * 1024;

export interface MediaStatPayload extends SessionRef {
  /** The WhatsApp message id. */
  id: string;
}

export interface MediaStat {
  type: 'image' | 'video' | 'audio' | 'document' | 'sticker';
  size: number;
  mimetype: string;
  fileName?: string;
}

export interface MediaReadPayload extends SessionRef {
  id: string;
  offset: number;
  /** At most MEDIA_CHUNK_BYTES. */
  length: number;
}

export interface MediaChunk {
  /** Base64. */
  data: string;
}

export const MEDIA_MESSAGE_TYPES: readonly string[] = ['image', 'video', 'audio', 'document', 'sticker'];

/**
 * `mediaUrl` of a media message's content: the gateway route that serves its file, relative to
 * the gateway's address (the runner does not know under which host the gateway is reached).
 */
export function mediaUrlFields(sessionId: string, messageId: string, type: string): { mediaUrl?: string } {
  return MEDIA_MESSAGE_TYPES.includes(type) ? { mediaUrl: `/api/v1/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/media` } : {};
}
