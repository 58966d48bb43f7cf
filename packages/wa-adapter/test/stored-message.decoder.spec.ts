import { createHash, randomBytes } from 'node:crypto';

import { decodeStoredMessage, loadBaileys } from '../src';

/**
 * The decoder turns the raw `WebMessageInfo` bytes the store keeps (and the connection hands
 * over with each incoming message) into the API's content. Media are built with Baileys' own
 * `proto`, with every key and CDN field filled in, to prove none of them reach the output.
 */
describe('decodeStoredMessage', () => {
  const bytes = randomBytes(1000);
  const sha256 = createHash('sha256').update(bytes).digest();
  const secrets = {
    url: 'https://mmg.whatsapp.net/v/t62.7118-24/secret.enc',
    directPath: '/v/t62.7118-24/secret.enc',
    mediaKey: randomBytes(32),
    fileEncSha256: randomBytes(32),
    mediaKeyTimestamp: 1767225600,
  };

  async function encode(message: Record<string, unknown>): Promise<Uint8Array> {
    const { proto } = await loadBaileys();
    return proto.WebMessageInfo.encode({
      key: { remoteJid: '491701234567@s.whatsapp.net', fromMe: false, id: '3EB0AAAA' },
      messageTimestamp: 1767225600,
      message,
    }).finish();
  }

  async function decode(message: Record<string, unknown>): Promise<{ type: string; content: Record<string, unknown> }> {
    const decoded = await decodeStoredMessage(await encode(message));
    const json = JSON.stringify(decoded);
    // Key material and CDN addresses never leave the decoder, under any field name.
    for (const secret of [secrets.url, secrets.directPath, secrets.mediaKey.toString('base64'), secrets.fileEncSha256.toString('base64')]) {
      expect(json).not.toContain(secret);
    }
    expect(Object.keys(decoded.content)).not.toEqual(expect.arrayContaining(['mediaKey']));
    return decoded;
  }

  it('describes an image: mimetype, size, SHA-256, caption, dimensions, view-once and forwarding', async () => {
    const { type, content } = await decode({
      viewOnceMessageV2: {
        message: {
          imageMessage: {
            ...secrets,
            mimetype: 'image/jpeg',
            fileLength: bytes.length,
            fileSha256: sha256,
            caption: 'Look',
            width: 640,
            height: 480,
            jpegThumbnail: randomBytes(20),
            contextInfo: { isForwarded: true, forwardingScore: 3, expiration: 86400, stanzaId: '3EB0QUOTED' },
          },
        },
      },
    });
    expect(type).toBe('image');
    expect(content).toEqual({
      mimetype: 'image/jpeg',
      fileLength: 1000,
      fileSha256: sha256.toString('base64'),
      caption: 'Look',
      width: 640,
      height: 480,
      viewOnce: true,
      isForwarded: true,
      forwardingScore: 3,
      expiration: 86400,
      quotedMessageId: '3EB0QUOTED',
    });
  });

  it('describes a video with its duration and GIF playback', async () => {
    const { type, content } = await decode({
      videoMessage: { ...secrets, mimetype: 'video/mp4', fileLength: 2_000_000, fileSha256: sha256, seconds: 12, gifPlayback: true, width: 320, height: 240 },
    });
    expect(type).toBe('video');
    expect(content).toEqual({ mimetype: 'video/mp4', fileLength: 2_000_000, fileSha256: sha256.toString('base64'), seconds: 12, gifPlayback: true, width: 320, height: 240 });
  });

  it('describes a voice note', async () => {
    const { type, content } = await decode({
      audioMessage: { ...secrets, mimetype: 'audio/ogg; codecs=opus', fileLength: 4096, fileSha256: sha256, seconds: 7, ptt: true, waveform: randomBytes(64) },
    });
    expect(type).toBe('audio');
    expect(content).toEqual({ mimetype: 'audio/ogg; codecs=opus', fileLength: 4096, fileSha256: sha256.toString('base64'), seconds: 7, voiceNote: true });
  });

  it('describes a document sent with a caption (documentWithCaptionMessage)', async () => {
    const { type, content } = await decode({
      documentWithCaptionMessage: {
        message: {
          documentMessage: { ...secrets, mimetype: 'application/pdf', fileLength: 12345, fileSha256: sha256, fileName: 'invoice.pdf', caption: 'March', pageCount: 2 },
        },
      },
    });
    expect(type).toBe('document');
    expect(content).toEqual({ mimetype: 'application/pdf', fileLength: 12345, fileSha256: sha256.toString('base64'), fileName: 'invoice.pdf', caption: 'March', pageCount: 2 });
  });

  it('describes a sticker', async () => {
    const { type, content } = await decode({
      stickerMessage: { ...secrets, mimetype: 'image/webp', fileLength: 900, fileSha256: sha256, width: 512, height: 512, isAnimated: true },
    });
    expect(type).toBe('sticker');
    expect(content).toEqual({ mimetype: 'image/webp', fileLength: 900, fileSha256: sha256.toString('base64'), width: 512, height: 512, isAnimated: true });
  });

  it('describes text with a quote, mentions and a link preview', async () => {
    const { type, content } = await decode({
      ephemeralMessage: {
        message: {
          extendedTextMessage: {
            text: 'see https://example.com @491709999999',
            matchedText: 'https://example.com',
            title: 'Example',
            description: 'An example page',
            jpegThumbnail: randomBytes(20),
            contextInfo: { stanzaId: '3EB0QUOTED', participant: '491709999999@s.whatsapp.net', mentionedJid: ['491709999999@s.whatsapp.net'], expiration: 604800 },
          },
        },
      },
    });
    expect(type).toBe('text');
    expect(content).toEqual({
      text: 'see https://example.com @491709999999',
      quotedMessageId: '3EB0QUOTED',
      mentions: ['491709999999@s.whatsapp.net'],
      expiration: 604800,
      linkPreview: { matchedText: 'https://example.com', title: 'Example', description: 'An example page' },
    });
  });

  it('describes a location and a live location', async () => {
    await expect(decode({ locationMessage: { degreesLatitude: 48.137, degreesLongitude: 11.575, name: 'Munich', address: 'Marienplatz 1', url: 'https://maps.example/m' } })).resolves.toEqual({
      type: 'location',
      content: { latitude: 48.137, longitude: 11.575, name: 'Munich', address: 'Marienplatz 1', url: 'https://maps.example/m' },
    });
    await expect(
      decode({ liveLocationMessage: { degreesLatitude: 48.1, degreesLongitude: 11.5, accuracyInMeters: 10, speedInMps: 1.5, caption: 'On my way', sequenceNumber: 4 } }),
    ).resolves.toEqual({
      type: 'location',
      content: { latitude: 48.1, longitude: 11.5, live: true, accuracy: 10, speed: 1.5, caption: 'On my way', sequence: 4 },
    });
  });

  it('describes contact cards as `contacts`, every vCard of an array', async () => {
    const card = (name: string) => ({ displayName: name, vcard: `BEGIN:VCARD\nVERSION:3.0\nFN:${name}\nEND:VCARD` });
    await expect(decode({ contactMessage: card('Jane') })).resolves.toEqual({ type: 'contacts', content: { displayName: 'Jane', contacts: [card('Jane')] } });
    await expect(decode({ contactsArrayMessage: { displayName: '2 contacts', contacts: [card('Jane'), card('John')] } })).resolves.toEqual({
      type: 'contacts',
      content: { displayName: '2 contacts', contacts: [card('Jane'), card('John')] },
    });
  });

  it('describes reactions, edits and revokes by their target', async () => {
    const { proto } = await loadBaileys();
    const target = { remoteJid: '491701234567@s.whatsapp.net', fromMe: true, id: '3EB0TARGET' };
    await expect(decode({ reactionMessage: { key: target, text: '👍', senderTimestampMs: 1 } })).resolves.toEqual({ type: 'reaction', content: { emoji: '👍', targetMessageId: '3EB0TARGET' } });
    await expect(
      decode({ protocolMessage: { key: target, type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, editedMessage: { conversation: 'fixed' } } }),
    ).resolves.toEqual({ type: 'edit', content: { targetMessageId: '3EB0TARGET', text: 'fixed' } });
    await expect(decode({ protocolMessage: { key: target, type: proto.Message.ProtocolMessage.Type.REVOKE } })).resolves.toEqual({
      type: 'revoke',
      content: { targetMessageId: '3EB0TARGET' },
    });
  });

  it('describes a poll with its options', async () => {
    const decoded = await decodeStoredMessage(await encode({ pollCreationMessageV3: { name: 'Lunch?', options: [{ optionName: 'Pizza' }, { optionName: 'Sushi' }], selectableOptionsCount: 1 } }));
    expect(decoded).toEqual({
      type: 'poll',
      content: { name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 },
      poll: { name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 },
    });
  });
});
