import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { WaSandbox, type OutgoingMediaMessage, type PhoneInfo } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, scaleOut, schemaClient, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
import { eventually } from './lease-fixture';
import { ApiClient } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';
import { HANG_MS } from './deadlines';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Incoming media end to end: a virtual phone encrypts and uploads each media type to the
 * sandbox's media server and sends the message; the runner (real Baileys) downloads it on
 * arrival from WA_MEDIA_BASE_URL, verifies and decrypts it into its blob store, and the gateway
 * streams it from the runner in chunks over the transport, with Range support. In the scale-out
 * configuration the blob store is PostgreSQL large objects (MEDIA_STORE=postgres), the store
 * every runner shares.
 */
describe('incoming media (sandbox phone -> runner blob store -> gateway media route)', () => {
  const ORG = 'org-media-receive';
  const OTHER_ORG = 'org-media-receive-other';
  const OWNER = '4917400000001';
  const CONTACT = '4917400000002';
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let owner: PhoneInfo;
  let sessionId: string;
  let mediaDir: string;
  let runnerDb: Client | undefined;
  let hooks: WebhookReceiver;
  let transport: TransportEnv;
  let runnerEnv: Record<string, string>;

  /** Files in the runner's blob store: the directory, or the large-object index in PostgreSQL. */
  async function blobCount(): Promise<number> {
    if (runnerDb) return Number((await runnerDb.query<{ n: string }>('SELECT count(*) AS n FROM wa_media_blobs')).rows[0]?.n ?? 0);
    return existsSync(join(mediaDir, 'blobs')) ? readdirSync(join(mediaDir, 'blobs')).length : 0;
  }

  const mediaPath = (mid: string) => `/sessions/${sessionId}/messages/${mid}/media`;

  /** The route once the message is in the runner's store (404 until then). */
  async function fetchMedia(mid: string, headers: Record<string, string> = {}): Promise<Response> {
    const deadline = Date.now() + HANG_MS;
    for (;;) {
      const res = await client.call(mediaPath(mid), { headers });
      if (res.status !== 404 || Date.now() > deadline) return res;
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function sendFromContact(message: Omit<OutgoingMediaMessage, 'data'>, data: Buffer): Promise<string> {
    return (await sandbox.sendMessage(CONTACT, owner.jid, { ...message, data: data.toString('base64') } as OutgoingMediaMessage)).id;
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    owner = await sandbox.createPhone(OWNER, 'Owner');
    await sandbox.createPhone(CONTACT, 'Contact');
    mediaDir = mkdtempSync(join(tmpdir(), 'media-receive-'));
    transport = await transportEnv();
    runnerEnv = sandboxRunnerEnv(sandbox, { MEDIA_DIR: mediaDir, MEDIA_STORE: scaleOut ? 'postgres' : 'fs' });
    runner = await startRunner(transport, runnerEnv);
    if (scaleOut) {
      runnerDb = (await schemaClient(runnerEnv.DATABASE_URL)).pg;
    }
    gw = await startGateway(transport, { ...idp.env, SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    client = new ApiClient(() => gw.url, idp, ORG);
    hooks = await WebhookReceiver.start();
    hooks.secrets = [(await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: hooks.url, events: ['message.received'] } })).secret];
    sessionId = (await client.linkSession(sandbox, OWNER, 'media receiver')).id;
  });

  afterAll(async () => {
    await hooks?.close();
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    // Large objects belong to the database, not the schema dropped below.
    await runnerDb?.query('SELECT lo_unlink(oid) FROM wa_media_blobs');
    await runnerDb?.end();
    await idp?.close();
    await dropTestSchemas();
    if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
  });

  it.each([
    ['image', { type: 'image', mimetype: 'image/jpeg', caption: 'a photo' }, 'inline; filename="MID.jpg"'],
    ['video', { type: 'video', mimetype: 'video/mp4', seconds: 4 }, 'inline; filename="MID.mp4"'],
    ['audio', { type: 'audio', mimetype: 'audio/mpeg', seconds: 30 }, 'inline; filename="MID.mp3"'],
    ['voice note', { type: 'audio', mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds: 3, waveform: Buffer.alloc(64, 5).toString('base64') }, 'inline; filename="MID.ogg"'],
    ['document', { type: 'document', mimetype: 'application/pdf', fileName: 'Rechnung März.pdf', caption: 'invoice' }, `attachment; filename="Rechnung M_rz.pdf"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf`],
    ['sticker', { type: 'sticker', mimetype: 'image/webp' }, 'inline; filename="MID.webp"'],
  ] as const)('a %s sent by a contact downloads through the route, byte for byte', async (_name, message, disposition) => {
    const data = randomBytes(50_000 + Math.floor(Math.random() * 1000));
    const mid = await sendFromContact(message as Omit<OutgoingMediaMessage, 'data'>, data);
    const res = await fetchMedia(mid);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(message.mimetype);
    expect(res.headers.get('content-length')).toBe(String(data.length));
    expect(res.headers.get('content-disposition')).toContain(disposition.replace('MID', mid));
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));
    const stored = await client.json<{ type: string; content: Record<string, unknown> }>(`/sessions/${sessionId}/messages/${mid}`);
    expect(stored).toMatchObject({ type: message.type, content: { mediaUrl: `/api/v1${mediaPath(mid)}`, mimetype: message.mimetype } });
    const event = () => hooks.received.map((r) => r.body).find((b) => b.type === 'message.received' && b.data.messageId === mid);
    await hooks.waitFor(() => !!event(), HANG_MS);
    expect(event()?.data).toMatchObject({ type: message.type, content: { mediaUrl: `/api/v1${mediaPath(mid)}` } });
  });

  it('serves byte ranges (206) and refuses one past the end (416 in the envelope); a file larger than one transport chunk arrives whole', async () => {
    const data = randomBytes(1_300_000);
    const mid = await sendFromContact({ type: 'document', mimetype: 'application/zip', fileName: 'big.zip' }, data);
    const whole = await fetchMedia(mid);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(data)).toBe(true);

    const middle = await client.call(mediaPath(mid), { headers: { range: 'bytes=524000-600000' } });
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe(`bytes 524000-600000/${data.length}`);
    expect(Buffer.from(await middle.arrayBuffer()).equals(data.subarray(524_000, 600_001))).toBe(true);

    const suffix = await client.call(mediaPath(mid), { headers: { range: 'bytes=-100' } });
    expect(suffix.status).toBe(206);
    expect(Buffer.from(await suffix.arrayBuffer()).equals(data.subarray(data.length - 100))).toBe(true);

    const beyond = await client.call(mediaPath(mid), { headers: { range: `bytes=${data.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${data.length}`);
    await expect(beyond.json()).resolves.toMatchObject({ error: { code: 'range_not_satisfiable', details: { size: data.length } } });
  });

  it('stores each file on arrival, before anyone asks for it', async () => {
    const data = randomBytes(20_000);
    const before = await blobCount();
    const mid = await sendFromContact({ type: 'image', mimetype: 'image/png' }, data);
    const deadline = Date.now() + HANG_MS;
    while ((await blobCount()) === before) {
      if (Date.now() > deadline) throw new Error('the runner stored no file on arrival');
      await new Promise((r) => setTimeout(r, 50));
    }
    const retriesBefore = sandbox.listMediaRetries().length;
    sandbox.expireMedia();
    const res = await fetchMedia(mid);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    // Served from the store: nobody had to ask the phone for the expired file.
    expect(sandbox.listMediaRetries()).toHaveLength(retriesBefore);
  });

  it('answers 404 in the envelope for an unknown message, a message without media and another organization', async () => {
    const unknown = await client.call(mediaPath('3EB0000000000000DEAD'));
    expect(unknown.status).toBe(404);
    await expect(unknown.json()).resolves.toMatchObject({ error: { code: 'not_found' } });

    const { id: textId } = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'text', text: 'no file here' });
    // Polling the media route would wait out the hang deadline (a text has no media to wait for):
    // the message is waited for, then its media asked for once.
    await eventually('the text stored', async () => (await client.call(`/sessions/${sessionId}/messages/${textId}`)).status === 200);
    const text = await client.call(mediaPath(textId));
    expect(text.status).toBe(404);
    await expect(text.json()).resolves.toMatchObject({ error: { code: 'not_found', message: 'the message has no media' } });

    const mid = await sendFromContact({ type: 'image', mimetype: 'image/jpeg' }, randomBytes(1000));
    expect((await fetchMedia(mid)).status).toBe(200);
    const foreign = await client.call(mediaPath(mid), { org: OTHER_ORG });
    const missing = await client.call(`/sessions/01HZX3K9Q2T4W6Y8A0C2E4G6J8/messages/${mid}/media`, { org: OTHER_ORG });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual(await missing.json());
  });
  it('deletes stored files older than MEDIA_RETENTION_DAYS and keeps the younger ones', async () => {
    for (let i = 0; i < 2; i++) expect((await fetchMedia(await sendFromContact({ type: 'image', mimetype: 'image/jpeg' }, randomBytes(2000)))).status).toBe(200);
    expect(await blobCount()).toBeGreaterThan(1);
    await runner.stop();
    // One stored file is made three days old: its mtime (filesystem) or its row (PostgreSQL).
    const threeDaysAgo = Date.now() - 3 * 24 * 3600_000;
    let aged: string;
    if (runnerDb) {
      const row = await runnerDb.query<{ oid: string }>('UPDATE wa_media_blobs SET created_at = $1 WHERE oid = (SELECT min(oid) FROM wa_media_blobs) RETURNING oid', [threeDaysAgo]);
      aged = row.rows[0]!.oid;
    } else {
      aged = readdirSync(join(mediaDir, 'blobs')).sort()[0]!;
      utimesSync(join(mediaDir, 'blobs', aged), threeDaysAgo / 1000, threeDaysAgo / 1000);
    }
    const before = await blobCount();
    const stillThere = async () =>
      runnerDb ? ((await runnerDb.query('SELECT 1 FROM wa_media_blobs WHERE oid = $1', [aged])).rowCount ?? 0) > 0 : existsSync(join(mediaDir, 'blobs', aged));
    // The sweep runs when the runner starts, then hourly.
    runner = await startRunner(transport, { ...runnerEnv, MEDIA_RETENTION_DAYS: '2' });
    // The runner logs the sweep after the deletion, asynchronously: both are waited for.
    const swept = () => /expired stored media removed[^\n]*"removed":1/.test(runner.output());
    const deadline = Date.now() + HANG_MS;
    while (((await stillThere()) || !swept()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect({ stillThere: await stillThere(), swept: swept(), failures: runner.output().split('\n').filter((l) => l.includes('media retention sweep failed')) }).toEqual({
      stillThere: false,
      swept: true,
      failures: [],
    });
    expect(await blobCount()).toBe(before - 1);
    // The file itself, not only its index row: a large object that stays is storage never freed.
    if (runnerDb) expect((await runnerDb.query('SELECT 1 FROM pg_largeobject_metadata WHERE oid = $1', [aged])).rowCount).toBe(0);
  });
});
