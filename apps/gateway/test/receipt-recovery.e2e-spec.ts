import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { sandboxRunnerEnv, scaleOut, schemaClient, startGateway, startRunner, testDatabaseUrl, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
import { eventually, teardown, UNPACED_GATEWAY } from './lease-fixture';
import { ApiClient } from './session-fixture';
import { HANG_MS } from './deadlines';
import { WebhookReceiver } from './webhook-receiver';

/**
 * What survives a runner killed while WhatsApp's word about a message was in its hands: a
 * receipt is acknowledged to WhatsApp only once its status is stored, so one the runner received
 * but had not stored comes again to the next owner; a group member's receipt the killed runner
 * had stored and reported, but whose ack never reached WhatsApp, comes again too and is not
 * reported twice; and a message whose send may or may not have left is decided on as soon as that
 * owner has processed the backlog WhatsApp redelivers at login (not after a fixed wait), without
 * a second copy.
 */
describe('receipts and resend decisions across a runner kill', () => {
  const ORG = 'org-receipts';
  const OWNER = '15557030001';
  const CONTACT = '15557030002';
  /** A second chat: entries of one chat are handed over one at a time. */
  const OTHER = '15557030003';
  /** Members, with the owner, of a group. */
  const MEMBER_A = '15557030004';
  const MEMBER_B = '15557030005';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  const lids: Record<string, string> = {};
  const ME = `${OWNER}@s.whatsapp.net`;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let transport: TransportEnv;
  let runnerDb: string;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let receiver: WebhookReceiver;
  let sessionId: string;
  let generation = 0;

  const startOurRunner = (env: Record<string, string> = {}): Promise<RunnerProcess> =>
    startRunner(transport, sandboxRunnerEnv(sandbox, { DATABASE_URL: runnerDb, RUNNER_ID: `receipts-${++generation}`, ...env }));
  const outbox = (id: string) => client.json<{ status: string; waMessageId: string }>(`/sessions/${sessionId}/outbox/${id}`);
  const outboxReaches = (id: string, status: string) => eventually(`outbox entry ${id} to be ${status}`, async () => (await outbox(id)).status === status, 60_000);
  const copiesAt = (phone: string, id: string) => sandbox.received(phone).filter((m) => m.id === id && !m.fromOwnDevice).length;
  const statusEvents = (id: string, status: string) =>
    receiver.received.filter((r) => r.body.type === 'message.status' && r.body.data.messageId === id && r.body.data.status === status).map((r) => r.body.id);
  const sendText = async (text: string, { async = false, to = CONTACT } = {}) => {
    const res = await client.call(`/sessions/${sessionId}/messages`, {
      method: 'POST',
      ...(async ? { headers: { prefer: 'respond-async' } } : {}),
      body: { chat: to.endsWith('@g.us') ? to : pn(to), type: 'text', text },
    });
    expect(res.status).toBe(async ? 202 : 200);
    return (await res.json()) as { outboxId: string; waMessageId: string; status: string };
  };

  /**
   * Events of a session reach a webhook in order: once a message the contact sends after `what`
   * has been reported, every event `what` could cause has been too.
   */
  const settled = async (what: string): Promise<void> => {
    const { id } = await sandbox.sendMessage(CONTACT, ME, { type: 'text', text: `after ${what}` });
    await eventually(`the event of a message sent after ${what}`, () => receiver.received.some((r) => r.body.type === 'message.received' && r.body.data.messageId === id), 60_000);
  };

  /**
   * Keeps the runner from writing a message's status, as a stalled disk or a locked table would:
   * PostgreSQL waits on a table lock (seen in pg_locks); SQLite's writer waits for the lock and
   * then gives up (busy timeout), which the runner reports. On PostgreSQL the held statement of a
   * runner killed meanwhile still runs once the lock goes, and commits whole (status, proof and
   * event together, as true then as when the next owner writes them): `release` waits until its
   * connection has ended, so that what the test does next comes after it.
   */
  async function stallStatusWrites(): Promise<{ stalled: () => Promise<void>; release: () => Promise<void> }> {
    if (scaleOut) {
      const { pg, schema } = await schemaClient(runnerDb);
      await pg.query('BEGIN');
      await pg.query(`LOCK TABLE "${schema}".wa_messages IN SHARE MODE`);
      let waiting: number[] = [];
      return {
        stalled: async () => {
          await eventually('the runner to wait for the status write', async () => {
            const r = await pg.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE NOT granted AND relation = '"${schema}".wa_messages'::regclass`);
            waiting = r.rows.map((row) => row.pid);
            return waiting.length > 0;
          });
        },
        release: async () => {
          await pg.query('ROLLBACK');
          await eventually('the held status write to end', async () => {
            const r = await pg.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])', [waiting]);
            return Number(r.rows[0].n) === 0;
          });
          await pg.end();
        },
      };
    }
    const db = new Database(runnerDb.slice('sqlite:'.length));
    db.exec('BEGIN EXCLUSIVE');
    const seen = runner.output().split('receipt not stored').length;
    return {
      stalled: async () => {
        await eventually('the runner to report a receipt it could not store', () => runner.output().split('receipt not stored').length > seen, 60_000).catch((err: unknown) => {
          // Say what the runner did with the receipt if it never reports it.
          const said = runner.output().split('\n').filter((l) => /receipt|status|busy|locked|connection/i.test(l));
          throw new Error(`${err instanceof Error ? err.message : String(err)}; the runner's last related lines:\n${said.slice(-20).join('\n')}`);
        });
      },
      release: async () => {
        db.exec('ROLLBACK');
        db.close();
      },
    };
  }

  /** A read receipt from the contact reaches the runner, which is killed before it could store it. */
  async function killWhileStoringRead(waMessageId: string): Promise<void> {
    const stall = await stallStatusWrites();
    try {
      await sandbox.sendReceipt(CONTACT, ME, [waMessageId], 'read');
      await stall.stalled();
      await runner.stop('SIGKILL');
    } finally {
      await stall.release();
    }
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(CONTACT);
    await sandbox.createPhone(OTHER);
    for (const phone of [MEMBER_A, MEMBER_B]) lids[phone] = (await sandbox.createPhone(phone)).lid;
    transport = await transportEnv();
    runnerDb = testDatabaseUrl('runner');
    runner = await startOurRunner();
    gw = await startGateway(transport, { ...idp.env, ...UNPACED_GATEWAY, OUTBOX_RETRY_BASE_MS: '200', OUTBOX_RETRY_MAX_MS: '1000', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    client = new ApiClient(() => gw.url, idp, ORG);
    receiver = await WebhookReceiver.start();
    const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: receiver.url, events: ['message.status', 'message.received'] } });
    receiver.secrets = [hook.secret];
    sessionId = (await client.linkSession(sandbox, OWNER)).id;
  });

  afterAll(() => teardown(() => runner?.stop(), () => gw?.close(), () => receiver?.close(), () => sandbox?.stop(), () => idp?.close()));

  it('a read receipt the killed runner had received and not stored when it died reaches the entry at the next owner, reported once', async () => {
    const sent = await sendText('read me');
    await outboxReaches(sent.outboxId, 'delivered');
    await killWhileStoringRead(sent.waMessageId);
    runner = await startOurRunner();
    await outboxReaches(sent.outboxId, 'read');
    await settled('the read receipt');
    expect(statusEvents(sent.waMessageId, 'read')).toHaveLength(1);
    expect(statusEvents(sent.waMessageId, 'delivered')).toHaveLength(1);
  });

  it('decides on a send that may have left once the redelivered backlog is processed: not again with a receipt in it, again without', async () => {
    // `left` reached the contact; its read receipt waits at WhatsApp for the next owner.
    const left = await sendText('did this leave?');
    await outboxReaches(left.outboxId, 'delivered');
    await killWhileStoringRead(left.waMessageId);
    // `never` is accepted while no runner is up.
    const never = await sendText('this never left', { async: true, to: OTHER });
    // The moment no process can record: both written as `relaying` by a runner that died before
    // writing `relayed`, and both still with the dispatcher, which hands them over again.
    // Nor had such a runner reported `left`'s delivery. The killed one had, and the gateway
    // recorded it (above), but SIGKILL can land before the runner deleted its copy of that event:
    // the next runner would then hand it over again on its start, and the gateway, rightly, end
    // the entry as delivered before it is handed over. On PostgreSQL the killed runner's held
    // statement did store the read, after it died (see `stallStatusWrites`): undone too, with its
    // event, as for a runner that died before the database ran it.
    await runnerSql(`DELETE FROM runner_events WHERE session_id = $1 AND type = 'message.status' AND data LIKE $2`, [sessionId, `%"${left.waMessageId}"%`]);
    await runnerSql(`UPDATE wa_messages SET status = 'delivered' WHERE session_id = $1 AND message_id = $2`, [sessionId, left.waMessageId]);
    await runnerSql(`UPDATE wa_send_log SET state = 'relaying' WHERE session_id = $1 AND message_id = $2`, [sessionId, left.waMessageId]);
    await runnerSql(`INSERT INTO wa_send_log (session_id, message_id, state, updated_at) VALUES ($1, $2, 'relaying', $3)`, [sessionId, never.waMessageId, Date.now()]);
    await gatewayRows(`UPDATE outbox SET status = 'sending', next_attempt_at = $1, claim_token = NULL, claim_expires_at = NULL WHERE id = $2`, [Date.now(), left.outboxId]);

    // The server is slow to hand the backlog over: the new owner is connected and has to wait for it.
    sandbox.holdBacklog(OWNER);
    const waiting = (id: string) => lineOf(runner.output(), 'waiting for the offline backlog', id);
    try {
      runner = await startOurRunner({ SEND_RESEND_PROOF_MS: '60000' });
      // A deadline for a hang (HANG_MS): under two loaded CI runs the runner's start, login and
      // the dispatcher's retries took longer than the 60 s this waited once. Say what the runner
      // did if it does hang.
      await eventually('both hand-overs to wait for the backlog', () => waiting(left.waMessageId) >= 0 && waiting(never.waMessageId) >= 0, HANG_MS).catch(async (err: unknown) => {
        const said = runner.output().split('\n').filter((l) => /backlog|relay|sending|lease|connection|open|execute/i.test(l));
        // And where the gateway's dispatcher stands with each (a hand-over it never made leaves no runner line).
        const entries = await gatewayRows(
          'SELECT wa_message_id, status, attempts, next_attempt_at, claim_expires_at, error FROM outbox WHERE id IN ($1, $2)',
          [left.outboxId, never.outboxId],
        ).catch((e: unknown) => [String(e)]);
        const session = await client.json(`/sessions/${sessionId}`).catch((e: unknown) => String(e));
        throw new Error(
          `${err instanceof Error ? err.message : String(err)} (left ${left.waMessageId}, never ${never.waMessageId}, at ${new Date().toISOString()}); ` +
            `outbox entries: ${JSON.stringify(entries)}; session: ${JSON.stringify(session)}; the runner's last related lines:\n${said.slice(-20).join('\n')}`,
        );
      });
      expect(copiesAt(OTHER, never.waMessageId)).toBe(0);
    } finally {
      // Held, it would keep the next test's receipts from the next runner as well.
      sandbox.releaseBacklog(OWNER);
    }

    await sandbox.waitForReceived(OTHER, (m) => m.id === never.waMessageId, 60_000);
    await outboxReaches(left.outboxId, 'read');
    const decided = (id: string, msg: string) => lineOf(runner.output(), msg, id);
    await eventually('both decisions', () => decided(left.waMessageId, 'not sending again') >= 0 && decided(never.waMessageId, 'sending again: no sign') >= 0);
    const out = runner.output();
    const lines = out.split('\n');
    expect(lines[decided(left.waMessageId, 'not sending again: WhatsApp acknowledged this id')]).toContain('"backlog":"processed"');
    expect(lines[decided(never.waMessageId, 'sending again: no sign that this id left')]).toContain('"backlog":"processed"');
    expect(decided(left.waMessageId, 'not sending again')).toBeGreaterThan(waiting(left.waMessageId));
    expect(decided(never.waMessageId, 'sending again')).toBeGreaterThan(waiting(never.waMessageId));

    // Messages of a chat go out in order: markers sent now arrive after any copy still on its way.
    for (const to of [CONTACT, OTHER]) {
      const marker = await sendText('marker', { to });
      await sandbox.waitForReceived(to, (m) => m.id === marker.waMessageId, 60_000);
    }
    expect({ left: copiesAt(CONTACT, left.waMessageId), never: copiesAt(OTHER, never.waMessageId) }).toEqual({ left: 1, never: 1 });
    await settled('the decisions');
    expect(statusEvents(left.waMessageId, 'read')).toHaveLength(1);
  });

  it("a group member's receipt WhatsApp delivers again to the next runner is reported once per member and status, and listed once", async () => {
    const created = await client.envelope(`/sessions/${sessionId}/groups`, { method: 'POST', body: { subject: 'Readers', participants: [pn(MEMBER_A), pn(MEMBER_B)] } });
    expect(created.status).toBe(201);
    const group = (created.body as unknown as { jid: string }).jid;
    /** `member|status` of each member receipt reported for `id`, the member by phone. */
    const memberStatuses = (id: string) =>
      receiver.received
        .filter((r) => r.body.type === 'message.status' && r.body.data.messageId === id && r.body.data.recipient)
        .map((r) => `${phoneOf(r.body.data.recipient as { jid: string; pn?: string; lid?: string })}|${r.body.data.status as string}`)
        .sort();
    const ALL = [`${MEMBER_A}|delivered`, `${MEMBER_A}|read`, `${MEMBER_B}|delivered`];

    // From here the account's client stores and reports every receipt, but its acks never reach
    // WhatsApp: they are lost with the runner killed below, so WhatsApp delivers them all again.
    sandbox.loseAcks(OWNER);
    const sentAt = Date.now();
    const sent = await sendText('who read this?', { to: group });
    for (const member of [MEMBER_A, MEMBER_B]) await sandbox.waitForReceived(member, (m) => m.id === sent.waMessageId);
    await sandbox.sendReceipt(MEMBER_A, group, [sent.waMessageId], 'read');
    await eventually('both deliveries and the read to be reported', () => ALL.every((r) => memberStatuses(sent.waMessageId).includes(r))).catch((err: unknown) => {
      // Twice, on loaded machines, one of the three never came within the hang deadline: say what did.
      const events = receiver.received.filter((r) => r.body.type === 'message.status' && r.body.data.messageId === sent.waMessageId).map((r) => r.body.data);
      const unacked = sandbox.unacknowledged(OWNER).filter((p) => p.id === sent.waMessageId);
      const said = runner.output().split('\n').filter((l) => l.includes(sent.waMessageId) || /receipt|status/i.test(l));
      throw new Error(
        `${err instanceof Error ? err.message : String(err)} (message ${sent.waMessageId} in ${group}, members ${JSON.stringify(lids)}, at ${new Date().toISOString()}); ` +
          `reported: ${JSON.stringify(memberStatuses(sent.waMessageId))}; status events: ${JSON.stringify(events)}; receipts WhatsApp holds unacknowledged: ${JSON.stringify(unacked)}; ` +
          `the runner's related lines:\n${said.slice(-30).join('\n')}`,
      );
    });
    const pending = () => sandbox.unacknowledged(OWNER).filter((p) => p.tag === 'receipt' && p.id === sent.waMessageId && p.from === group);
    expect(pending().map((p) => `${phoneOf({ jid: p.participant ?? '', lid: p.participant })}|${p.type ?? 'delivered'}`).sort()).toEqual(ALL);

    await runner.stop('SIGKILL');
    runner = await startOurRunner();
    await eventually('the next runner to acknowledge the receipts WhatsApp delivered again', () => pending().length === 0);
    await settled('the receipts delivered again');
    expect(memberStatuses(sent.waMessageId)).toEqual(ALL);

    const listed = await client.envelope(`/sessions/${sessionId}/messages/${sent.waMessageId}/receipts`);
    expect(listed.status).toBe(200);
    const rows = listed.body.data as unknown as { member: { jid: string; pn?: string; lid?: string }; status: string; at: number }[];
    expect(rows.map((r) => `${phoneOf(r.member)}|${r.status}`).sort()).toEqual(ALL);
    expect(listed.body.nextCursor).toBe('');
    const reported = receiver.received.filter((r) => r.body.type === 'message.status' && r.body.data.messageId === sent.waMessageId && r.body.data.recipient);
    for (const row of rows) {
      // Named as the event named the member, stamped with the receipt's time (WhatsApp's seconds).
      const event = reported.find((r) => phoneOf(r.body.data.recipient as { jid: string }) === phoneOf(row.member) && r.body.data.status === row.status);
      expect(row.member).toEqual(event?.body.data.recipient);
      expect(row.at).toBeGreaterThanOrEqual(Math.floor(sentAt / 1000) * 1000);
      expect(row.at).toBeLessThanOrEqual(Date.now());
    }
    expect(rows.map((r) => r.at)).toEqual([...rows.map((r) => r.at)].sort((a, b) => a - b));
  });

  it('lists receipts of a stored message only: 404 for an unknown message, and for another organization as for a session that does not exist', async () => {
    const sent = await sendText('receipts of a 1:1 message');
    await outboxReaches(sent.outboxId, 'delivered');
    // A 1:1 message has no member receipts: its own status tells.
    await expect(client.envelope(`/sessions/${sessionId}/messages/${sent.waMessageId}/receipts`)).resolves.toEqual({ status: 200, body: { data: [], nextCursor: '' } });
    const unknown = await client.envelope(`/sessions/${sessionId}/messages/3EB0000000000000DEAD/receipts`);
    expect(unknown).toEqual({ status: 404, body: { error: expect.objectContaining({ code: 'not_found' }) } });
    const otherOrg = await client.envelope(`/sessions/${sessionId}/messages/${sent.waMessageId}/receipts`, { org: 'org-receipts-other' });
    const noSession = await client.envelope(`/sessions/01HZX3K9Q2T4W6Y8A0C2E4G6J8/messages/${sent.waMessageId}/receipts`);
    expect(otherOrg.status).toBe(404);
    expect(otherOrg.body).toEqual(noSession.body);
    expect(otherOrg.body).toEqual({ error: expect.objectContaining({ code: 'not_found' }) });
  });

  /** The phone of a member named by phone-number jid or LID (the sandbox knows each member's LID). */
  function phoneOf(member: { jid: string; pn?: string; lid?: string }): string {
    const byLid = Object.entries(lids).find(([, lid]) => lid === member.lid || lid === member.jid)?.[0];
    return byLid ?? (member.pn ?? member.jid).replace('@s.whatsapp.net', '');
  }

  /** Index of the first log line naming `id` that contains `text`, or -1. */
  function lineOf(output: string, text: string, id: string): number {
    return output.split('\n').findIndex((line) => line.includes(text) && line.includes(id));
  }

  async function runnerSql(sql: string, params: unknown[]): Promise<void> {
    if (scaleOut) {
      const { pg } = await schemaClient(runnerDb);
      try {
        await pg.query(sql, params);
      } finally {
        await pg.end();
      }
      return;
    }
    const db = new Database(runnerDb.slice('sqlite:'.length));
    try {
      db.prepare(sql.replace(/\$\d+/g, '?')).run(...params);
    } finally {
      db.close();
    }
  }

  async function gatewayRows(sql: string, params: unknown[]): Promise<unknown[]> {
    const ds = gw.app.get(DataSource);
    return (await ds.query(ds.options.type === 'postgres' ? sql : sql.replace(/\$\d+/g, '?'), params)) as unknown[];
  }
});
