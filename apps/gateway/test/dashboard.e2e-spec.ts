import { WaSandbox } from '@wa/wa-sandbox';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, scaleOut, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { WebhookReceiver } from './webhook-receiver';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT_DIR = join(__dirname, '..', 'test-output');
const ORG = 'org-dashboard';
const OWNER = '4917200000001';
const CONTACT = '4917200000002';
// A deadline for a step that hangs, not a measure: on a loaded 2-core CI run the QR took over
// 20 s to show. The test's own deadline (300 s, from the preset) still ends a hang.
const STEP_MS = 90_000;

/**
 * The dashboard in Debian's Chromium (driven by playwright-core) against the real stack: the
 * gateway in-process, the runner process with the real Baileys socket, the WhatsApp sandbox
 * with virtual phones. Everything the test does on the page a user could do with a keyboard.
 */
describe('dashboard (Chromium against gateway + runner + sandbox)', () => {
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let receiver: WebhookReceiver;
  let context: BrowserContext;
  let page: Page;
  let apiKey: string;
  const profileDir = mkdtempSync(join(tmpdir(), 'wa-dashboard-chromium-'));
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await WaSandbox.create();
    await sandbox.start();
    await sandbox.createPhone(OWNER, 'Owner');
    await sandbox.createPhone(CONTACT, 'Contact');
    receiver = await WebhookReceiver.start();
    const transport = await transportEnv();
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox));
    gw = await startGateway(transport, { ...idp.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0', OUTBOX_POLL_INTERVAL_MS: '100' });
    const created = await fetch(`${gw.url}/api/v1/api-keys`, {
      method: 'POST',
      headers: idp.headers(ORG, 'owner'),
      body: JSON.stringify({ name: 'dashboard test', capabilities: ['send', 'manage'] }),
    });
    expect(created.status).toBe(201);
    apiKey = ((await created.json()) as { token: string }).token;

    // A persistent context is how playwright takes a user data dir: a fresh one per run.
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1100, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (msg) => {
      if (/Content.Security.Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profileDir, { recursive: true, force: true });
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await receiver?.close();
    await idp?.close();
    await dropTestSchemas();
  });

  it('serves its files without a token, under a strict CSP, and stays out of the API document', async () => {
    const index = await fetch(`${gw.url}/dashboard`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    const script = await fetch(`${gw.url}/dashboard/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const missing = await fetch(`${gw.url}/dashboard/..%2Fpackage.json`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const doc = (await (await fetch(`${gw.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes('dashboard'))).toEqual([]);
  });

  it('signs in, links a session by QR, sends a message and shows webhook deliveries, all from the page', async () => {
    await page.goto(`${gw.url}/dashboard`);

    await page.getByLabel('API key').fill('wag_not_a_real_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'unauthorized' }).waitFor({ timeout: STEP_MS });

    await page.getByLabel('API key').fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Live updates: live').waitFor({ timeout: STEP_MS });

    await page.getByLabel('New session name').fill('front desk');
    await page.getByRole('button', { name: 'Create session' }).click();
    const card = page.locator('#session-list li', { hasText: 'front desk' });
    await card.waitFor({ timeout: STEP_MS });
    const sessionId = await card.getAttribute('data-session-id');
    expect(sessionId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);

    await card.getByRole('button', { name: 'Start front desk' }).click();
    // The QR is the PNG from the API shown through an object URL, with its raw string beside it.
    const qrImage = page.locator('#qr:not([hidden]) img[src^="blob:"]');
    await qrImage.waitFor({ timeout: STEP_MS });
    // Page-side code as strings: the test's TypeScript has Node's globals, not the DOM's.
    await page.waitForFunction("document.querySelector('#qr-image').naturalWidth > 0", undefined, { timeout: STEP_MS });
    const qr = await page.locator('#qr').getAttribute('data-qr');
    expect(qr).toBeTruthy();

    await sandbox.scanQr(OWNER, qr ?? '');
    await page.locator('#session-status[data-status="connected"]').waitFor({ timeout: STEP_MS });
    await expect(page.locator('#qr').isHidden()).resolves.toBe(true);
    await expect(card.locator('.status').textContent()).resolves.toBe('connected');
    await page.locator('#event-list li[data-event-type="session.status"]', { hasText: 'connected' }).first().waitFor({ timeout: STEP_MS });

    await page.getByLabel('To (phone number or JID)').fill(CONTACT);
    await page.getByLabel('Text').fill('hello from the dashboard');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const result = page.locator('#send-result[data-message-id]');
    await result.waitFor({ timeout: STEP_MS });
    const messageId = await result.getAttribute('data-message-id');
    await expect(sandbox.waitForReceived(CONTACT, (m) => m.id === messageId, STEP_MS)).resolves.toMatchObject({ text: 'hello from the dashboard' });

    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByLabel('Events (comma separated, * for all)').fill('message.status');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secret = await page.locator('#webhook-secret', { hasText: 'whsec_' }).textContent({ timeout: STEP_MS });
    receiver.secrets.push(/whsec_\S+/.exec(secret ?? '')?.[0] ?? '');
    await page.getByRole('button', { name: `Send a test ping to ${receiver.url}` }).click();
    await receiver.waitFor(() => receiver.received.some((r) => r.body.type === 'webhook.ping'), STEP_MS);
    await page.getByRole('button', { name: `Delivery log of ${receiver.url}` }).click();
    const row = page.locator('#delivery-rows tr', { hasText: 'webhook.ping' });
    await row.filter({ hasText: 'delivered' }).waitFor({ timeout: STEP_MS });
    await row.getByRole('button', { name: /^Replay webhook\.ping/ }).click();
    await receiver.waitFor(() => receiver.received.filter((r) => r.body.type === 'webhook.ping').length === 2, STEP_MS);

    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.locator('#sessions').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUTPUT_DIR, `dashboard-${scaleOut ? 'postgres-nats' : 'sqlite-tcp'}.png`), fullPage: true });

    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('fits a narrow screen and forgets the key on sign-out', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    await expect(page.evaluate<number>('sessionStorage.length')).resolves.toBe(0);
    await page.reload();
    await expect(page.locator('#signed-in').isHidden()).resolves.toBe(true);
  });
});
