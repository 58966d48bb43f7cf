import { mediaUrlFields, type JidPair, type MessageReceivedEventData, type SessionStatusEventData } from '@wa/contracts/runtime';
import { decodeStoredMessage, type WaDeliveryStatus, type WaIncomingMessage, type WaStatus } from '@wa/wa-adapter';

/** The public status of a connection state. */
export function toSessionStatus(status: WaStatus): SessionStatusEventData {
  switch (status.state) {
    case 'connected':
      return { status: 'connected', me: status.me };
    case 'failed':
      return { status: 'failed', reason: status.reason };
    case 'reconnecting':
      return { status: 'reconnecting', ...(status.code !== undefined ? { reason: `disconnected (${status.code})` } : {}) };
    default:
      return { status: status.state };
  }
}

export { jidPair } from '@wa/contracts/runtime';

/** WhatsApp's ack levels as the API names them; `pending` is not news to anyone. */
export function toPublicDeliveryStatus(status: WaDeliveryStatus): 'sent' | 'delivered' | 'read' | 'failed' | undefined {
  switch (status) {
    case 'server_ack':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'read':
    case 'played':
      return 'read';
    case 'error':
      return 'failed';
    default:
      return undefined;
  }
}

/** Rows stored before contact cards were named `contacts` say `contact`. */
export function publicMessageType(type: string): string {
  return type === 'contact' ? 'contacts' : type;
}

/**
 * `type` and `content` of `message.received`: the same decoding of the same raw bytes that
 * `GET .../messages/{mid}` answers, plus the sender's `pushName` and the fields the event carried
 * before it had the full content (`text`: the text, caption, poll question, location or card
 * name; `pollOptions`), so a consumer of either sees one shape per type.
 */
export async function receivedContent(m: WaIncomingMessage, sessionId: string): Promise<Pick<MessageReceivedEventData, 'type' | 'content'>> {
  const decoded = await decodeStoredMessage(m.raw);
  const type = publicMessageType(decoded.type === 'unknown' ? m.type : decoded.type);
  return {
    type,
    content: {
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.pollOptions ? { pollOptions: m.pollOptions } : {}),
      ...(m.quotedId ? { quotedMessageId: m.quotedId } : {}),
      ...decoded.content,
      ...(m.pushName ? { pushName: m.pushName } : {}),
      ...mediaUrlFields(sessionId, m.key.id, type),
    },
  };
}
