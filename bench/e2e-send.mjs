// Sends that reach WhatsApp, measured end to end against the sandbox in its own process:
//   node bench/e2e-send.mjs [--sessions 20] [--contacts 5] [--duration 20] [--rate 0]
//                           [--concurrency 64] [--poll-ms 1000] [--drain-timeout 120]
//                           [--postgres] [--nats] [--keep-logs] [--profile DIR]
// One gateway and one session runner (SQLite files in a temp dir and the TCP transport by
// default; --postgres: PostgreSQL at POSTGRES_URL in two fresh schemas, dropped at the end;
// --nats: TRANSPORT=nats at NATS_URL under a NATS_SUBJECT_PREFIX of its own), pacing
// (SEND_MIN_INTERVAL_MS, SEND_JITTER_MS) and rate limits off. It pairs `--sessions` sessions
// through the REST API and creates `--contacts` virtual phones: sessions × contacts chats.
//
// The baseline, measured in the same run: sync sends through the whole stack with one request in
// flight per chat (sessions × contacts loops, each `POST /sessions/{id}/messages` without `Prefer`,
// which answers once the runner handed the message to WhatsApp) for `--duration` seconds. A bare
// Baileys socket per account is not available outside the runner, and the async answer (202) or
// a POST echo says nothing about WhatsApp; sync sends with nothing queued are what the stack hands
// to WhatsApp when no outbox backlog builds up, so that is what the outbox must keep up with.
//
// The main figure: async sends (`Prefer: respond-async`, 202 once in the outbox), each with its
// own `Idempotency-Key`, offered round-robin over all chats for `--duration` seconds, as fast as
// `--concurrency` requests in flight allow (`--rate 0`) or at `--rate` messages/s. Every text
// carries a token, and the sandbox's control API (`GET /phones/{phone}/messages`, what the
// contacts' phones received, i.e. what WhatsApp saw) is polled every `--poll-ms`: handed over/s
// while offering, then the drain (until every accepted message arrived, at most
// `--drain-timeout` s), lost (accepted, never received) and duplicated (a token received more
// than once, or one WhatsApp id twice on one phone). Each message's arrival is the time the
// sandbox handed it to the phone (`receivedAt`, milliseconds on the same host's clock), so the
// steady rate, the drain and the latency accepted→received are exact; a sandbox that gives no such
// time falls back to the middle of the poll interval the message first showed up in (±poll-ms/2).
// CPU per accepted message of the gateway, the runner and the sandbox (and of a PostgreSQL server
// on this machine with --postgres), and how busy the whole machine was: where the time goes when
// the rate falls short.
// Exits 1 when anything was lost or duplicated, or on an error.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort, machineCpuSeconds, postgresCpuSeconds, spawnApp } from './lib/processes.mjs';
import { POSTGRES_URL, createApiKey, tearDownStack, databaseUrls, postgresCaveat, startSandbox, stopOnSignals, transportEnv, until, wholeOption } from './lib/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback, min = 1) => wholeOption(argv, name, fallback, min);
const args = {
  sessions: option('sessions', 20),
  contacts: option('contacts', 5),
  duration: option('duration', 20),
  rate: option('rate', 0, 0),
  concurrency: option('concurrency', 64),
  pollMs: option('poll-ms', 1000, 100),
  drainTimeout: option('drain-timeout', 120),
};
const postgres = argv.includes('--postgres');
const nats = argv.includes('--nats');
const keepLogs = argv.includes('--keep-logs');
const TARGET = { handedOverPerS: 500, sessions: 20 };
const tmp = mkdtempSync(join(tmpdir(), 'wa-bench-e2e-'));
const runId = randomBytes(4).toString('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => process.stdout.write(`${line}\n`);
const progress = (line) => process.stderr.write(`  ${line}\n`);
const now = () => performance.now();

const schemaOf = (app) => `bench_e2e_${runId}_${app}`;
const databaseUrl = databaseUrls({ postgres, tmp, schemaPrefix: `bench_e2e_${runId}` });
const transport = await transportEnv({ nats, prefix: `bench-e2e-${runId}` });
const sandbox = await startSandbox(root);
const control = sandbox.control;

const gatewayPort = await freePort();
const common = { ...process.env, ...transport, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
const runnerEnv = {
  ...common,
  DATABASE_URL: databaseUrl('runner'),
  RUNNER_ID: `bench-e2e-${runId}`,
  WA_WS_URL: sandbox.wsUrl,
  WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey,
};
const gatewayEnv = {
  ...common,
  DATABASE_URL: databaseUrl('gateway'),
  PORT: String(gatewayPort),
  HOST: '127.0.0.1',
  RATE_LIMIT_PER_API_KEY: 'off',
  RATE_LIMIT_PER_ORG: 'off',
  // Pacing off: the figure is what the stack can hand over, not what a cautious account should.
  SEND_MIN_INTERVAL_MS: '0',
  SEND_JITTER_MS: '0',
};
let key;
try {
  key = createApiKey(root, gatewayEnv, 'e2e-send');
} catch (err) {
  await sandbox.stop();
  throw err;
}

// --profile DIR: CPU profiles of the runner and the gateway, written when they stop.
const profileDir = argv.includes('--profile') ? argv[argv.indexOf('--profile') + 1] : undefined;
const profileArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...(process.env.BENCH_PRELOAD ? ['--require', process.env.BENCH_PRELOAD] : [])] : [];
const runner = spawnApp('session-runner', join(root, 'apps/session-runner/dist/main.js'), runnerEnv, join(tmp, 'runner.log'), profileArgv);
const gateway = spawnApp('gateway', join(root, 'apps/gateway/dist/main.js'), gatewayEnv, join(tmp, 'gateway.log'), profileArgv);
stopOnSignals(() => [runner, gateway, sandbox], () => `logs in ${tmp}${postgres ? `; schemas ${schemaOf('gateway')} and ${schemaOf('runner')} left in PostgreSQL` : ''}`);
const api = `http://127.0.0.1:${gatewayPort}/api/v1`;
const call = async (method, path, body, extraHeaders = {}) => {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extraHeaders },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const route = `${method} ${path.replace(/\/sessions\/[^/?]+/, '/sessions/:id').replace(/\?.*/, '')}`;
    throw Object.assign(new Error(`${method} ${path} answered ${res.status} ${text.slice(0, 300)}`), { code: `${route} ${res.status} ${json?.error?.code ?? ''}`.trim() });
  }
  return { status: res.status, json };
};

/** Create, start, read the QR code, let the sandbox phone scan it, and wait for `connected`. */
async function pairOne(i) {
  const phone = String(15_550_000_000 + i);
  await control('/phones', { phone, name: `Sender ${i}` });
  const { json: session } = await call('POST', '/sessions', { name: `e2e-${i}` });
  await call('POST', `/sessions/${session.id}/start`, {});
  const { json: qr } = await call('GET', `/sessions/${session.id}/qr?waitMs=30000`);
  await control(`/phones/${phone}/scan`, { qr: qr.qr });
  await until(`session ${i} connected`, async () => (await call('GET', `/sessions/${session.id}`)).json.status === 'connected', 90_000, 250);
  return session.id;
}

async function pairAll(n, concurrency) {
  const ids = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      ids[i] = await pairOne(i);
      progress(`session ${i + 1}/${n} connected`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return ids;
}

// --- What the contacts' phones received: a token per text, first arrival per token. ---
// Texts are `e2e <runId> <phase><seq>`; phase w = warm-up, s = sync baseline, a = async.
const TOKEN = new RegExp(`^e2e ${runId} ([wsa]\\d+)$`);
const arrivals = new Map(); // token → first arrival (performance.now() scale)
const receipts = new Map(); // token → times received
const idsSeen = new Map(); // `${phone} ${waId}` → times
const counts = { w: 0, s: 0, a: 0 };
const contactPhones = [];
const offsets = new Map(); // phone → records already read (the list only grows)
let lastPoll = now();
let polling = true;
let pollError;

/** Arrivals timed by the polls (a sandbox that gives no hand-over time): figures then carry the poll interval's error. */
let pollTimedArrivals = 0;

async function pollOnce() {
  const requested = now();
  const lists = await Promise.all(contactPhones.map(async (phone) => [phone, await control(`/phones/${phone}/messages`)]));
  // Arrived after the previous poll was asked and before this one was: the middle of the two.
  const at = (lastPoll + requested) / 2;
  lastPoll = requested;
  for (const [phone, list] of lists) {
    for (const record of list.slice(offsets.get(phone) ?? 0)) {
      if (record.fromOwnDevice) continue;
      const idKey = `${phone} ${record.id}`;
      idsSeen.set(idKey, (idsSeen.get(idKey) ?? 0) + 1);
      const token = TOKEN.exec(record.text ?? '')?.[1];
      if (!token) continue;
      const times = (receipts.get(token) ?? 0) + 1;
      receipts.set(token, times);
      if (times === 1) {
        // The sandbox's own time of the hand-over, on this clock; a poll's midpoint if it gives none.
        if (typeof record.receivedAt === 'number') arrivals.set(token, record.receivedAt - performance.timeOrigin);
        else {
          arrivals.set(token, at);
          pollTimedArrivals++;
        }
        counts[token[0]]++;
      }
    }
    offsets.set(phone, list.length);
  }
}

async function pollLoop() {
  while (polling) {
    const started = now();
    await pollOnce().catch((err) => (pollError = err));
    await sleep(Math.max(0, args.pollMs - (now() - started)));
  }
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const send = (sessionId, chat, token, async) =>
  call(
    'POST',
    `/sessions/${sessionId}/messages`,
    { chat, type: 'text', text: `e2e ${runId} ${token}` },
    { 'idempotency-key': `e2e-${runId}-${token}`, ...(async ? { prefer: 'respond-async' } : {}) },
  );

const errors = new Map();
const noteError = (phase, err) => {
  const reason = `${phase}: ${err.code ?? err.message}`;
  errors.set(reason, (errors.get(reason) ?? 0) + 1);
};

/** Waits until `expected()` tokens of `phase` arrived, or the deadline; reports progress. */
async function drain(phase, expected, timeoutMs, label) {
  const started = now();
  let lastReport = started;
  while (counts[phase] < expected() && now() - started < timeoutMs) {
    if (runner.exit || gateway.exit) throw new Error(runner.exit ?? gateway.exit);
    if (pollError) throw pollError;
    await sleep(100);
    if (now() - lastReport > 5_000) {
      lastReport = now();
      progress(`${label}: ${counts[phase]}/${expected()} received, ${fmt((now() - started) / 1000)} s`);
    }
  }
  return { done: counts[phase] >= expected(), seconds: (now() - started) / 1000 };
}

/** Lines at level error or above in an app's JSON log, with the most frequent message. */
function logErrors(app) {
  const byMessage = new Map();
  for (const line of readFileSync(join(tmp, `${app}.log`), 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line);
      if (entry.level < 50) continue;
      const message = `${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`.slice(0, 80);
      byMessage.set(message, (byMessage.get(message) ?? 0) + 1);
    } catch {}
  }
  const total = [...byMessage.values()].reduce((a, b) => a + b, 0);
  const top = [...byMessage].sort((a, b) => b[1] - a[1])[0];
  return total ? `${total} (most: ${top[1]} × "${top[0]}")` : '0';
}

const rows = [];
const row = (figure, value, target = '') => rows.push({ figure, value, target });
let exitCode = 0;
try {
  await until('the gateway to be ready (database and runner)', async () => (await fetch(`http://127.0.0.1:${gatewayPort}/health/ready`)).status === 200, 120_000);
  for (let j = 0; j < args.contacts; j++) {
    const phone = String(15_559_000_000 + j);
    await control('/phones', { phone, name: `Contact ${j}` });
    contactPhones.push(phone);
  }
  say(`pairing ${args.sessions} sessions, creating ${args.contacts} contacts (${args.sessions * args.contacts} chats)...`);
  const pairStarted = now();
  const sessionIds = await pairAll(args.sessions, 10);
  say(`all ${args.sessions} sessions connected after ${fmt((now() - pairStarted) / 1000, 1)} s`);
  const chats = sessionIds.flatMap((sessionId) => contactPhones.map((phone) => ({ sessionId, chat: `${phone}@s.whatsapp.net` })));
  void pollLoop();

  // Warm-up, not measured: the first message of each chat starts its Signal session (pre-key
  // fetch), which neither phase should pay for the other.
  say(`warm-up: one sync send per chat (${chats.length})...`);
  let seq = 0;
  await Promise.all(chats.map(({ sessionId, chat }) => send(sessionId, chat, `w${seq++}`, false).catch((err) => noteError('warm-up', err))));
  await drain('w', () => chats.length, 30_000, 'warm-up');

  // --- Baseline: sync, one request in flight per chat. ---
  say(`baseline: sync sends, one in flight per chat (${chats.length} loops), ${args.duration} s...`);
  const syncLatencies = [];
  let syncSent = 0;
  let syncNotSent = 0;
  let syncSeq = 0;
  let syncErrors = 0;
  let syncSeconds;
  {
    const started = now();
    const end = started + args.duration * 1000;
    const reporter = setInterval(() => progress(`baseline: ${syncSent} sent, ${fmt(syncSent / ((now() - started) / 1000))}/s, ${counts.s} received`), 5_000);
    await Promise.all(
      chats.map(async ({ sessionId, chat }) => {
        while (now() < end) {
          const t0 = now();
          try {
            const { json } = await send(sessionId, chat, `s${syncSeq++}`, false);
            if (json?.status === 'sent') {
              syncSent++;
              syncLatencies.push(now() - t0);
            } else syncNotSent++;
          } catch (err) {
            noteError('sync', err);
            syncErrors++;
            await sleep(100);
          }
        }
      }),
    );
    clearInterval(reporter);
    syncSeconds = (now() - started) / 1000;
  }
  const baselineRate = syncSent / syncSeconds;
  syncLatencies.sort((a, b) => a - b);
  // The async phase starts with nothing of the baseline on the way.
  const syncDrain = await drain('s', () => syncSeq - syncErrors, 30_000, 'baseline drain');

  // --- Main figure: async sends offered for --duration s, then the drain. ---
  const accepted = new Map(); // token → time the 202 came back
  let offered = 0;
  let inFlight = 0;
  // What each part costs: the three processes, a PostgreSQL server on this machine (its backends
  // are the only other thing that grows with the messages), and the machine as a whole.
  const cpuNow = () => ({
    gateway: cpuSeconds(gateway.pid),
    runner: cpuSeconds(runner.pid),
    sandbox: cpuSeconds(sandbox.pid),
    postgres: postgres ? postgresCpuSeconds() : undefined,
    machine: machineCpuSeconds(),
  });
  const cpuSince = (before) => {
    const after = cpuNow();
    return {
      gateway: after.gateway - before.gateway,
      runner: after.runner - before.runner,
      sandbox: after.sandbox - before.sandbox,
      postgres: after.postgres !== undefined && before.postgres !== undefined ? after.postgres - before.postgres : undefined,
      machineBusy: after.machine.busy - before.machine.busy,
      machineTotal: after.machine.total - before.machine.total,
    };
  };
  const cpuBefore = cpuNow();
  const loadBefore = loadavg()[0];
  say(`async: Prefer: respond-async, ${args.rate ? `${args.rate} messages/s offered` : `as fast as ${args.concurrency} in flight allow`}, ${args.duration} s...`);
  const offerStarted = now();
  const offerEnd = offerStarted + args.duration * 1000;
  const series = [];
  const reporter = setInterval(() => {
    const t = (now() - offerStarted) / 1000;
    const prev = series.at(-1) ?? { t: 0, accepted: 0, received: 0 };
    const sample = { t, accepted: accepted.size, received: counts.a };
    series.push(sample);
    progress(
      `async ${fmt(t)} s: ${offered} offered, ${sample.accepted} accepted (${fmt((sample.accepted - prev.accepted) / (t - prev.t))}/s), ` +
        `${sample.received} received (${fmt((sample.received - prev.received) / (t - prev.t))}/s), ${sample.accepted - sample.received} on the way`,
    );
  }, 5_000);
  const offerOne = async () => {
    const i = offered++;
    const { sessionId, chat } = chats[i % chats.length];
    const token = `a${i}`;
    inFlight++;
    try {
      const { status } = await send(sessionId, chat, token, true);
      if (status === 202) accepted.set(token, now());
      else noteError('async', { message: `answered ${status}, not 202` });
    } catch (err) {
      noteError('async', err);
    } finally {
      inFlight--;
    }
  };
  let behind = 0;
  if (args.rate === 0) {
    await Promise.all(
      Array.from({ length: args.concurrency }, async () => {
        while (now() < offerEnd) await offerOne();
      }),
    );
  } else {
    // Open loop: what is due by now is offered, unless 1,000 requests are already waiting.
    const pending = new Set();
    while (now() < offerEnd) {
      const due = Math.floor(((now() - offerStarted) / 1000) * args.rate);
      while (offered < due) {
        if (inFlight >= 1000) {
          behind += due - offered;
          offered = due;
          break;
        }
        const p = offerOne();
        pending.add(p);
        void p.then(() => pending.delete(p));
      }
      await sleep(5);
    }
    await Promise.all(pending);
  }
  const offerSeconds = (now() - offerStarted) / 1000;
  const cpuOffer = cpuSince(cpuBefore);
  say(`async: offering stopped; draining (at most ${args.drainTimeout} s)...`);
  const acceptedTokens = () => [...accepted.keys()].filter((t) => arrivals.has(t)).length;
  const drained = await drain('a', () => accepted.size, args.drainTimeout * 1000, 'async drain');
  clearInterval(reporter);
  // CPU time per accepted message over offering + drain: what each message costs each process,
  // a figure that machine load (other work competing for the cores) changes far less than rates.
  const cpuAll = cpuSince(cpuBefore);
  // One more poll: a late duplicate would otherwise go unseen.
  await sleep(args.pollMs);
  polling = false;
  await pollOnce().catch((err) => (pollError = err));
  const loadAfter = loadavg()[0];
  if (pollError) throw pollError;

  const lost = [...accepted.keys()].filter((t) => !arrivals.has(t));
  const unaccepted = [...arrivals.keys()].filter((t) => t[0] === 'a' && !accepted.has(t)).length;
  const dupTokens = [...receipts].filter(([t, n]) => t[0] === 'a' && n > 1).length;
  const dupIds = [...idsSeen.values()].filter((n) => n > 1).length;
  const syncDupTokens = [...receipts].filter(([t, n]) => t[0] !== 'a' && n > 1).length;
  const latencies = [...accepted].filter(([t]) => arrivals.has(t)).map(([t, at]) => Math.max(0, arrivals.get(t) - at)).sort((a, b) => a - b);
  const acceptedRate = accepted.size / offerSeconds;
  // Steady state: the hand-overs from 4.5 s into the offering (the pipeline has filled) to its end,
  // by the time each one happened.
  const offerEndAt = offerStarted + offerSeconds * 1000;
  const steadyFrom = offerStarted + Math.min(4.5, offerSeconds / 2) * 1000;
  const asyncArrivals = [...arrivals].filter(([t]) => t[0] === 'a').map(([, at]) => at);
  const steady = asyncArrivals.filter((at) => at >= steadyFrom && at <= offerEndAt).length / ((offerEndAt - steadyFrom) / 1000);
  const receivedWhileOffering = asyncArrivals.filter((at) => at <= offerEndAt).length;
  // Offering + drain: to the last hand-over (the drain's own end is known only to a poll); a
  // reduce, as a spread of every arrival overflows the stack in long runs.
  const lastArrival = asyncArrivals.reduce((a, b) => Math.max(a, b), offerStarted);
  const totalSeconds = Math.max(offerSeconds, (lastArrival - offerStarted) / 1000);
  const timing = pollTimedArrivals ? `±${args.pollMs / 2} ms` : "the sandbox's hand-over times";
  const cores = (s) => `${fmt((s / offerSeconds) * 100)}%`;

  row('baseline: sync sends handed to WhatsApp', `${fmt(baselineRate, 1)} msgs/s (${syncSent} in ${fmt(syncSeconds, 1)} s, ${chats.length} in flight; p50 ${fmt(percentile(syncLatencies, 50))} ms, p99 ${fmt(percentile(syncLatencies, 99))} ms)`);
  row('baseline: answered not sent (sync wait timed out)', String(syncNotSent));
  row('baseline: received by the contacts', `${counts.s}/${syncSeq}${syncDrain.done ? '' : ' (not all within 30 s)'}`);
  row('async: offered', `${offered} in ${fmt(offerSeconds, 1)} s${behind ? ` (${behind} skipped: 1,000 in flight)` : ''}`);
  row('async: accepted (202)', `${fmt(acceptedRate, 1)} msgs/s (${accepted.size})`);
  row('async: handed over while offering (steady state)', `${fmt(steady, 1)} msgs/s (${receivedWhileOffering} received while offering)`, `>= ${TARGET.handedOverPerS} msgs/s with ${TARGET.sessions} sessions`);
  row('async: handed over / baseline', `${fmt((steady / baselineRate) * 100, 0)}%`);
  row('async: handed over, offering + drain', `${fmt(acceptedTokens() / totalSeconds, 1)} msgs/s over ${fmt(totalSeconds, 1)} s`);
  row('async: drain after offering stopped', drained.done ? `${fmt(Math.max(0, totalSeconds - offerSeconds), 2)} s` : `not within ${args.drainTimeout} s`);
  row('async: latency accepted → received (p50 / p99 / max)', `${fmt(percentile(latencies, 50))} / ${fmt(percentile(latencies, 99))} / ${fmt(latencies.at(-1))} ms (${timing})`);
  row('async: lost (accepted, not received by the end of the drain)', String(lost.length), '0');
  row('async: duplicated (token / WhatsApp id twice)', `${dupTokens} / ${dupIds}`, '0');
  row('async: received without a 202 (request failed)', String(unaccepted));
  row('errors', [...errors].map(([r, n]) => `${n} × ${r}`).join('; ') || 'none');
  row('error lines logged (gateway / runner)', `${logErrors('gateway')} / ${logErrors('runner')}`, '0');
  const pg = cpuAll.postgres !== undefined;
  row(
    `CPU while offering (gateway / runner / sandbox${pg ? ' / PostgreSQL' : ''})`,
    `${cores(cpuOffer.gateway)} / ${cores(cpuOffer.runner)} / ${cores(cpuOffer.sandbox)}${pg ? ` / ${cores(cpuOffer.postgres)}` : ''} of a core`,
  );
  const perMessage = (s) => (accepted.size ? fmt((s * 1000) / accepted.size, 2) : '-');
  row(
    `CPU ms per message, offering + drain (gw/runner/sandbox${pg ? '/PG' : ''})`,
    `${perMessage(cpuAll.gateway)} / ${perMessage(cpuAll.runner)} / ${perMessage(cpuAll.sandbox)}${pg ? ` / ${perMessage(cpuAll.postgres)}` : ''}`,
  );
  // Everything, the benchmark's own process and whatever else runs here included: how close the machine was to its limit.
  row(
    'machine: busy while offering; CPU ms per message (all)',
    `${fmt((cpuOffer.machineBusy / cpuOffer.machineTotal) * 100)}% of ${availableParallelism()} cores; ${perMessage(cpuAll.machineBusy)} ms`,
  );

  say('');
  const pad = (s, n) => String(s).padEnd(n);
  say(`${pad('figure', 62)}${pad('value', 84)}target`);
  for (const r of rows) say(`${pad(r.figure, 62)}${pad(r.value, 84)}${r.target}`);
  say(
    `\n${args.sessions} sessions × ${args.contacts} contacts, ${postgres ? 'PostgreSQL' : 'SQLite'} + ${nats ? 'NATS' : 'TCP'}, Node ${process.version}, ` +
      `load average ${fmt(loadBefore, 1)} before the async phase, ${fmt(loadAfter, 1)} after`,
  );
  const caveat = postgres ? await postgresCaveat(root) : '';
  if (caveat) say(caveat);
  if (lost.length || dupTokens || dupIds || syncDupTokens) {
    say(`FAILED: ${lost.length} lost, ${dupTokens + syncDupTokens} tokens and ${dupIds} WhatsApp ids received twice`);
    if (lost.length) progress(`lost, first few: ${lost.slice(0, 10).join(' ')}`);
    exitCode = 1;
  } else say(steady >= TARGET.handedOverPerS ? 'target met' : 'nothing lost or duplicated; target NOT met');
} catch (err) {
  process.stderr.write(`${err.stack ?? err}\n`);
  exitCode = 1;
} finally {
  polling = false;
  await tearDownStack({ root, runner, gateway, sandbox, postgres, schemaPrefix: `bench_e2e_${runId}`, tmp, keep: exitCode !== 0 || keepLogs });
}
process.exit(exitCode);
