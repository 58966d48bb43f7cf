import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { globalAgent, request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { WaSandbox } from '../src/index';
import { loadBaileys } from '../src/baileys.loader';
import { pairWithQr, type SandboxSession } from '../src/testing';

type Upsert = { messages: Array<{ key: { id?: string | null }; message?: Record<string, any> | null }> };

const sha256hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function httpsCall(url: string, init: { method?: string; body?: Buffer; headers?: Record<string, string>; ca?: string } = {}): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, ...(init.ca ? { ca: init.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe(`${WaSandbox.name} media`, () => {
  let sandbox: WaSandbox;
  let alice: SandboxSession;
  const ALICE = '15550000031';
  const CAROL = '15550000033';
  const carolJid = `${CAROL}@s.whatsapp.net`;
  let ca: string;

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create({ deliveryReceiptDelayMs: 50 })).start();
    ca = readFileSync(sandbox.mediaCaFile, 'utf8');
    // What NODE_EXTRA_CA_CERTS does for a process started with it; Baileys uploads with node:https.
    globalAgent.options.ca = [...rootCertificates, ca];
    await sandbox.createPhone(ALICE, 'Alice');
    await sandbox.createPhone(CAROL, 'Carol');
    alice = await pairWithQr(sandbox, ALICE);
  });

  afterAll(async () => {
    await alice?.end();
    await sandbox.stop();
  });

  it('serves TLS with a certificate only its own CA vouches for', async () => {
    await expect(httpsCall(`${sandbox.mediaBaseUrl}/v/none`, { ca })).resolves.toMatchObject({ status: 404 });
    globalAgent.destroy();
    const saved = globalAgent.options.ca;
    globalAgent.options.ca = undefined;
    try {
      await expect(httpsCall(`${sandbox.mediaBaseUrl}/v/none`)).rejects.toThrow(/certificate/i);
    } finally {
      globalAgent.options.ca = saved;
    }
  });

  it.each([
    ['image', { image: randomBytes(40_000), mimetype: 'image/jpeg', caption: 'a cat', jpegThumbnail: '' }, { caption: 'a cat', mimetype: 'image/jpeg' }],
    ['video', { video: randomBytes(70_000), caption: 'a loop', gifPlayback: true, seconds: 3, jpegThumbnail: '' }, { gifPlayback: true, caption: 'a loop', seconds: 3 }],
    ['audio', { audio: randomBytes(9_000), mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds: 7, waveform: new Uint8Array(64).fill(9) }, { ptt: true, seconds: 7, waveform: Buffer.alloc(64, 9).toString('base64') }],
    ['document', { document: randomBytes(5_000), mimetype: 'application/pdf', fileName: 'report.pdf' }, { fileName: 'report.pdf', mimetype: 'application/pdf' }],
    ['sticker', { sticker: randomBytes(3_000), mimetype: 'image/webp' }, { mimetype: 'image/webp' }],
  ])('a %s sent by Baileys is uploaded, downloaded and verified by the contact to the same bytes', async (type, content, expected) => {
    const data = Object.values(content)[0] as Buffer;
    const sent = await alice.sock.sendMessage(carolJid, content as never);
    const received = await sandbox.waitForReceived(CAROL, (m) => m.id === sent?.key.id);
    expect(received).toMatchObject({ kind: type, media: { type, verified: true, sha256: sha256hex(data), size: data.length, ...expected } });
    expect(sandbox.receivedMedia(CAROL, received.id)?.equals(data)).toBe(true);
  });

  it('reports a media message whose file does not match its hashes as unverified', async () => {
    const baileys = await loadBaileys();
    const data = randomBytes(10_000);
    const prepared = await baileys.prepareWAMessageMedia({ image: data, jpegThumbnail: '' } as never, { upload: alice.sock.waUploadToServer });
    const imageMessage = { ...prepared.imageMessage, fileSha256: createHash('sha256').update('something else').digest() };
    const id = baileys.generateMessageIDV2();
    await alice.sock.relayMessage(carolJid, { imageMessage }, { messageId: id });
    const received = await sandbox.waitForReceived(CAROL, (m) => m.id === id);
    expect(received.media).toMatchObject({ verified: false, problem: 'sha256_mismatch' });
    expect(sandbox.receivedMedia(CAROL, id)).toBeUndefined();
  });

  it('refuses uploads without a valid auth or whose body does not hash to the path', async () => {
    const body = randomBytes(1000);
    const hash = createHash('sha256').update(body).digest('base64url');
    const bad = await httpsCall(`${sandbox.mediaBaseUrl}/mms/image/${hash}?auth=nope&token=${hash}`, { method: 'POST', body, ca });
    expect(bad.status).toBe(401);
    const wrongHash = createHash('sha256').update('x').digest('base64url');
    // A real auth comes only from media_conn; take one the way Baileys does.
    const query = (alice.sock as unknown as { query: (n: unknown) => Promise<any> }).query;
    const answer = await query({ tag: 'iq', attrs: { type: 'set', xmlns: 'w:m', to: 's.whatsapp.net' }, content: [{ tag: 'media_conn', attrs: {} }] });
    const conn = (answer.content as Array<{ tag: string; attrs: Record<string, string> }>).find((n) => n.tag === 'media_conn');
    expect(conn?.attrs).toMatchObject({ ttl: expect.any(String), auth_ttl: expect.any(String), max_buckets: expect.any(String) });
    const auth = encodeURIComponent(conn?.attrs.auth ?? '');
    const mismatch = await httpsCall(`${sandbox.mediaBaseUrl}/mms/image/${wrongHash}?auth=${auth}&token=${wrongHash}`, { method: 'POST', body, ca });
    expect(mismatch.status).toBe(400);
    const good = await httpsCall(`${sandbox.mediaBaseUrl}/mms/image/${hash}?auth=${auth}&token=${hash}`, { method: 'POST', body, ca });
    expect(good.status).toBe(200);
    const { direct_path: directPath } = JSON.parse(good.body.toString()) as { direct_path: string };
    const back = await httpsCall(`${sandbox.mediaBaseUrl}${directPath}`, { ca, headers: { range: 'bytes=10-19' } });
    expect(back).toMatchObject({ status: 206 });
    expect(back.body.equals(body.subarray(10, 20))).toBe(true);
    expect(sandbox.mediaRefusals().map((r) => r.reason)).toEqual(expect.arrayContaining(['auth', 'hash mismatch']));
  });

  it('refuses every upload during an outage of the media hosts (control API), and takes them again after', async () => {
    const outage = (status: unknown) => fetch(`${sandbox.controlUrl}/media/outage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status }) });
    for (const bad of [200, 600, '503', 2.5]) expect((await outage(bad)).status).toBe(400);
    await expect((await outage(503)).json()).resolves.toEqual({ refusing: 503 });
    const body = randomBytes(1000);
    const hash = createHash('sha256').update(body).digest('base64url');
    const query = (alice.sock as unknown as { query: (n: unknown) => Promise<any> }).query;
    const answer = await query({ tag: 'iq', attrs: { type: 'set', xmlns: 'w:m', to: 's.whatsapp.net' }, content: [{ tag: 'media_conn', attrs: {} }] });
    const auth = encodeURIComponent((answer.content as Array<{ tag: string; attrs: Record<string, string> }>).find((n) => n.tag === 'media_conn')?.attrs.auth ?? '');
    const upload = () => httpsCall(`${sandbox.mediaBaseUrl}/mms/image/${hash}?auth=${auth}&token=${hash}`, { method: 'POST', body, ca });
    expect((await upload()).status).toBe(503);
    expect(sandbox.mediaRefusals().at(-1)?.reason).toBe('outage');
    await expect((await outage(null)).json()).resolves.toEqual({ refusing: null });
    expect((await upload()).status).toBe(200);
  });

  it('sends each media type from a virtual phone, decryptable with Baileys media keys, and expires them on demand', async () => {
    const baileys = await loadBaileys();
    const data = randomBytes(33_333);
    const { id } = await sandbox.sendMessage(CAROL, `${ALICE}@s.whatsapp.net`, { type: 'document', data: data.toString('base64'), mimetype: 'application/zip', fileName: 'a.zip', caption: 'here' });
    const upsert = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === id));
    const document = upsert.messages[0]?.message?.documentWithCaptionMessage?.message?.documentMessage;
    expect(document).toMatchObject({ fileName: 'a.zip', mimetype: 'application/zip', caption: 'here' });
    const fetched = await httpsCall(document.url, { ca });
    expect(fetched.status).toBe(200);
    expect(sha256hex(fetched.body)).toBe(Buffer.from(document.fileEncSha256).toString('hex'));
    const keys = await baileys.getMediaKeys(document.mediaKey, 'document');
    const decipher = createDecipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
    const plain = Buffer.concat([decipher.update(fetched.body.subarray(0, -10)), decipher.final()]);
    expect(plain.equals(data)).toBe(true);

    for (const type of ['image', 'video', 'audio', 'sticker'] as const) {
      const sent = await sandbox.sendMessage(CAROL, `${ALICE}@s.whatsapp.net`, { type, data: randomBytes(100).toString('base64'), ...(type === 'audio' ? { ptt: true, seconds: 2 } : {}) });
      const got = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === sent.id));
      expect(got.messages[0]?.message?.[`${type}Message`]).toMatchObject({ directPath: expect.stringMatching(/^\/v\//) });
    }

    expect(sandbox.expireMedia().expired).toBeGreaterThan(0);
    await expect(httpsCall(document.url, { ca })).resolves.toMatchObject({ status: 410 });
  });

  it("answers a companion's media retry (updateMediaMessage) for an expired file with a fresh direct path to the same ciphertext", async () => {
    const data = randomBytes(12_345);
    const { id } = await sandbox.sendMessage(CAROL, `${ALICE}@s.whatsapp.net`, { type: 'image', data: data.toString('base64'), mimetype: 'image/jpeg' });
    const upsert = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === id));
    const message = upsert.messages.find((m) => m.key.id === id)!;
    // The account's own phone received the message too, and holds the file.
    await sandbox.waitForReceived(ALICE, (m) => m.id === id);
    const before = message.message!.imageMessage.directPath as string;
    sandbox.expireMedia();
    await expect(httpsCall(`${sandbox.mediaBaseUrl}${before}`, { ca })).resolves.toMatchObject({ status: 410 });
    const updated = await alice.sock.updateMediaMessage(message as never);
    const after = updated.message!.imageMessage!.directPath!;
    expect(after).not.toBe(before);
    const fetched = await httpsCall(`${sandbox.mediaBaseUrl}${after}`, { ca });
    expect(fetched.status).toBe(200);
    expect(sha256hex(fetched.body)).toBe(Buffer.from(message.message!.imageMessage.fileEncSha256).toString('hex'));
    expect(sandbox.listMediaRetries().map((r) => r.id)).toContain(id);
  });

  it('answers a media retry for a message the phone does not hold with an error Baileys reports', async () => {
    const baileys = await loadBaileys();
    const prepared = await baileys.prepareWAMessageMedia({ image: randomBytes(500), jpegThumbnail: '' } as never, { upload: alice.sock.waUploadToServer });
    const fake = { key: { id: baileys.generateMessageIDV2(), remoteJid: carolJid, fromMe: false }, message: { imageMessage: prepared.imageMessage } };
    await expect(alice.sock.updateMediaMessage(fake as never)).rejects.toThrow(/re-upload/);
  });
});
