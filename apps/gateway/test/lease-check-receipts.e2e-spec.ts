import Database from 'better-sqlite3';
import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { sandboxRunnerEnv, scaleOut, schemaClient, startGateway, startRunner, testDatabaseUrl, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { eventually, teardown, UNPACED_GATEWAY } from './lease-fixture';
import { ApiClient } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

/**
 * A runner whose lease renewals are late (a loaded machine: event-loop stalls, a slow database)
 * finds, by its own clock, that the lease may have run out, and checks it against the database
 * before it writes anything of the session. What WhatsApp delivers meanwhile waits for that check
 * instead of being refused: a refused receipt is not acknowledged, and WhatsApp delivers it again
 * only at the next login, which a runner that still holds its lease never makes. Twice, in CI runs
 * on a loaded machine, a group member's receipt went unreported that way. Here the renewals are
 * held up by a lock on the lease (PostgreSQL: its row; SQLite: the database's write lock).
 */
describe('what arrives while a stalled runner checks its lease', () => {
  const ORG = 'org-lease-check';
  const OWNER = '15557040001';
  const CONTACT = '15557040002';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  /** Short, so that a pause of the runner outlasts it. */
  const LEASE_TTL_MS = 3_000;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let receiver: WebhookReceiver;
  let sessionId: string;
  let runnerDb: string;

  /** Keeps the runner from renewing its lease until `release`. */
  async function holdLeaseRenewals(): Promise<() => Promise<void>> {
    if (scaleOut) {
      const { pg, schema } = await schemaClient(runnerDb);
      await pg.query('BEGIN');
      await pg.query(`SELECT 1 FROM "${schema}".session_leases WHERE session_id = $1 FOR UPDATE`, [sessionId]);
      return async () => {
        await pg.query('ROLLBACK');
        await pg.end();
      };
    }
    const db = new Database(runnerDb.slice('sqlite:'.length));
    db.exec('BEGIN EXCLUSIVE');
    return async () => {
      db.exec('ROLLBACK');
      db.close();
    };
  }

  /**
   * Makes the runner's database refuse what it writes for a message or a receipt (both write an
   * event of the session), as a failover or a lost connection would, until `release`: a trigger
   * that raises on every insert into the runner's event table.
   */
  async function refuseEventWrites(): Promise<() => Promise<void>> {
    if (scaleOut) {
      const { pg, schema } = await schemaClient(runnerDb);
      await pg.query(`CREATE OR REPLACE FUNCTION "${schema}".refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected: the database refuses writes'; END $$`);
      await pg.query(`CREATE TRIGGER refuse_writes BEFORE INSERT ON "${schema}".runner_events FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse_writes()`);
      return async () => {
        await pg.query(`DROP TRIGGER refuse_writes ON "${schema}".runner_events`);
        await pg.end();
      };
    }
    const db = new Database(runnerDb.slice('sqlite:'.length));
    db.pragma('busy_timeout = 10000');
    db.exec("CREATE TRIGGER refuse_writes BEFORE INSERT ON runner_events BEGIN SELECT RAISE(ABORT, 'injected: the database refuses writes'); END");
    return async () => {
      db.exec('DROP TRIGGER refuse_writes');
      db.close();
    };
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(CONTACT);
    const transport = await transportEnv();
    runnerDb = testDatabaseUrl('runner');
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox, { DATABASE_URL: runnerDb, LEASE_TTL_MS: String(LEASE_TTL_MS) }));
    gw = await startGateway(transport, { ...idp.env, ...UNPACED_GATEWAY, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    client = new ApiClient(() => gw.url, idp, ORG);
    receiver = await WebhookReceiver.start();
    const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: receiver.url, events: ['message.status', 'message.received'] } });
    receiver.secrets = [hook.secret];
    sessionId = (await client.linkSession(sandbox, OWNER)).id;
  });

  const reported = (type: string, test: (data: Record<string, unknown>) => boolean) => receiver.received.some((r) => r.body.type === type && test(r.body.data));
  const logins = () => sandbox.listDevices().find((d) => d.phone === OWNER)?.logins;
  /** A sync send to the contact; its WhatsApp id, once its delivery receipt was reported. */
  const sendDelivered = async (text: string): Promise<string> => {
    const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: pn(CONTACT), type: 'text', text } });
    expect(res.status).toBe(200);
    const { waMessageId } = (await res.json()) as { waMessageId: string };
    await eventually('the delivery receipt to be reported', () => reported('message.status', (d) => d.messageId === waMessageId && d.status === 'delivered'));
    return waMessageId;
  };

  afterAll(async () => {
    await teardown(() => runner?.stop(), () => gw?.close(), () => receiver?.close(), () => sandbox?.stop(), () => idp?.close());
  });

  it('stores, reports and acknowledges a receipt and a message that came while its lease renewals were held up, on the same connection', async () => {
    const sent = await sendDelivered('read me later');
    const loginsBefore = logins();
    let inbound = '';

    const release = await holdLeaseRenewals();
    try {
      // Past the lease's lifetime with no renewal: the runner's clock says it may be gone.
      await new Promise((r) => setTimeout(r, LEASE_TTL_MS + 500));
      await sandbox.sendReceipt(CONTACT, pn(OWNER), [sent], 'read');
      const { id } = await sandbox.sendMessage(CONTACT, pn(OWNER), { type: 'text', text: 'sent while the lease was in doubt' });
      inbound = id;
      // Both reach the runner while its check waits (SQLite's writer gives up after its 5 s busy
      // timeout and the next round tries again: the runner's event loop is blocked meanwhile).
      await new Promise((r) => setTimeout(r, scaleOut ? 1_500 : 7_000));
    } finally {
      await release();
    }
    await eventually('the read receipt to be reported', () => reported('message.status', (d) => d.messageId === sent && d.status === 'read'), 60_000);
    await eventually('the message to be reported', () => reported('message.received', (d) => d.messageId === inbound), 60_000);
    // Stored, hence acknowledged: nothing waits for a next login.
    await eventually('WhatsApp to have the acks', () => sandbox.unacknowledged(OWNER).every((p) => p.id !== sent && p.id !== inbound), 60_000).catch((err: unknown) => {
      const said = runner.output().split('\n').filter((l) => /receipt|lease|status/i.test(l));
      throw new Error(`${err instanceof Error ? err.message : String(err)}; still unacknowledged: ${JSON.stringify(sandbox.unacknowledged(OWNER))}; the runner's related lines:\n${said.slice(-20).join('\n')}`);
    });
    // The same connection: the lease held, so nothing was fenced or logged in again.
    expect(logins()).toBe(loginsBefore);
    expect(runner.output()).not.toContain('receipt not stored');
    expect(runner.output()).not.toContain('lost the lease');
  });

  it('stores, reports and acknowledges a receipt and a message that the database first refused, on the same connection', async () => {
    const sent = await sendDelivered('read me once the database is back');
    const loginsBefore = logins();
    const refusedBefore = runner.output().split('not stored').length;
    let inbound = '';

    const release = await refuseEventWrites();
    try {
      await sandbox.sendReceipt(CONTACT, pn(OWNER), [sent], 'read');
      const { id } = await sandbox.sendMessage(CONTACT, pn(OWNER), { type: 'text', text: 'sent while the database refused writes' });
      inbound = id;
      // Refused, and held meanwhile: not reported, not acknowledged.
      await eventually('the runner to be refused', () => runner.output().split('not stored').length > refusedBefore, 30_000);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(reported('message.received', (d) => d.messageId === inbound)).toBe(false);
      expect(sandbox.unacknowledged(OWNER).map((p) => p.id)).toEqual(expect.arrayContaining([sent, inbound]));
    } finally {
      await release();
    }
    await eventually('the read receipt to be reported', () => reported('message.status', (d) => d.messageId === sent && d.status === 'read'), 60_000);
    await eventually('the message to be reported', () => reported('message.received', (d) => d.messageId === inbound), 60_000);
    await eventually('WhatsApp to have the acks', () => sandbox.unacknowledged(OWNER).every((p) => p.id !== sent && p.id !== inbound), 60_000);
    // Without a new login: the runner tried again on the same connection.
    expect(logins()).toBe(loginsBefore);
    expect(receiver.received.filter((r) => r.body.type === 'message.received' && r.body.data.messageId === inbound)).toHaveLength(1);
    expect(receiver.received.filter((r) => r.body.type === 'message.status' && r.body.data.messageId === sent && r.body.data.status === 'read')).toHaveLength(1);
  });

  /**
   * The decryption of a message uses up its Signal keys. Committed before the message was stored,
   * the copy WhatsApp delivers again at the next login no longer decrypted ("Key used already"),
   * was acknowledged with a nack and never reported: the keys are now committed with the store.
   */
  it('reports a message the database refused past every attempt once, after the next login', async () => {
    const gaveUpBefore = runner.output().split('will deliver it again at the next login').length;
    const loginsBefore = logins() ?? 0;
    let inbound = '';
    const release = await refuseEventWrites();
    try {
      inbound = (await sandbox.sendMessage(CONTACT, pn(OWNER), { type: 'text', text: 'refused until the runner gave up' })).id;
      // Seven attempts over about 31 s, then the runner gives up and holds the ack back.
      await eventually('the runner to give up', () => runner.output().split('will deliver it again at the next login').length > gaveUpBefore, 60_000);
      expect(reported('message.received', (d) => d.messageId === inbound)).toBe(false);
      expect(sandbox.unacknowledged(OWNER).map((p) => p.id)).toContain(inbound);
    } finally {
      await release();
    }
    // The next login: WhatsApp delivers what was never acknowledged again.
    const device = sandbox.listDevices().find((d) => d.phone === OWNER && d.connected);
    if (!device) throw new Error('the owner has no connected device');
    await sandbox.fault(device.jid, 'connection_closed');
    await eventually('a new login', () => (logins() ?? 0) > loginsBefore, 60_000);
    await eventually('the message to be reported', () => reported('message.received', (d) => d.messageId === inbound), 60_000).catch((err: unknown) => {
      const said = runner.output().split('\n').filter((l) => /decrypt|retry|not stored|counter/i.test(l));
      throw new Error(`${err instanceof Error ? err.message : String(err)}; the runner's related lines:\n${said.slice(-20).join('\n')}`);
    });
    await eventually('WhatsApp to have the ack', () => sandbox.unacknowledged(OWNER).every((p) => p.id !== inbound), 60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.received.filter((r) => r.body.type === 'message.received' && r.body.data.messageId === inbound)).toHaveLength(1);
  });
});
