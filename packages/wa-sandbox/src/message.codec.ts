import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { Baileys, ProtoMessage } from './baileys.loader';
import { mediaOf } from './media.message';
import type { ReceivedKind, ReceivedMessage } from './sandbox.types';

export interface PollRecord {
  id: string;
  /** Author account jid in LID and PN form; votes may be keyed with either. */
  creatorLid: string;
  creatorPn: string;
  secret: Buffer;
  options: string[];
}

export type MessageContent = Pick<
  ReceivedMessage,
  'kind' | 'text' | 'mentions' | 'location' | 'contact' | 'poll' | 'vote' | 'reaction' | 'edit' | 'revoke' | 'forwarded'
> & { pollSecret?: Buffer; voteCiphertext?: { encPayload: Buffer; encIv: Buffer } };

const asBuffer = (value: Uint8Array | null | undefined): Buffer | undefined =>
  value && value.length ? Buffer.from(value) : undefined;

/** Flattens the message kinds the gateway cares about into plain JSON. */
export function describeMessage(message: ProtoMessage): MessageContent {
  const described = describeContent(message);
  const context = Object.values(message).find((part): part is { contextInfo?: { isForwarded?: boolean | null; forwardingScore?: number | null } } => !!part && typeof part === 'object' && 'contextInfo' in part)?.contextInfo;
  return context?.isForwarded ? { ...described, forwarded: { score: context.forwardingScore ?? 0 } } : described;
}

function describeContent(message: ProtoMessage): MessageContent {
  const poll = message.pollCreationMessageV3 ?? message.pollCreationMessageV2 ?? message.pollCreationMessage;
  if (message.conversation || message.extendedTextMessage?.text) {
    const mentions = message.extendedTextMessage?.contextInfo?.mentionedJid ?? [];
    return { kind: 'text', text: message.conversation || message.extendedTextMessage?.text || '', ...(mentions.length ? { mentions: [...mentions] } : {}) };
  }
  if (message.locationMessage) {
    const { degreesLatitude, degreesLongitude, name, address } = message.locationMessage;
    return {
      kind: 'location',
      location: {
        latitude: degreesLatitude ?? 0,
        longitude: degreesLongitude ?? 0,
        ...(name ? { name } : {}),
        ...(address ? { address } : {}),
      },
    };
  }
  if (message.contactMessage) {
    return {
      kind: 'contact',
      contact: { displayName: message.contactMessage.displayName ?? '', vcard: message.contactMessage.vcard ?? '' },
    };
  }
  if (poll) {
    return {
      kind: 'poll',
      poll: {
        name: poll.name ?? '',
        options: (poll.options ?? []).map((option) => option.optionName ?? ''),
        selectableCount: poll.selectableOptionsCount ?? 0,
      },
      pollSecret: asBuffer(message.messageContextInfo?.messageSecret),
    };
  }
  if (message.pollUpdateMessage) {
    const { pollCreationMessageKey, vote } = message.pollUpdateMessage;
    return {
      kind: 'vote',
      vote: { pollId: pollCreationMessageKey?.id ?? '', selectedOptions: [] },
      voteCiphertext: { encPayload: asBuffer(vote?.encPayload) ?? Buffer.alloc(0), encIv: asBuffer(vote?.encIv) ?? Buffer.alloc(0) },
    };
  }
  if (message.reactionMessage) {
    const emoji = message.reactionMessage.text ?? '';
    return { kind: 'reaction', reaction: { targetId: message.reactionMessage.key?.id ?? '', emoji, removed: emoji === '' } };
  }
  const protocol = message.protocolMessage;
  if (protocol) {
    const edited = protocol.editedMessage;
    if (edited) {
      const text = edited.conversation || edited.extendedTextMessage?.text || '';
      return { kind: 'edit', edit: { targetId: protocol.key?.id ?? '', text } };
    }
    if (protocol.type === 0) {
      return { kind: 'revoke', revoke: { targetId: protocol.key?.id ?? '' } };
    }
    return { kind: 'protocol' };
  }
  return { kind: 'other' satisfies ReceivedKind };
}

export const hashPollOption = (option: string): Buffer => createHash('sha256').update(option).digest();

function pollVoteKey(secret: Buffer, pollId: string, creatorJid: string, voterJid: string): Buffer {
  const extracted = createHmac('sha256', Buffer.alloc(32)).update(secret).digest();
  return createHmac('sha256', extracted)
    .update(Buffer.concat([Buffer.from(pollId), Buffer.from(creatorJid), Buffer.from(voterJid), Buffer.from('Poll Vote'), Buffer.from([1])]))
    .digest();
}

/**
 * Baileys can decrypt a vote but has no helper to cast one; this is the inverse of its
 * `decryptPollVote` (HKDF-SHA256 of the poll secret, AES-256-GCM, AAD = id NUL voter).
 */
export function encryptPollVote(
  baileys: Baileys,
  selectedOptions: string[],
  context: { secret: Buffer; pollId: string; creatorJid: string; voterJid: string },
): { encPayload: Buffer; encIv: Buffer } {
  const key = pollVoteKey(context.secret, context.pollId, context.creatorJid, context.voterJid);
  const encIv = randomBytes(12);
  const plaintext = baileys.proto.Message.PollVoteMessage.encode({ selectedOptions: selectedOptions.map(hashPollOption) }).finish();
  const cipher = createCipheriv('aes-256-gcm', key, encIv);
  cipher.setAAD(Buffer.from(`${context.pollId}\u0000${context.voterJid}`));
  const encPayload = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { encPayload, encIv };
}

/** Tries every addressing pair a client may have used, as the design notes require. */
export function decryptVote(
  baileys: Baileys,
  ciphertext: { encPayload: Buffer; encIv: Buffer },
  poll: PollRecord,
  voterJids: string[],
): string[] | undefined {
  const byHash = new Map(poll.options.map((option) => [hashPollOption(option).toString('hex'), option]));
  for (const creatorJid of [poll.creatorLid, poll.creatorPn]) {
    for (const voterJid of voterJids) {
      try {
        const vote = baileys.decryptPollVote(ciphertext, { pollCreatorJid: creatorJid, pollMsgId: poll.id, pollEncKey: poll.secret, voterJid });
        return (vote.selectedOptions ?? []).map((hash) => byHash.get(Buffer.from(hash).toString('hex')) ?? Buffer.from(hash).toString('hex'));
      } catch {
        continue;
      }
    }
  }
  return undefined;
}

/** The `type` attribute WhatsApp puts on a message stanza for this content. */
export function stanzaTypeOf(message: ProtoMessage): string {
  if (message.reactionMessage) return 'reaction';
  if (message.pollCreationMessageV3 || message.pollCreationMessage || message.pollUpdateMessage) return 'poll';
  if (mediaOf(message)) return 'media';
  return 'text';
}
