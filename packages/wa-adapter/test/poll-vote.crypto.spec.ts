import { randomBytes } from 'node:crypto';

import {
  buildPollUpdateMessage,
  decryptIncomingPollVote,
  encryptPollVote,
  loadBaileys,
  mapPollOptionHashes,
  pollOptionHash,
} from '../src';

const options = ['Pizza', 'Sushi', 'Tacos 🌮'];
const creatorPn = '491701111111@s.whatsapp.net';
const creatorLid = '111111111111111@lid';
const voterPn = '491702222222@s.whatsapp.net';
const voterLid = '222222222222222@lid';

describe('poll-vote crypto', () => {
  const secret = randomBytes(32);
  const pollMsgId = '3EB0A1B2C3D4E5F60718';

  it('encrypts a vote that Baileys\' own decryptPollVote opens to the selected option hashes', async () => {
    const { decryptPollVote } = await loadBaileys();
    const vote = await encryptPollVote(['Sushi', 'Tacos 🌮'], secret, {
      pollMsgId,
      pollCreatorJid: '491701111111:7@s.whatsapp.net',
      voterJid: '491702222222:12@s.whatsapp.net',
    });
    expect(vote.encIv).toHaveLength(12);

    const decoded = decryptPollVote(vote, { pollCreatorJid: creatorPn, pollMsgId, pollEncKey: secret, voterJid: voterPn });
    expect(mapPollOptionHashes(decoded.selectedOptions, options)).toEqual(['Sushi', 'Tacos 🌮']);
    expect(Buffer.from(decoded.selectedOptions[0])).toEqual(pollOptionHash('Sushi'));
  });

  it('builds a pollUpdateMessage whose empty selection clears the vote', async () => {
    const { decryptPollVote } = await loadBaileys();
    const message = await buildPollUpdateMessage({
      pollKey: { remoteJid: creatorLid, fromMe: false, id: pollMsgId },
      messageSecret: secret,
      selectedOptions: [],
      pollCreatorJid: creatorLid,
      voterJid: voterLid,
      senderTimestampMs: 1_700_000_000_000,
    });
    const update = message.pollUpdateMessage!;
    expect(update.pollCreationMessageKey).toEqual({ remoteJid: creatorLid, fromMe: false, id: pollMsgId });
    expect(update.senderTimestampMs).toBe(1_700_000_000_000);
    const decoded = decryptPollVote(
      { encPayload: update.vote!.encPayload!, encIv: update.vote!.encIv! },
      { pollCreatorJid: creatorLid, pollMsgId, pollEncKey: secret, voterJid: voterLid },
    );
    expect(decoded.selectedOptions).toEqual([]);
  });

  it('decrypts an incoming vote whose sender used LIDs while we know the phone numbers first', async () => {
    const vote = await encryptPollVote(['Pizza'], secret, { pollMsgId, pollCreatorJid: creatorLid, voterJid: voterLid });
    const result = await decryptIncomingPollVote(vote, {
      pollMsgId,
      messageSecret: secret,
      pollCreatorJids: [creatorPn, creatorLid],
      voterJids: [voterPn, '222222222222222:3@lid'],
      optionTexts: options,
    });
    expect(result).toMatchObject({ selectedOptions: ['Pizza'], pollCreatorJid: creatorLid, voterJid: voterLid });
  });

  it('decrypts a vote with a phone-number creator and a LID voter', async () => {
    const vote = await encryptPollVote(['Tacos 🌮', 'Pizza'], secret, { pollMsgId, pollCreatorJid: creatorPn, voterJid: voterLid });
    const result = await decryptIncomingPollVote(vote, {
      pollMsgId,
      messageSecret: secret,
      pollCreatorJids: [creatorLid, creatorPn],
      voterJids: [voterPn, voterLid],
      optionTexts: options,
    });
    expect(result.selectedOptions).toEqual(['Tacos 🌮', 'Pizza']);
  });

  it('refuses a vote encrypted for another poll secret', async () => {
    const vote = await encryptPollVote(['Pizza'], randomBytes(32), { pollMsgId, pollCreatorJid: creatorPn, voterJid: voterPn });
    await expect(
      decryptIncomingPollVote(vote, {
        pollMsgId,
        messageSecret: secret,
        pollCreatorJids: [creatorPn, creatorLid],
        voterJids: [voterPn, voterLid],
        optionTexts: options,
      }),
    ).rejects.toThrow(/could not be decrypted/);
  });

  it('drops hashes of options the poll does not have', () => {
    expect(mapPollOptionHashes([pollOptionHash('Burger'), pollOptionHash('Pizza')], options)).toEqual(['Pizza']);
  });
});
