import type { ExecuteResult, OutboxAction } from '@wa/contracts';
import { generateMessageId, newId } from '@wa/domain';
import { WaSandbox, type PhoneInfo } from '@wa/wa-sandbox';
import { DataSource } from 'typeorm';
import { MessagingController } from '../src/messaging/messaging.controller';
import { linkSession, startRunner, type RunnerUnderTest } from './support/runner-under-test';
import { statementCounter } from './support/statement-counter';

const ORG = 'org_send_trips';
const OWNER = '15550020001';
const CONTACT = '15550020002';

/**
 * What one hand-over costs the runner's PostgreSQL, counted in the hand-over's own async context
 * (the ack and receipts arrive in the socket's): an unpaced send of an id never seen checks and
 * writes the send log in one statement; a retried one is read before anything else is written.
 */
// About PostgreSQL, so on PostgreSQL in both configurations.
describe('round trips of a hand-over on the runner (PostgreSQL)', () => {
  let sandbox: WaSandbox;
  let runner: RunnerUnderTest;
  let sessionId: string;
  let contact: PhoneInfo;
  let counted: ReturnType<typeof statementCounter>;
  const execute = (action: OutboxAction, waMessageId = generateMessageId(), pacing?: { minIntervalMs: number; jitterMs: number; maxWaitMs: number }) =>
    runner.app.get(MessagingController).execute({ orgId: ORG, sessionId, outboxId: newId(), waMessageId, action, attempt: 1, ...(pacing ? { pacing } : {}) }) as Promise<ExecuteResult>;
  const text = (t: string): OutboxAction => ({ kind: 'send', chat: contact.jid, content: { type: 'text', text: t } });

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(OWNER, 'Owner');
    contact = await sandbox.createPhone(CONTACT, 'Contact');
    runner = await startRunner(sandbox, 'runner_send_trips', { SEND_ACK_WAIT_MS: '3000' }, { postgres: true });
    sessionId = await linkSession(runner, sandbox, ORG, OWNER);
    counted = statementCounter(runner.app.get(DataSource));
    // The first send to the contact sets up its Signal session and prepares the statements.
    await expect(execute(text('first'))).resolves.toMatchObject({ status: 'sent' });
  });

  afterAll(async () => {
    await runner?.close();
    await sandbox?.stop();
  });

  it('sends in two statements, one of them before the socket', async () => {
    const id = generateMessageId();
    const { answer, statements } = await counted(() => execute(text('second'), id));
    expect(answer).toMatchObject({ waMessageId: id, status: 'sent' });
    await sandbox.waitForReceived(CONTACT, (m) => m.id === id, 30_000);
    // The log's `relaying` row (checked and written at once), then `relayed`, the Signal session
    // the encryption moved on and the stored message, in one statement.
    expect(statements).toHaveLength(2);
    expect(statements[0]).toContain('INSERT INTO wa_send_log');
    expect(statements[1]).toContain('wa_send_log');
    expect(statements[1]).toContain('INSERT INTO wa_auth_keys');
    expect(statements[1]).toContain('INSERT INTO wa_messages');
  });

  it('checks a retried id before it writes, and sends no second copy', async () => {
    const id = generateMessageId();
    await expect(execute(text('once'), id)).resolves.toMatchObject({ status: 'sent' });
    const { answer, statements } = await counted(() => execute(text('once'), id));
    expect(answer).toMatchObject({ waMessageId: id, status: 'sent' });
    // The write that finds the id known, then the read of its state; nothing goes out.
    expect(statements.slice(0, 2).map((s) => s.replace(/^hot_\w+ /, '').slice(0, 30))).toEqual(['INSERT INTO wa_send_log (sessi', 'SELECT state FROM wa_send_log ']);
    expect(statements.some((s) => s.includes("'relayed'") || s.includes('wa_auth_keys'))).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(sandbox.received(CONTACT).filter((m) => m.id === id)).toHaveLength(1);
  });

  it('leaves no send-log row for a paced send told to come back later', async () => {
    const pacing = { minIntervalMs: 60_000, jitterMs: 0, maxWaitMs: 1_000 };
    await expect(execute(text('paced one'), generateMessageId(), pacing)).resolves.toMatchObject({ status: 'sent' });
    const refused = generateMessageId();
    await expect(execute(text('paced two'), refused, pacing)).rejects.toMatchObject({ code: 'rate_limited' });
    const rows = await runner.app.get(DataSource).query('SELECT state FROM wa_send_log WHERE session_id = $1 AND message_id = $2', [sessionId, refused]);
    expect(rows).toEqual([]);
  });
});
