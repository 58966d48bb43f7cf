// Whether chat and contact reads stay fast as the message store grows:
//   node bench/reads-growth.mjs [--messages 500000] [--chats 2000] [--requests 200] [--postgres] [--keep-logs]
// One gateway and one session runner from their dist (SQLite files and the TCP transport;
// --postgres: fresh schemas at POSTGRES_URL, dropped at the end), one session paired with the
// sandbox and one real text sent through the API. That stored row is then copied N times
// straight into the runner's database (other ids, chats and timestamps, the same valid raw
// WebMessageInfo) across the chats, and the per-chat summaries filled as the migration fills
// them for messages stored before it. Then p50/p99 of `GET /chats` (first page and a page deep
// in the cursor chain), `GET /contacts` and `GET /chats/{chat}/messages`, each over `--requests`
// sequential requests, next to the target and to `GET /sessions/{id}` measured in the same run.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnApp } from './lib/processes.mjs';
import { POSTGRES_URL, createApiKey, tearDownStack, databaseUrls, startSandbox, stopOnSignals, transportEnv, until, wholeOption } from './lib/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => wholeOption(argv, name, fallback);
const args = { messages: option('messages', 500_000), chats: option('chats', 2_000), requests: option('requests', 200) };
const postgres = argv.includes('--postgres');
const keepLogs = argv.includes('--keep-logs');
const TARGET_P50_MS = 20;
const NON_CHAT_TYPES = ['reaction', 'vote', 'edit', 'revoke'];
const tmp = mkdtempSync(join(tmpdir(), 'wa-bench-reads-'));
const runId = randomBytes(4).toString('hex');
const say = (line) => process.stdout.write(`${line}\n`);
const progress = (line) => process.stderr.write(`  ${line}\n`);
const now = () => performance.now();
const requireRunner = createRequire(join(root, 'apps/session-runner/package.json'));

const schemaPrefix = `bench_reads_${runId}`;
const schemaOf = (app) => `${schemaPrefix}_${app}`;
const databaseUrl = databaseUrls({ postgres, tmp, schemaPrefix });
const transport = await transportEnv({ nats: false, prefix: `bench-reads-${runId}` });
const sandbox = await startSandbox(root);
const control = sandbox.control;
const common = { ...process.env, ...transport, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
const runnerEnv = { ...common, DATABASE_URL: databaseUrl('runner'), RUNNER_ID: `bench-reads-${runId}`, WA_WS_URL: sandbox.wsUrl, WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey };
const gatewayPort = await freePort();
const gatewayEnv = { ...common, DATABASE_URL: databaseUrl('gateway'), PORT: String(gatewayPort), HOST: '127.0.0.1', RATE_LIMIT_PER_API_KEY: 'off', RATE_LIMIT_PER_ORG: 'off' };
let key;
try {
  key = createApiKey(root, gatewayEnv, 'reads-growth');
} catch (err) {
  await sandbox.stop();
  throw err;
}
const runner = spawnApp('session-runner', join(root, 'apps/session-runner/dist/main.js'), runnerEnv, join(tmp, 'runner.log'));
const gateway = spawnApp('gateway', join(root, 'apps/gateway/dist/main.js'), gatewayEnv, join(tmp, 'gateway.log'));
stopOnSignals(() => [runner, gateway, sandbox], () => `logs in ${tmp}${postgres ? `; schemas ${schemaOf('gateway')} and ${schemaOf('runner')} left in PostgreSQL` : ''}`);
const api = `http://127.0.0.1:${gatewayPort}/api/v1`;
const call = async (method, path, body, retried = false) => {
  // A keep-alive socket the gateway closed while this process was busy inserting fails once.
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((err) => {
    if (retried || method !== 'GET') throw err;
    return undefined;
  });
  if (!res) return call(method, path, body, true);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
};

/** The runner's database, opened beside the runner: `run(sql, params)` with `?` placeholders. */
async function openRunnerDb() {
  if (!postgres) {
    const Database = requireRunner('better-sqlite3');
    const db = new Database(databaseUrl('runner').slice('sqlite:'.length));
    db.pragma('busy_timeout = 10000');
    return {
      all: async (sql, params = []) => db.prepare(sql).all(...params),
      run: async (sql, params = []) => void db.prepare(sql).run(...params),
      insertMany: async (sql, rows) => {
        const stmt = db.prepare(sql);
        db.transaction((all) => all.forEach((r) => stmt.run(...r)))(rows);
      },
      close: async () => db.close(),
    };
  }
  const pg = requireRunner('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schemaOf('runner')}` });
  await client.connect();
  const numbered = (sql) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  return {
    all: async (sql, params = []) => (await client.query(numbered(sql), params)).rows,
    run: async (sql, params = []) => void (await client.query(numbered(sql), params)),
    insertMany: async (sql, rows) => {
      // One multi-row INSERT per chunk: the statement's VALUES tuple repeated.
      const [head, tuple] = sql.split(/VALUES\s*/i);
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        await client.query(numbered(`${head} VALUES ${chunk.map(() => tuple).join(', ')}`), chunk.flat());
      }
    },
    close: async () => client.end(),
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
async function measure(label, path) {
  for (let i = 0; i < 10; i++) await call('GET', path); // warm-up
  const times = [];
  for (let i = 0; i < args.requests; i++) {
    const started = now();
    await call('GET', path);
    times.push(now() - started);
  }
  times.sort((a, b) => a - b);
  progress(`${label}: p50 ${percentile(times, 50).toFixed(1)} ms`);
  return { label, p50: percentile(times, 50), p99: percentile(times, 99) };
}

let exitCode = 0;
try {
  await until('the gateway to be ready (database and runner)', async () => (await fetch(`http://127.0.0.1:${gatewayPort}/health/ready`)).status === 200, 120_000);
  const phone = '15550000001';
  const contact = '15559000001';
  await control('/phones', { phone, name: 'Reader' });
  await control('/phones', { phone: contact, name: 'Contact' });
  const session = await call('POST', '/sessions', { name: 'reads' });
  await call('POST', `/sessions/${session.id}/start`, {});
  const { qr } = await call('GET', `/sessions/${session.id}/qr?waitMs=30000`);
  await control(`/phones/${phone}/scan`, { qr });
  await until('the session to be connected', async () => (await call('GET', `/sessions/${session.id}`)).status === 'connected', 90_000);
  progress('session connected; sending one real text');
  const sent = await call('POST', `/sessions/${session.id}/messages`, { chat: `${contact}@s.whatsapp.net`, type: 'text', text: 'the row every stored message copies' });
  const db = await openRunnerDb();
  const [template] = await until(
    'the sent message in the runner database',
    async () => {
      const rows = await db.all('SELECT * FROM wa_messages WHERE session_id = ? AND message_id = ?', [session.id, sent.waMessageId ?? sent.id]);
      return rows.length ? rows : undefined;
    },
    30_000,
  );

  progress(`inserting ${args.messages} messages over ${args.chats} chats...`);
  const insertStarted = now();
  const start = Date.now() - args.messages * 1000;
  const batch = 20_000;
  for (let done = 0; done < args.messages; done += batch) {
    const rows = [];
    for (let i = done; i < Math.min(done + batch, args.messages); i++) {
      const chat = `1556${String(i % args.chats).padStart(7, '0')}@s.whatsapp.net`;
      const fromMe = i % 2 === 0;
      rows.push([session.id, chat, `BENCH${runId}${String(i).padStart(8, '0')}`, fromMe, fromMe ? null : null, i % 47 === 0 ? 'reaction' : 'text', start + i * 1000, template.raw]);
    }
    await db.insertMany('INSERT INTO wa_messages (session_id, chat_jid, message_id, from_me, participant, type, timestamp_ms, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', postgres ? rows : rows.map((r) => [...r.slice(0, 3), r[3] ? 1 : 0, ...r.slice(4)]));
    progress(`${Math.min(done + batch, args.messages)}/${args.messages} inserted, ${((now() - insertStarted) / 1000).toFixed(0)} s`);
  }
  // What the migration does for messages stored before it, and `MessageStore.save` on each write.
  const skip = NON_CHAT_TYPES.map((t) => `'${t}'`).join(', ');
  await db.run(
    `INSERT INTO wa_chats (session_id, chat_jid, last_message_at, last_message_id)
     SELECT m.session_id, m.chat_jid, m.timestamp_ms, MAX(m.message_id) FROM wa_messages m
     JOIN (SELECT session_id, chat_jid, MAX(timestamp_ms) AS ts FROM wa_messages WHERE session_id = ? AND type NOT IN (${skip}) GROUP BY session_id, chat_jid) h
       ON h.session_id = m.session_id AND h.chat_jid = m.chat_jid AND h.ts = m.timestamp_ms
     WHERE m.type NOT IN (${skip}) GROUP BY m.session_id, m.chat_jid, m.timestamp_ms
     ON CONFLICT (session_id, chat_jid) DO UPDATE SET last_message_at = excluded.last_message_at, last_message_id = excluded.last_message_id
     WHERE excluded.last_message_at > wa_chats.last_message_at`,
    [session.id],
  );
  await db.run('INSERT INTO wa_correspondents (session_id, jid) SELECT DISTINCT session_id, chat_jid FROM wa_messages WHERE session_id = ? ON CONFLICT DO NOTHING', [session.id]);
  if (postgres) await db.run('ANALYZE'); // what autovacuum does after a bulk load
  const [{ n }] = await db.all('SELECT COUNT(*) AS n FROM wa_messages');
  const [{ c }] = await db.all('SELECT COUNT(*) AS c FROM wa_chats');
  await db.close();
  // The inserts above never yielded to I/O (better-sqlite3 is synchronous): let closed sockets be seen.
  await new Promise((r) => setTimeout(r, 50));
  progress(`${n} messages, ${c} chats stored in ${((now() - insertStarted) / 1000).toFixed(0)} s; measuring ${args.requests} requests each...`);

  const base = `/sessions/${session.id}`;
  let cursor = '';
  for (let i = 0; i < 10; i++) cursor = (await call('GET', `${base}/chats?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).nextCursor;
  const busiest = `1556${String((args.messages - 1) % args.chats).padStart(7, '0')}@s.whatsapp.net`;
  const baseline = await measure(`GET /sessions/{id} (baseline)`, base);
  const figures = [
    await measure('GET /sessions/{id}/chats', `${base}/chats`),
    ...(cursor ? [await measure('GET /sessions/{id}/chats, 11th page by cursor', `${base}/chats?limit=50&cursor=${encodeURIComponent(cursor)}`)] : []),
    await measure('GET /sessions/{id}/contacts', `${base}/contacts`),
    await measure('GET /sessions/{id}/chats/{chat}/messages', `${base}/chats/${busiest}/messages`),
  ];
  const pad = (s, n) => String(s).padEnd(n);
  const ms = (v) => `${v.toFixed(1)} ms`;
  say(`\n${pad('request', 48)}${pad('p50', 12)}${pad('p99', 12)}${pad('target p50', 14)}baseline p50 / p99`);
  for (const f of [baseline, ...figures]) {
    say(`${pad(f.label, 48)}${pad(ms(f.p50), 12)}${pad(ms(f.p99), 12)}${pad(f === baseline ? '' : `<= ${TARGET_P50_MS} ms`, 14)}${f === baseline ? '' : `${ms(baseline.p50)} / ${ms(baseline.p99)}`}`);
  }
  say(`\n${n} stored messages in ${c} chats, ${postgres ? 'PostgreSQL' : 'SQLite'} + TCP, ${args.requests} sequential requests each, Node ${process.version}`);
  const missed = figures.filter((f) => f.p50 > TARGET_P50_MS);
  say(missed.length ? `target NOT met: ${missed.map((f) => f.label).join(', ')}` : 'target met');
  if (missed.length) exitCode = 1;
} catch (err) {
  process.stderr.write(`${err.stack ?? err}\n`);
  exitCode = 1;
} finally {
  await tearDownStack({ root, runner, gateway, sandbox, postgres, schemaPrefix, tmp, keep: exitCode !== 0 || keepLogs });
}
process.exit(exitCode);
