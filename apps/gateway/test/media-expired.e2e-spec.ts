import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaSandbox, type PhoneInfo } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { ApiClient } from './session-fixture';
import { HANG_MS } from './deadlines';

/**
 * Media downloaded on first request (MEDIA_DOWNLOAD=request), and media WhatsApp no longer has:
 * the runner asks the account's phone to upload the file again (the mediaretry receipt and
 * notification, answered by the sandbox phone as WhatsApp's phone app does), then downloads it
 * from the new direct path.
 */
describe('media on request and after expiry (re-upload by the phone)', () => {
  const ORG = 'org-media-expired';
  const OWNER = '4917500000001';
  const CONTACT = '4917500000002';
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let owner: PhoneInfo;
  let sessionId: string;
  let mediaDir: string;

  const blobCount = () => (existsSync(join(mediaDir, 'blobs')) ? readdirSync(join(mediaDir, 'blobs')).length : 0);

  async function stored(mid: string): Promise<void> {
    const deadline = Date.now() + HANG_MS;
    while ((await client.call(`/sessions/${sessionId}/messages/${mid}`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`message ${mid} never reached the store`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    owner = await sandbox.createPhone(OWNER, 'Owner');
    await sandbox.createPhone(CONTACT, 'Contact');
    mediaDir = mkdtempSync(join(tmpdir(), 'media-expired-'));
    const transport = await transportEnv();
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox, { MEDIA_DIR: mediaDir, MEDIA_DOWNLOAD: 'request' }));
    gw = await startGateway(transport, { ...idp.env });
    client = new ApiClient(() => gw.url, idp, ORG);
    sessionId = (await client.linkSession(sandbox, OWNER, 'media expiry')).id;
  });

  afterAll(async () => {
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
    if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
  });

  it('downloads nothing on arrival, then fetches the file on the first request', async () => {
    const data = randomBytes(30_000);
    const { id } = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'video', data: data.toString('base64'), mimetype: 'video/mp4' });
    await stored(id);
    expect(blobCount()).toBe(0);
    const res = await client.call(`/sessions/${sessionId}/messages/${id}/media`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    expect(blobCount()).toBe(1);
  });

  it("has the phone upload an expired file again and serves it from the new direct path", async () => {
    const data = randomBytes(70_000);
    const { id } = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'document', data: data.toString('base64'), mimetype: 'application/pdf', fileName: 'old.pdf' });
    await stored(id);
    // The owner's phone received the file too; it is what WhatsApp asks to upload again.
    await sandbox.waitForReceived(OWNER, (m) => m.id === id && m.media?.verified === true);
    expect(sandbox.expireMedia().expired).toBeGreaterThan(0);
    const res = await client.call(`/sessions/${sessionId}/messages/${id}/media`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('filename="old.pdf"');
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    expect(sandbox.listMediaRetries().map((r) => r.id)).toContain(id);
  });
});
