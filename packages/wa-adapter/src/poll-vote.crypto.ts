import { createCipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

import { normalizeJid } from '@wa/domain';
import type { proto } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

import { loadBaileys } from './baileys.loader';

export interface PollVoteAddressing {
  pollMsgId: string;
  /** Author of the poll, in the addressing form of the chat (LID in `@lid` chats, else phone). */
  pollCreatorJid: string;
  voterJid: string;
}

export interface EncryptedPollVote {
  encPayload: Buffer;
  encIv: Buffer;
}

/** WhatsApp identifies an option by the SHA-256 of its text, never by its index. */
export function pollOptionHash(optionText: string): Buffer {
  return createHash('sha256').update(Buffer.from(optionText, 'utf8')).digest();
}

/** Maps selected option hashes back to texts; hashes of unknown options are dropped. */
export function mapPollOptionHashes(hashes: Uint8Array[], optionTexts: string[]): string[] {
  const byHash = new Map(optionTexts.map((text) => [pollOptionHash(text).toString('hex'), text]));
  return hashes.flatMap((hash) => byHash.get(Buffer.from(hash).toString('hex')) ?? []);
}

function voteKey(messageSecret: Uint8Array, a: PollVoteAddressing): Buffer {
  const info = Buffer.concat([
    Buffer.from(a.pollMsgId),
    Buffer.from(normalizeJid(a.pollCreatorJid)),
    Buffer.from(normalizeJid(a.voterJid)),
    Buffer.from('Poll Vote'),
  ]);
  return Buffer.from(hkdfSync('sha256', messageSecret, Buffer.alloc(32), info, 32));
}

/**
 * Encrypts a selection the way WhatsApp clients do (and Baileys' `decryptPollVote` undoes):
 * HKDF-SHA256 key from the poll's message secret, AES-256-GCM with the tag appended.
 */
export async function encryptPollVote(
  selectedOptions: string[],
  messageSecret: Uint8Array,
  addressing: PollVoteAddressing,
): Promise<EncryptedPollVote> {
  const { proto } = await loadBaileys();
  const plaintext = proto.Message.PollVoteMessage.encode({ selectedOptions: selectedOptions.map(pollOptionHash) }).finish();
  const encIv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', voteKey(messageSecret, addressing), encIv);
  cipher.setAAD(Buffer.from(`${addressing.pollMsgId}\u0000${normalizeJid(addressing.voterJid)}`));
  const encPayload = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { encPayload, encIv };
}

export interface PollUpdateInput {
  /** Key of the poll creation message as stored (chat, id, fromMe, participant). */
  pollKey: proto.IMessageKey;
  messageSecret: Uint8Array;
  selectedOptions: string[];
  pollCreatorJid: string;
  voterJid: string;
  senderTimestampMs?: number;
}

/** The message content of a vote; an empty `selectedOptions` clears the voter's earlier choice. */
export async function buildPollUpdateMessage(input: PollUpdateInput): Promise<proto.IMessage> {
  const pollMsgId = input.pollKey.id;
  if (!pollMsgId) throw new Error('the poll key has no message id');
  const vote = await encryptPollVote(input.selectedOptions, input.messageSecret, {
    pollMsgId,
    pollCreatorJid: input.pollCreatorJid,
    voterJid: input.voterJid,
  });
  return {
    pollUpdateMessage: {
      pollCreationMessageKey: {
        remoteJid: input.pollKey.remoteJid,
        fromMe: input.pollKey.fromMe,
        id: pollMsgId,
        ...(input.pollKey.participant ? { participant: input.pollKey.participant } : {}),
      },
      vote,
      senderTimestampMs: input.senderTimestampMs ?? Date.now(),
    },
  };
}

export interface IncomingPollVoteContext {
  pollMsgId: string;
  messageSecret: Uint8Array;
  /** Every known form of the poll author (LID and phone number); each is tried. */
  pollCreatorJids: string[];
  /** Every known form of the voter (LID and phone number); each is tried. */
  voterJids: string[];
  optionTexts: string[];
}

export interface DecryptedPollVote {
  selectedOptions: string[];
  selectedHashes: Buffer[];
  pollCreatorJid: string;
  voterJid: string;
}

/**
 * The key depends on which jid forms the voter's client used, and Baileys' author helper
 * guesses phone numbers where the voter may have used LIDs, so every combination of known forms
 * is tried. GCM's tag makes a wrong combination fail loudly rather than decrypt to garbage.
 */
export async function decryptIncomingPollVote(
  vote: { encPayload?: Uint8Array | null; encIv?: Uint8Array | null },
  context: IncomingPollVoteContext,
): Promise<DecryptedPollVote> {
  const { decryptPollVote } = await loadBaileys();
  if (!vote.encPayload || !vote.encIv) throw new Error('poll vote has no encrypted payload');
  const vEnc = { encPayload: vote.encPayload, encIv: vote.encIv };
  const creators = [...new Set(context.pollCreatorJids.map(normalizeJid))];
  const voters = [...new Set(context.voterJids.map(normalizeJid))];
  for (const pollCreatorJid of creators) {
    for (const voterJid of voters) {
      let decoded: proto.Message.PollVoteMessage;
      try {
        decoded = decryptPollVote(vEnc, {
          pollCreatorJid,
          pollMsgId: context.pollMsgId,
          pollEncKey: context.messageSecret,
          voterJid,
        });
      } catch {
        continue;
      }
      const selectedHashes = (decoded.selectedOptions ?? []).map((hash) => Buffer.from(hash));
      return {
        selectedHashes,
        selectedOptions: mapPollOptionHashes(selectedHashes, context.optionTexts),
        pollCreatorJid,
        voterJid,
      };
    }
  }
  throw new Error(
    `poll vote for ${context.pollMsgId} could not be decrypted with creator ${creators.join('|')} and voter ${voters.join('|')}`,
  );
}
