import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WaSandbox, type PhoneInfo, type ReceivedMessage } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { ApiClient } from './session-fixture';
import { HANG_MS } from './deadlines';

interface SendResult {
  status: string;
  waMessageId: string;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Peak and current resident set of a process, from /proc (Linux), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Outgoing media end to end: the gateway takes each media type from a URL (a local HTTP server)
 * or inline base64, the runner's real Baileys socket encrypts and uploads it to the sandbox's
 * HTTPS media server (trusted through NODE_EXTRA_CA_CERTS), and the contact's virtual phone
 * downloads, verifies (ciphertext hash, MAC, plaintext hash) and decrypts it to the same bytes.
 */
describe('outgoing media (gateway + runner + Baileys + sandbox media server)', () => {
  const ORG = 'org-media-send';
  const OWNER = '4917300000001';
  const CONTACT = '4917300000002';
  const BIG = 64 * 1024 * 1024;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let files: Server;
  let filesUrl: string;
  let owner: PhoneInfo;
  let contact: PhoneInfo;
  let sessionId: string;
  const served = new Map<string, Buffer>();

  const send = async (body: Record<string, unknown>): Promise<SendResult> => {
    const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: contact.jid, ...body } });
    const answer = (await res.json()) as SendResult & { error?: unknown };
    if (res.status !== 200) throw new Error(`send answered ${res.status}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const receivedBy = (pred: (m: ReceivedMessage) => boolean, timeoutMs = HANG_MS): Promise<ReceivedMessage> => sandbox.waitForReceived(CONTACT, pred, timeoutMs);
  const serve = (name: string, data: Buffer): string => {
    served.set(`/${name}`, data);
    return `${filesUrl}/${name}`;
  };

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    owner = await sandbox.createPhone(OWNER, 'Owner');
    contact = await sandbox.createPhone(CONTACT, 'Contact');
    files = createServer((req, res) => {
      const data = served.get(req.url ?? '');
      if (!data) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length) });
      res.end(data);
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    const transport = await transportEnv();
    const media = { MEDIA_ALLOWED_CIDRS: '127.0.0.0/8', MEDIA_MAX_BYTES: String(BIG + 1024 * 1024) };
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox, { ...media, MEDIA_FETCH_TIMEOUT_MS: '120000' }));
    // Retries of a send that met a media outage come within 3 s (backoff up to OUTBOX_RETRY_MAX_MS).
    gw = await startGateway(transport, { ...idp.env, ...media, SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0', SEND_SYNC_TIMEOUT_MS: '60000', OUTBOX_RETRY_MAX_MS: '3000' });
    client = new ApiClient(() => gw.url, idp, ORG);
    sessionId = (await client.linkSession(sandbox, OWNER, 'media sender')).id;
  });

  afterAll(async () => {
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    files?.closeAllConnections();
    await new Promise((resolve) => (files ? files.close(resolve) : resolve(undefined)));
    await idp?.close();
    await dropTestSchemas();
  });

  async function expectDelivered(result: SendResult, data: Buffer, expected: Record<string, unknown>): Promise<ReceivedMessage> {
    const received = await receivedBy((m) => m.id === result.waMessageId);
    expect(received.media).toMatchObject({ verified: true, sha256: sha256(data), size: data.length, ...expected });
    expect(sandbox.receivedMedia(CONTACT, received.id)?.equals(data)).toBe(true);
    return received;
  }

  it('sends an image from a URL with a caption that mentions the contact', async () => {
    const data = randomBytes(150_000);
    const result = await send({ type: 'image', url: serve('cat.jpg', data), mimetype: 'image/jpeg', caption: `look @${CONTACT}`, mentions: [contact.jid] });
    const received = await expectDelivered(result, data, { type: 'image', mimetype: 'image/jpeg', caption: `look @${CONTACT}`, mentions: [contact.jid] });
    expect(received.kind).toBe('image');
  });

  it('sends a video from base64 and a GIF-style video (gifPlayback) with its duration', async () => {
    const video = randomBytes(200_000);
    await expectDelivered(await send({ type: 'video', base64: video.toString('base64'), mimetype: 'video/mp4', caption: 'clip', seconds: 12 }), video, {
      type: 'video',
      caption: 'clip',
      seconds: 12,
    });
    const gif = randomBytes(40_000);
    const received = await expectDelivered(await send({ type: 'video', url: serve('loop.mp4', gif), mimetype: 'video/mp4', gifPlayback: true, seconds: 2 }), gif, {
      type: 'video',
      gifPlayback: true,
      seconds: 2,
    });
    expect(received.media?.caption).toBeUndefined();
  });

  it('sends audio, and a voice note with its duration and waveform', async () => {
    const audio = randomBytes(30_000);
    const plain = await expectDelivered(await send({ type: 'audio', base64: audio.toString('base64'), mimetype: 'audio/mpeg', seconds: 95 }), audio, {
      type: 'audio',
      mimetype: 'audio/mpeg',
      seconds: 95,
    });
    expect(plain.media?.ptt).toBeUndefined();
    const voice = randomBytes(12_000);
    const waveform = Buffer.from(Array.from({ length: 64 }, (_, i) => i % 100));
    await expectDelivered(
      await send({ type: 'audio', url: serve('note.ogg', voice), mimetype: 'audio/ogg; codecs=opus', voiceNote: true, seconds: 7, waveform: waveform.toString('base64') }),
      voice,
      { type: 'audio', ptt: true, seconds: 7, waveform: waveform.toString('base64'), mimetype: 'audio/ogg; codecs=opus' },
    );
  });

  it('sends a document with its file name and mimetype as a reply to what the contact wrote', async () => {
    const { id } = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'text', text: 'send me the report' });
    const deadline = Date.now() + HANG_MS;
    let sender: string | undefined;
    while (!sender) {
      const res = await client.call(`/sessions/${sessionId}/messages/${id}`);
      if (res.status === 200) sender = ((await res.json()) as { sender: string }).sender;
      else if (Date.now() > deadline) throw new Error(`message ${id} never reached the store`);
      else await new Promise((r) => setTimeout(r, 50));
    }
    const pdf = randomBytes(80_000);
    await expectDelivered(
      await send({ type: 'document', base64: pdf.toString('base64'), mimetype: 'application/pdf', fileName: 'report.pdf', caption: 'here it is', replyTo: { id, sender } }),
      pdf,
      { type: 'document', mimetype: 'application/pdf', fileName: 'report.pdf', caption: 'here it is', quotedId: id },
    );
  });

  it('sends a webp sticker', async () => {
    const webp = randomBytes(9_000);
    await expectDelivered(await send({ type: 'sticker', base64: webp.toString('base64'), mimetype: 'image/webp' }), webp, { type: 'sticker', mimetype: 'image/webp' });
  });

  it('keeps a media message queued through an outage of the media hosts and sends it after; a status answers 503', async () => {
    const data = randomBytes(40_000);
    const image = { type: 'image', base64: data.toString('base64'), mimetype: 'image/jpeg' };
    let accepted: { outboxId: string; waMessageId: string };
    sandbox.refuseMediaUploads(503);
    try {
      // A status is not queued: its caller hears at once that WhatsApp did not take the file.
      const status = await client.call(`/sessions/${sessionId}/statuses`, { method: 'POST', body: { ...image, contacts: [contact.jid] } });
      expect(status.status).toBe(503);
      expect(await status.json()).toMatchObject({ error: { code: 'service_unavailable', details: { reason: 'media_upload_failed' } } });
      // A message waits in the outbox and is tried again, its reason on record: not failed, not lost.
      const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', headers: { prefer: 'respond-async' }, body: { chat: contact.jid, ...image } });
      expect(res.status).toBe(202);
      accepted = (await res.json()) as typeof accepted;
      const deadline = Date.now() + HANG_MS;
      for (;;) {
        const entry = await client.json<{ status: string; error: string | null; attempts: number }>(`/sessions/${sessionId}/outbox/${accepted.outboxId}`);
        expect(entry.status).not.toBe('failed');
        if (entry.error?.startsWith('media_upload_failed:')) break;
        if (Date.now() > deadline) throw new Error(`the entry never recorded the failed upload: ${JSON.stringify(entry)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(sandbox.mediaRefusals().filter((r) => r.reason === 'outage').length).toBeGreaterThanOrEqual(2);
    } finally {
      sandbox.refuseMediaUploads(undefined);
    }
    await expectDelivered({ status: 'sent', waMessageId: accepted.waMessageId }, data, { type: 'image' });
    expect(sandbox.received(CONTACT).filter((m) => m.id === accepted.waMessageId)).toHaveLength(1);
  });

  it('streams a 64 MB video from a URL through the runner without holding it in memory', async () => {
    const big = randomBytes(BIG);
    const before = memoryOf(runner.child.pid as number);
    const result = await send({ type: 'video', url: serve('big.mp4', big), mimetype: 'video/mp4', seconds: 600 });
    const after = memoryOf(runner.child.pid as number);
    await expectDelivered(result, big, { type: 'video', seconds: 600 });
    const growth = after.peak - before.peak;
    process.stdout.write(`runner RSS on a 64 MB video send: before ${(before.rss / 2 ** 20).toFixed(0)} MB (peak ${(before.peak / 2 ** 20).toFixed(0)} MB), after ${(after.rss / 2 ** 20).toFixed(0)} MB (peak ${(after.peak / 2 ** 20).toFixed(0)} MB), peak growth ${(growth / 2 ** 20).toFixed(1)} MB\n`);
    // Buffered per hop (bytes, then a base64 string, then bytes again) the runner held more than two
    // whole copies at once; streamed from disk it stays under one (measured 34-40 MB: chunks awaiting GC).
    expect(growth).toBeLessThan(BIG);
  });
});
