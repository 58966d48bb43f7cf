import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, transportEnv, type GatewayHandle } from './harness';
import { ApiClient } from './session-fixture';

/**
 * Media URLs are judged by the media settings (MEDIA_ALLOW_PRIVATE_NETWORKS, MEDIA_ALLOWED_CIDRS,
 * the ones the runner downloads under), webhook URLs by the webhook settings; neither leaks into
 * the other. The send is queued (`Prefer: respond-async`), so no runner is needed to see the
 * decision: a refused URL is a 400 before anything enters the outbox.
 */
describe('media URL address rules', () => {
  const ORG = 'org-media-rules';
  const LOCAL_MEDIA = 'http://127.0.0.1:9/cat.png';
  let idp: TestIdentityProvider;
  const gateways: GatewayHandle[] = [];

  async function gatewayWith(env: Record<string, string>): Promise<ApiClient> {
    const gw = await startGateway(await transportEnv(), { ...idp.env, OUTBOX_DISPATCHER: 'false', WEBHOOK_WORKER: 'false', ...env });
    gateways.push(gw);
    return new ApiClient(() => gw.url, idp, ORG);
  }

  async function sendMedia(client: ApiClient, url: string): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
    const session = await client.json<{ id: string }>('/sessions', { method: 'POST', body: { name: 'media' } });
    const res = await client.call(`/sessions/${session.id}/messages`, {
      method: 'POST',
      headers: { prefer: 'respond-async' },
      body: { chat: '4917400000001@s.whatsapp.net', type: 'image', url, mimetype: 'image/png' },
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
  });

  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await idp?.close();
    await dropTestSchemas();
  });

  it('refuses a loopback media URL when only webhooks may reach private networks', async () => {
    const client = await gatewayWith({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' });
    const answer = await sendMedia(client, LOCAL_MEDIA);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_error', message: expect.stringContaining('127.0.0.1') });
  });

  it('accepts a loopback media URL when media may reach private networks, while webhooks still may not', async () => {
    const client = await gatewayWith({ MEDIA_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    await expect(sendMedia(client, LOCAL_MEDIA)).resolves.toMatchObject({ status: 202 });
    const hook = await client.call('/webhooks', { method: 'POST', body: { url: 'http://127.0.0.1:9/hook', events: ['*'] } });
    expect(hook.status).toBe(400);
    await expect(hook.json()).resolves.toMatchObject({ error: { code: 'validation_error' } });
  });

  it('accepts a media URL in MEDIA_ALLOWED_CIDRS and still refuses other private ones', async () => {
    const client = await gatewayWith({ MEDIA_ALLOWED_CIDRS: '127.0.0.0/8' });
    await expect(sendMedia(client, LOCAL_MEDIA)).resolves.toMatchObject({ status: 202 });
    await expect(sendMedia(client, 'http://10.1.2.3/cat.png')).resolves.toMatchObject({ status: 400, body: { error: { code: 'validation_error' } } });
  });
});
