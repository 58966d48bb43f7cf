import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { eventually, teardown, UNPACED_GATEWAY } from './lease-fixture';
import { ApiClient } from './session-fixture';
import { HANG_MS } from './deadlines';

/**
 * Stop and start, again and again, with messages both ways in between: the encryption sessions
 * the runner stores must stay in step with the contacts' phones, or messages are lost in silence
 * (the sandbox's phones, like WhatsApp's, ask for a retry when they cannot decrypt). Found by the
 * soak. Two faults in the Signal layer made it fail (patched under patches/): libsignal stepped
 * the ratchet of every session it tried before the MAC check and stored the failed tries, and
 * Baileys' key-store transactions under different keys overwrote each other's copy of one
 * session. Each restart makes Baileys start fresh sessions to every contact it looks up, so both
 * sides hold several sessions and trial decryption happens in every round.
 */
describe('a session stopped and started many times', () => {
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let id: string;
  const CONTACTS = ['15557030001', '15557030002'];
  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    for (const c of CONTACTS) await sandbox.createPhone(c);
    const transport = await transportEnv();
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox));
    gw = await startGateway(transport, { ...idp.env, ...UNPACED_GATEWAY });
    client = new ApiClient(() => gw.url, idp, 'org-restarts');
    id = (await client.linkSession(sandbox, '15557030999')).id;
  });
  afterAll(() => teardown(() => runner?.stop(), () => gw?.close(), () => sandbox?.stop(), () => idp?.close()));
  it('sends and receives every message across eight stop/start cycles, without a decryption error', async () => {
    const me = '15557030999@s.whatsapp.net';
    const lost: string[] = [];
    for (let round = 0; round < 8; round++) {
      const ids: [string, string][] = [];
      const inbound: string[] = [];
      for (const c of CONTACTS) {
        for (let i = 0; i < 3; i++) {
          const res = await client.call(`/sessions/${id}/messages`, { method: 'POST', headers: { prefer: 'respond-async' }, body: { chat: `${c}@s.whatsapp.net`, type: 'text', text: `r${round} ${i}` } });
          ids.push([c, ((await res.json()) as { waMessageId: string }).waMessageId]);
        }
        inbound.push((await sandbox.sendMessage(c, me, { type: 'text', text: `from ${c} r${round}` })).id);
      }
      await eventually(`round ${round} sent`, () => ids.every(([c, mid]) => sandbox.received(c).some((m) => m.id === mid)), HANG_MS).catch(() => {
        lost.push(...ids.filter(([c, mid]) => !sandbox.received(c).some((m) => m.id === mid)).map(([c, mid]) => `to ${c} in round ${round}: ${mid}`));
      });
      await eventually(`round ${round} received`, async () => {
        for (const mid of inbound) if ((await client.call(`/sessions/${id}/messages/${mid}`)).status !== 200) return false;
        return true;
      }, HANG_MS).catch(() => lost.push(`inbound of round ${round}`));
      await client.call(`/sessions/${id}/stop`, { method: 'POST' });
      await client.call(`/sessions/${id}/start`, { method: 'POST' });
      await client.waitForStatus(id, ['connected']);
    }
    const out = runner.output();
    expect(lost).toEqual([]);
    expect(['MessageCounterError', 'Bad MAC', 'No matching sessions'].filter((e) => out.includes(e))).toEqual([]);
  }, 300_000);
});
