import { RPC, type SessionStateResult } from '@wa/contracts';
import { newId } from '@wa/domain';
import { WaSandbox } from '@wa/wa-sandbox';
import { eventually, linkSession, startRunner, type RunnerUnderTest } from './support/runner-under-test';

const ORG = 'org_server_auth';
const OWNER = '15550020001';

describe('session-runner against a server impersonating WhatsApp', () => {
  let sandbox: WaSandbox;
  let runner: RunnerUnderTest;
  let linkedId: string;

  const state = (sessionId: string) => runner.call<SessionStateResult>(RPC.sessionState, { orgId: ORG, sessionId });
  const failed = (sessionId: string) =>
    eventually(async () => {
      const s = await state(sessionId);
      return s.status === 'failed' ? s : undefined;
    }, `session ${sessionId} to fail`);

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(OWNER, 'Owner');
    runner = await startRunner(sandbox, 'runner_server_auth');
    linkedId = await linkSession(runner, sandbox, ORG, OWNER);
    await runner.call(RPC.sessionStop, { orgId: ORG, sessionId: linkedId });
    sandbox.setServerIdentity('replayed_chain');
  });

  afterAll(async () => {
    await runner?.close();
    await sandbox?.stop();
  });

  it('fails a new session as server_untrusted without ever offering a QR', async () => {
    const sessionId = newId();
    await runner.call(RPC.sessionStart, { orgId: ORG, sessionId });

    await expect(failed(sessionId)).resolves.toEqual({ sessionId, status: 'failed', reason: 'server_untrusted', linked: false, at: expect.any(Number) });
    await expect(runner.call(RPC.sessionQr, { orgId: ORG, sessionId })).rejects.toMatchObject({ code: 'not_found' });
    expect(sandbox.listHandshakes().filter((h) => h.serverIdentity === 'replayed_chain').map((h) => h.clientFinish)).not.toContain('registration');
  });

  it('fails a linked session as server_untrusted and keeps it linked', async () => {
    await runner.call(RPC.sessionStart, { orgId: ORG, sessionId: linkedId });

    await expect(failed(linkedId)).resolves.toMatchObject({ status: 'failed', reason: 'server_untrusted', linked: true });
    expect(sandbox.listHandshakes().at(-1)).toMatchObject({ serverIdentity: 'replayed_chain', clientFinish: 'none' });
  });
});
