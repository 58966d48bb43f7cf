import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { sandboxRunnerEnv, scaleOut, schemaClient, startGateway, startRunner, testDatabaseUrl, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
import { eventually, teardown, UNPACED_GATEWAY } from './lease-fixture';
import { ApiClient } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

/**
 * `kill -9` of the runner at random points of a burst of async sends over 20 chats (pacing off),
 * restarted each time under a new RUNNER_ID (so it also waits out its own leases):
 * every message reaches its contact exactly once. `pnpm crash-test` runs the long version
 * (1,000 messages, 20 runs). Then the same with messages the contacts send: each is stored
 * before its receipt goes to WhatsApp, so each one is stored and reported exactly once; so are
 * their reactions, edits and deletions.
 */
describe('runner crashes in the middle of a burst', () => {
  const ORG = 'org-crash';
  const MESSAGES = Number(process.env.CRASH_TEST_MESSAGES ?? 200);
  const INBOUND = Number(process.env.CRASH_TEST_INBOUND ?? 100);
  const KILLS = Number(process.env.CRASH_TEST_KILLS ?? 2);
  /** The linked account's phone. */
  const OWNER = '15557020999';
  const CONTACTS = Array.from({ length: 20 }, (_, i) => `1555702${String(i).padStart(4, '0')}`);
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let transport: TransportEnv;
  let runnerDb: string;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let sessionId: string;
  let receiver: WebhookReceiver;
  let generation = 0;
  /** Every runner life's log, for the figures of what the send log decided. */
  const logs: (() => string)[] = [];

  const startOurRunner = async (): Promise<RunnerProcess> => {
    const r = await startRunner(transport, sandboxRunnerEnv(sandbox, { DATABASE_URL: runnerDb, RUNNER_ID: `crash-${++generation}` }));
    logs.push(r.output);
    return r;
  };

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    for (const phone of CONTACTS) await sandbox.createPhone(phone);
    transport = await transportEnv();
    runnerDb = testDatabaseUrl('runner');
    runner = await startOurRunner();
    gw = await startGateway(transport, {
      ...idp.env,
      ...UNPACED_GATEWAY,
      OUTBOX_RETRY_BASE_MS: '200',
      OUTBOX_RETRY_MAX_MS: '2000',
      SEND_SYNC_TIMEOUT_MS: '5000',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    client = new ApiClient(() => gw.url, idp, ORG);
    receiver = await WebhookReceiver.start();
    const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: receiver.url, events: ['message.received', 'message.reaction', 'message.edited', 'message.deleted'] } });
    receiver.secrets = [hook.secret];
    sessionId = (await client.linkSession(sandbox, OWNER)).id;
  });

  afterAll(() => teardown(() => runner?.stop(), () => gw?.close(), () => receiver?.close(), () => sandbox?.stop(), () => idp?.close()));

  it(`delivers each of ${MESSAGES} messages exactly once across ${KILLS} kills`, async () => {
    const sent: { outboxId: string; waMessageId: string; contact: string }[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const contact = CONTACTS[i % CONTACTS.length];
      const res = await client.call(`/sessions/${sessionId}/messages`, {
        method: 'POST',
        headers: { prefer: 'respond-async' },
        body: { chat: `${contact}@s.whatsapp.net`, type: 'text', text: `burst ${i}` },
      });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { outboxId: string; waMessageId: string };
      sent.push({ ...body, contact });
    }
    const ids = new Set(sent.map((s) => s.waMessageId));
    const arrivals = (): number => CONTACTS.reduce((n, phone) => n + sandbox.received(phone).filter((m) => ids.has(m.id)).length, 0);

    // Each kill comes at a random point of the part of the burst still to go.
    for (let k = 0; k < KILLS; k++) {
      const remaining = MESSAGES - arrivals();
      const at = arrivals() + Math.floor(Math.random() * Math.max(1, remaining / (KILLS - k + 1)));
      await eventually(`${at} arrivals before kill ${k + 1}`, () => arrivals() >= at, 120_000);
      const t0 = Date.now();
      await runner.stop('SIGKILL');
      runner = await startOurRunner();
      process.stdout.write(`kill ${k + 1} at ${at} arrivals; runner back in ${Date.now() - t0} ms\n`);
    }

    const t1 = Date.now();
    await eventually('every message to reach its contact', () => sent.every((s) => sandbox.received(s.contact).some((m) => m.id === s.waMessageId)), 180_000);
    process.stdout.write(`all arrived ${Date.now() - t1} ms after the last restart\n`);
    // Settled: no entry is still waiting to be handed over, so no copy can still be on its way.
    await eventually(
      'every outbox entry to be handed over',
      async () => {
        for (const s of sent) {
          // `sending` without an error is handed over and waiting for its receipt (which a kill
          // can cost: the dead runner may have taken it); with an error, a retry is still due.
          const entry = await client.json<{ status: string; error: string | null }>(`/sessions/${sessionId}/outbox/${s.outboxId}`);
          if (entry.status === 'queued' || (entry.status === 'sending' && entry.error !== null)) return false;
        }
        return true;
      },
      60_000,
    );
    const copies = new Map<string, number>();
    for (const phone of CONTACTS) for (const m of sandbox.received(phone)) if (ids.has(m.id)) copies.set(m.id, (copies.get(m.id) ?? 0) + 1);
    const twice = [...copies.entries()].filter(([, n]) => n > 1);
    // For scripts/crash-test.mjs, which runs this many times and sums the results up.
    const logged = (text: string): number => logs.reduce((n, out) => n + out().split(text).length - 1, 0);
    const decisions = {
      notResent: logged('not sending again: this id already went to WhatsApp') + logged('not sending again: WhatsApp acknowledged this id'),
      resent: logged('sending again: no sign that this id left'),
      // Decisions the login's backlog did not settle in time (SEND_RESEND_PROOF_MS ran out).
      undecidedByBacklog: logged('"backlog":"not seen in time"'),
    };
    process.stdout.write(`CRASH-RESULT ${JSON.stringify({ messages: MESSAGES, kills: KILLS, lost: MESSAGES - copies.size, duplicated: twice.length, ...decisions })}\n`);
    expect({ lost: MESSAGES - copies.size, duplicated: twice }).toEqual({ lost: 0, duplicated: [] });
  }, 600_000);

  it(`stores and reports each of ${INBOUND} messages from the contacts, and their reactions, edits and deletions, exactly once across ${KILLS} kills`, async () => {
    const me = `${OWNER}@s.whatsapp.net`;
    const inbound: string[] = [];
    /** Every message a contact sent, with the event it must become exactly once. */
    const expected = new Map<string, string>();
    const sending = (async () => {
      for (let i = 0; i < INBOUND; i++) {
        const contact = CONTACTS[i % CONTACTS.length];
        const id = (await sandbox.sendMessage(contact, me, { type: 'text', text: `inbound ${i}` })).id;
        inbound.push(id);
        expected.set(id, 'message.received');
        // Reactions, edits and deletions of the contact's own message, between the messages.
        if (i % 3 === 0) expected.set((await sandbox.sendMessage(contact, me, { type: 'reaction', targetId: id, emoji: '👍' })).id, 'message.reaction');
        if (i % 5 === 1) expected.set((await sandbox.sendMessage(contact, me, { type: 'edit', targetId: id, text: `inbound ${i}, edited` })).id, 'message.edited');
        if (i % 7 === 2) expected.set((await sandbox.sendMessage(contact, me, { type: 'revoke', targetId: id })).id, 'message.deleted');
      }
    })();
    // Each kill at a random point while the contacts are still sending; what they send while the
    // runner is down waits at the server and arrives in a burst at the next login.
    for (let k = 0; k < KILLS; k++) {
      const at = Math.floor(((k + Math.random()) * INBOUND) / (KILLS + 1));
      await eventually(`${at} messages sent before kill ${k + 1}`, () => inbound.length >= at, 60_000);
      await runner.stop('SIGKILL');
      runner = await startOurRunner();
    }
    await sending;
    // Reactions, edits and deletions are stored too (under their own types, outside chat pages):
    // that row is what tells a copy WhatsApp delivers again from the first.
    await eventually(
      'every message from the contacts to be stored',
      async () => {
        for (const id of expected.keys()) if ((await client.call(`/sessions/${sessionId}/messages/${id}`)).status !== 200) return false;
        return true;
      },
      180_000,
    );
    const seenOf = () => new Set(receiver.received.filter((r) => expected.get(r.body.data.messageId as string) === r.body.type).map((r) => r.body.data.messageId as string));
    await eventually('an event for each message, reaction, edit and deletion', () => seenOf().size === expected.size, 60_000).catch(() => undefined);
    // One event per message: a webhook retry repeats an event id, a second event would not.
    const events = new Map<string, Set<string>>();
    for (const r of receiver.received) {
      const id = r.body.data.messageId as string;
      if (expected.get(id) !== r.body.type) continue;
      events.set(id, (events.get(id) ?? new Set()).add(r.body.id));
    }
    const twice = [...events.entries()].filter(([, ids]) => ids.size > 1).map(([id]) => `${expected.get(id)} ${id}`);
    const lost = [...expected.keys()].filter((id) => !events.has(id)).map((id) => `${expected.get(id)} ${id}`);
    process.stdout.write(`CRASH-INBOUND-RESULT ${JSON.stringify({ messages: INBOUND, total: expected.size, kills: KILLS, lost: lost.length, duplicated: twice.length })}\n`);
    expect({ lost, duplicated: twice }).toEqual({ lost: [], duplicated: [] });
  }, 600_000);

  /** An async text to `contact`; its WhatsApp id. */
  const sendTo = async (contact: string, text: string): Promise<string> => {
    const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', headers: { prefer: 'respond-async' }, body: { chat: `${contact}@s.whatsapp.net`, type: 'text', text } });
    expect(res.status).toBe(202);
    return ((await res.json()) as { waMessageId: string }).waMessageId;
  };
  const arrived = (contact: string, id: string) => sandbox.received(contact).filter((m) => m.id === id);
  /** A message from `contact`, stored by the runner: it completes their Signal session (no pre-key message from then on). */
  const replyFrom = async (contact: string, text: string): Promise<void> => {
    const { id } = await sandbox.sendMessage(contact, `${OWNER}@s.whatsapp.net`, { type: 'text', text });
    await eventually('the reply to be stored', async () => (await client.call(`/sessions/${sessionId}/messages/${id}`)).status === 200, 60_000);
  };

  /**
   * The device list of a contact is fetched again after a start (and once Baileys' device cache
   * expired); Baileys rc14 then replaced the Signal session of every device whose LID the answer
   * carried, already known or not, so the next message went out on a new session made from one
   * of the contact's pre-keys. The Baileys patch keeps a known mapping's session.
   */
  it("keeps a contact's Signal session and its privacy token across a restart", async () => {
    const contact = CONTACTS[1];
    const first = await sendTo(contact, 'opens the session');
    await eventually('the first message to arrive', () => arrived(contact, first).length === 1, 60_000);
    await replyFrom(contact, 'a reply');
    const on = await sendTo(contact, 'on the session');
    await eventually('the message to arrive', () => arrived(contact, on).length === 1, 60_000);
    expect(arrived(contact, on)[0].encryption).toBe('msg');

    await runner.stop();
    runner = await startOurRunner();
    const after = await sendTo(contact, 'after the restart');
    await eventually('the message after the restart to arrive', () => arrived(contact, after).length === 1, 60_000);
    expect(arrived(contact, after)[0].encryption).toBe('msg');
    // The privacy token the first message issued is remembered in the runner's key store (a
    // Baileys patch: it used to be written into the cache of a finished transaction and lost, so
    // every message issued another one).
    expect(sandbox.privacyTokensIssued(OWNER).filter((t) => t.to === contact)).toHaveLength(1);
  }, 300_000);

  /**
   * A sync send answers once WhatsApp acknowledged its message; the commit of its records (the
   * `relayed` mark, the Signal keys, the stored message) goes on after the answer. A read of the
   * session that comes after the answer waits for that commit, so it finds the message; so does a
   * reply that quotes it (the runner looks the quoted message up in its store). Here the
   * commit waits on a lock on the message table (PostgreSQL only, as below: SQLite has no lock
   * that holds one table's writes and not the send log's before).
   */
  if (scaleOut) it('answers a sync send once WhatsApp has the message, while its records wait; a read of the session waits for them', async () => {
    const contact = CONTACTS[1];
    const { pg, schema } = await schemaClient(runnerDb);
    const waiting = async (): Promise<number> =>
      (await pg.query('SELECT pid FROM pg_locks WHERE relation = $1::regclass AND NOT granted', [`"${schema}".wa_messages`])).rowCount ?? 0;
    let locked = false;
    await pg.query('BEGIN');
    try {
      await pg.query(`LOCK TABLE "${schema}".wa_messages IN EXCLUSIVE MODE`);
      locked = true;
      const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: `${contact}@s.whatsapp.net`, type: 'text', text: 'answered before its commit' } });
      const sent = (await res.json()) as { status: string; waMessageId: string };
      expect(sent.status).toBe('sent');
      expect(sandbox.received(contact).filter((m) => m.id === sent.waMessageId)).toHaveLength(1);
      // Its records wait for the lock (their statement may reach the database just after the
      // answer on a busy machine, but it cannot commit before the lock goes).
      await eventually('the records to wait for the lock', async () => (await waiting()) > 0, 10_000);
      let answered = false;
      const reading = client.call(`/sessions/${sessionId}/messages/${sent.waMessageId}`).then((r) => {
        answered = true;
        return r;
      });
      const replied = await client.call(`/sessions/${sessionId}/messages`, {
        method: 'POST',
        headers: { prefer: 'respond-async' },
        body: { chat: `${contact}@s.whatsapp.net`, type: 'text', text: 'a reply to it', replyTo: { id: sent.waMessageId, sender: `${OWNER}@s.whatsapp.net` } },
      });
      expect(replied.status).toBe(202);
      const reply = (await replied.json()) as { outboxId: string; waMessageId: string };
      await new Promise((r) => setTimeout(r, 1_000));
      expect(answered).toBe(false);
      await pg.query('ROLLBACK');
      locked = false;
      const read = await reading;
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ id: sent.waMessageId, fromMe: true });
      // The reply found the message it quotes once it was stored, and went out.
      await eventually('the reply to arrive', () => arrived(contact, reply.waMessageId).length === 1, 60_000);
      expect((await client.json<{ status: string }>(`/sessions/${sessionId}/outbox/${reply.outboxId}`)).status).not.toBe('failed');
    } finally {
      if (locked) await pg.query('ROLLBACK');
      await pg.end();
    }
  }, 120_000);

  /**
   * A send's Signal keys are committed with its `relayed` mark and its stored copy, in one
   * statement after the node left. A runner that dies before that statement reaches the database
   * comes back with the keys from before the send, and encrypts its next message to the contact
   * with a message key the contact's phone has used already. The phone cannot decrypt it and asks
   * for it again (a retry receipt, as WhatsApp clients do); the runner sends it again, further
   * along the chain. Here the statement waits on a lock on the message table, the runner is
   * killed, and its database connection ended with it, so the statement never runs. PostgreSQL
   * only (the case is not defined on SQLite): SQLite has no lock that holds one table's writes and
   * not the `relaying` mark before.
   */
  if (scaleOut) it('delivers the messages around a send whose keys were never committed, each exactly once', async () => {
    const contact = CONTACTS[0];
    const before = await sendTo(contact, 'before the crash');
    await eventually('the first message to arrive', () => arrived(contact, before).length === 1, 60_000);
    await replyFrom(contact, 'a reply');

    const { pg, schema } = await schemaClient(runnerDb);
    const waiting = async (): Promise<number[]> =>
      (await pg.query<{ pid: number }>('SELECT pid FROM pg_locks WHERE relation = $1::regclass AND NOT granted', [`"${schema}".wa_messages`])).rows.map((r) => r.pid);
    let lost = '';
    await pg.query('BEGIN');
    try {
      await pg.query(`LOCK TABLE "${schema}".wa_messages IN EXCLUSIVE MODE`);
      lost = await sendTo(contact, 'sent, never committed');
      await eventually('the message to arrive while its commit waits', () => arrived(contact, lost).length === 1, 60_000);
      await eventually('the runner to wait on the lock', async () => (await waiting()).length > 0, 60_000);
      await runner.stop('SIGKILL');
      // What the dead runner sent waits for the lock; ended with it, it never runs.
      for (const pid of await waiting()) await pg.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await pg.query('ROLLBACK');
      await pg.end();
    }
    runner = await startOurRunner();
    const after = await sendTo(contact, 'after the crash');
    await eventually('the message after the crash to arrive', () => arrived(contact, after).length > 0, 120_000);
    // Decrypted (its text read by the phone), and no copy more on its way.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(arrived(contact, after).map((m) => m.text)).toEqual(['after the crash']);
    expect(arrived(contact, lost)).toHaveLength(1);
    expect(arrived(contact, before)).toHaveLength(1);
    // It took the phone's retry receipt: the first copy came on a message key already used.
    expect(sandbox.retriesAsked(contact)[after]).toBe(1);
  }, 300_000);
});
