import { promisify } from 'node:util';
import { inflate as zlibInflate } from 'node:zlib';
import type { WAMessage, proto } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

import { toIncomingMessage } from './baileys-message.mapper';
import type { BaileysModule } from './baileys.loader';
import { downloadHistoryBlob } from './media-download';
import type { WaHistoryBatch, WaLidMapping } from './wa-engine.port';

/** An on-demand history sync of a chat holds at most 50 messages; this bounds its inflated size generously. */
const HISTORY_MAX_BYTES = 32 * 1024 * 1024;
const HISTORY_TIMEOUT_MS = 60_000;

/**
 * The notification of an ON_DEMAND history sync our own phone sent (the answer to
 * `fetchMessageHistory`), or undefined for any other message. Baileys processes history
 * notifications only when history sync is on, downloading from mmg.whatsapp.net without checking
 * the blob; this adapter reads the on-demand ones itself (see `readOnDemandHistory`).
 */
export function onDemandHistoryNotification(b: BaileysModule, message: WAMessage): proto.Message.IHistorySyncNotification | undefined {
  const protocol = b.normalizeMessageContent(message.message)?.protocolMessage;
  const notification = protocol?.historySyncNotification;
  if (protocol?.type !== b.proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION || !notification) return undefined;
  // Only our own devices may send history; anyone else's is a spoof (Baileys drops those too).
  if (!message.key.fromMe || notification.syncType !== b.proto.HistorySync.HistorySyncType.ON_DEMAND) return undefined;
  return notification;
}

/**
 * Downloads (or reads inline), verifies and decodes an ON_DEMAND history sync, and keeps what a
 * chat shows: messages with content, not protocol messages, reactions, votes or stubs.
 */
export async function readOnDemandHistory(
  b: BaileysModule,
  notification: proto.Message.IHistorySyncNotification,
  mediaBaseUrl: string,
): Promise<{ batch: WaHistoryBatch; lidMappings: WaLidMapping[] }> {
  const bytes = notification.initialHistBootstrapInlinePayload?.length
    ? await inflate(notification.initialHistBootstrapInlinePayload)
    : await downloadHistoryBlob(
        {
          directPath: notification.directPath ?? '',
          mediaKey: Buffer.from(notification.mediaKey ?? []),
          fileEncSha256: Buffer.from(notification.fileEncSha256 ?? []),
          fileSha256: Buffer.from(notification.fileSha256 ?? []),
        },
        { baseUrl: mediaBaseUrl, maxBytes: HISTORY_MAX_BYTES, timeoutMs: HISTORY_TIMEOUT_MS },
      );
  const sync = b.processHistoryMessage(b.proto.HistorySync.decode(bytes));
  const messages = sync.messages.flatMap((message: WAMessage) => {
    const content = b.normalizeMessageContent(message.message);
    if (!content || !message.key?.id || message.messageStubType) return [];
    if (content.protocolMessage || content.reactionMessage || content.pollUpdateMessage) return [];
    if (content.senderKeyDistributionMessage && b.getContentType(content) === 'senderKeyDistributionMessage') return [];
    return [toIncomingMessage(b, message, content)];
  });
  messages.sort((x, y) => x.timestampMs - y.timestampMs);
  const chatJid = sync.chats[0]?.id ?? messages[0]?.key.chatJid;
  const lidMappings: WaLidMapping[] = sync.lidPnMappings ?? [];
  const chatJidAlt = lidMappings.find((m) => m.lid === chatJid)?.pn ?? lidMappings.find((m) => m.pn === chatJid)?.lid;
  return {
    batch: {
      ...(notification.peerDataRequestSessionId ? { requestId: notification.peerDataRequestSessionId } : {}),
      ...(chatJid ? { chatJid } : {}),
      ...(chatJidAlt ? { chatJidAlt } : {}),
      messages,
    },
    lidMappings,
  };
}

const inflate = promisify(zlibInflate);
