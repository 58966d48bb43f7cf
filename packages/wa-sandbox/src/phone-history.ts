import { deflateSync } from 'node:zlib';
import type { Baileys, ProtoMessage } from './baileys.loader';
import { encryptMedia } from './media.crypto';
import type { SandboxMediaServer } from './media.server';

/** One message of a chat as the phone keeps it: what a history sync sends as a `WebMessageInfo`. */
export interface ArchivedMessage {
  id: string;
  fromMe: boolean;
  /** The author in a group (LID), absent in 1:1 chats. */
  participant?: string;
  /** Unix seconds, as WhatsApp stamps messages. */
  timestamp: number;
  message: ProtoMessage;
  pushName?: string;
}

/** What a phone was asked for by one of its companions, and what it answered. */
export interface HistoryRequestRecord {
  requestId: string;
  chat: string;
  anchorId: string;
  count: number;
  answered: number;
  at: number;
}

/**
 * The chats a phone holds, each in time order (equal timestamps keep the order they arrived in).
 * The phone is the account's archive: a linked device only has what it was sent since linking,
 * and asks the phone for anything older.
 */
export class ChatArchive {
  private readonly chats = new Map<string, ArchivedMessage[]>();

  add(chat: string, entry: ArchivedMessage): void {
    const list = this.chats.get(chat) ?? [];
    if (list.some((m) => m.id === entry.id && m.fromMe === entry.fromMe)) return;
    let at = list.length;
    while (at > 0 && list[at - 1]!.timestamp > entry.timestamp) at--;
    list.splice(at, 0, entry);
    this.chats.set(chat, list);
  }

  messages(chat: string): ArchivedMessage[] {
    return [...(this.chats.get(chat) ?? [])];
  }

  /**
   * Up to `count` messages right before the anchor, oldest first: before its place when the phone
   * has the anchor, else before its timestamp (a message the phone deleted since).
   */
  before(chat: string, anchor: { id: string; fromMe: boolean; timestampMs: number }, count: number): ArchivedMessage[] {
    const list = this.chats.get(chat) ?? [];
    const index = list.findIndex((m) => m.id === anchor.id && m.fromMe === anchor.fromMe);
    const end = index >= 0 ? index : list.filter((m) => m.timestamp * 1000 < anchor.timestampMs).length;
    return list.slice(Math.max(0, end - count), end);
  }
}

/** The chat's jids as the history sync names them: its id (the phone's form) and the phone-number twin of a LID chat. */
export interface ConversationIds {
  id: string;
  pnJid?: string;
}

/**
 * What a phone sends a companion that asked for older messages (`HISTORY_SYNC_ON_DEMAND`): a
 * `HistorySync` of type ON_DEMAND with the chat and its messages, deflated, encrypted under the
 * history keys and uploaded like media, and a `historySyncNotification` pointing at the blob that
 * names the request (`peerDataRequestSessionId` = the request's message id).
 */
export function onDemandHistoryNotification(
  baileys: Baileys,
  media: SandboxMediaServer,
  conversation: ConversationIds,
  messages: ArchivedMessage[],
  requestId: string,
): ProtoMessage {
  const { proto } = baileys;
  const sync = proto.HistorySync.encode({
    syncType: proto.HistorySync.HistorySyncType.ON_DEMAND,
    chunkOrder: 0,
    progress: 100,
    conversations: [
      {
        id: conversation.id,
        ...(conversation.pnJid ? { pnJid: conversation.pnJid } : {}),
        messages: messages.map((m, i) => ({
          msgOrderId: i + 1,
          message: {
            key: { remoteJid: conversation.id, fromMe: m.fromMe, id: m.id, ...(m.participant ? { participant: m.participant } : {}) },
            messageTimestamp: m.timestamp,
            message: m.message,
            ...(m.participant ? { participant: m.participant } : {}),
            ...(m.pushName && !m.fromMe ? { pushName: m.pushName } : {}),
          },
        })),
      },
    ],
  }).finish();
  const blob = encryptMedia(deflateSync(sync), 'history');
  const { directPath } = media.put(blob.encrypted);
  return {
    protocolMessage: {
      type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
      historySyncNotification: {
        fileSha256: blob.fileSha256,
        fileLength: blob.fileLength,
        mediaKey: blob.mediaKey,
        fileEncSha256: blob.fileEncSha256,
        directPath,
        syncType: proto.HistorySync.HistorySyncType.ON_DEMAND,
        chunkOrder: 0,
        progress: 100,
        ...(messages.length ? { oldestMsgInChunkTimestampSec: messages[0]!.timestamp } : {}),
        peerDataRequestSessionId: requestId,
      },
    },
  };
}
