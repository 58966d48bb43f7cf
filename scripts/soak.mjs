// pnpm soak [--minutes 30] [--sessions 4] [--seed N] [--drain-seconds 120] [--faults all|none|runner,gateway,sessions,webhooks]
//
// Mixed traffic on the scale-out cluster (scripts/lib/cluster.mjs: sandbox, 2 gateways, 3 runners,
// PostgreSQL, NATS) for a while, with the faults production sees: a webhook receiver that is
// sometimes slow and sometimes down, sessions stopped and started, one runner and one gateway
// killed with SIGKILL and started again. Every write is tracked by its idempotency key, outbox
// id and WhatsApp message id and looked for at the virtual phone it was sent to; every event by
// its webhook id at the receiver, against the events the gateway recorded. Prints RSS and open
// file descriptors of each process every minute and, at the end, sent / delivered / lost /
// duplicated for messages and events. Exits 1 when anything was lost or duplicated, when a
// process grew beyond the bounds below, or when a process died that nobody killed.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { processStats, startCluster } from './lib/cluster.mjs';
import { SoakReceiver } from './lib/soak-receiver.mjs';
import { SoakTraffic } from './lib/soak-traffic.mjs';
import { ensureServices } from './services.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Client } = createRequire(join(root, 'apps/gateway/package.json'))('pg');

// Growth allowed between the first sample after warm-up and the last one, per process
// incarnation sampled at least GROWTH_MIN_SPAN_MS apart. A leak of a socket or a buffer per
// message grows without bound; these leave room for caches, pools and the GC's own rhythm.
const RSS_GROWTH_FACTOR = 1.5;
const RSS_GROWTH_SLACK_MB = 48;
const FD_GROWTH = 40;
const GROWTH_MIN_SPAN_MS = 90_000;
const SAMPLE_MS = 15_000;

const USAGE = 'usage: pnpm soak [--minutes 30] [--sessions 4] [--seed N] [--drain-seconds 120] [--faults all|none|runner,gateway,sessions,webhooks]';
const FAULT_KINDS = ['runner', 'gateway', 'sessions', 'webhooks'];
let args;
try {
  args = parseArgs({
    options: {
      minutes: { type: 'string', default: '30' },
      sessions: { type: 'string', default: '4' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      'drain-seconds': { type: 'string', default: '120' },
      // Some faults or none: tells what each fault costs from what is lost anyway.
      faults: { type: 'string', default: 'all' },
    },
  }).values;
} catch (err) {
  process.stderr.write(`${err.message}\n${USAGE}\n`);
  process.exit(2);
}
const minutes = Number(args.minutes);
const sessionCount = Number(args.sessions);
const seed = Number(args.seed);
const drainMs = Number(args['drain-seconds']) * 1000;
const faultKinds = args.faults === 'all' ? FAULT_KINDS : args.faults === 'none' ? [] : args.faults.split(',').map((f) => f.trim());
if (faultKinds.some((f) => !FAULT_KINDS.includes(f))) {
  process.stderr.write(`--faults: all, none or a comma-separated list of ${FAULT_KINDS.join(', ')}\n${USAGE}\n`);
  process.exit(2);
}
if (!(minutes > 0 && minutes <= 24 * 60) || !Number.isInteger(sessionCount) || sessionCount < 1 || sessionCount > 20 || !Number.isInteger(seed) || !(drainMs >= 0)) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const say = (line) => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const clock = () => {
  const s = Math.floor((Date.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(3)}:${String(s % 60).padStart(2, '0')}`;
};
const log = (line) => say(`[${clock()}] ${line}`);

/** mulberry32: the same seed makes the same choices (timings still differ from run to run). */
function seeded(n) {
  let a = n >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(seed);

await ensureServices();
const receiver = await new SoakReceiver(random).start();
const unexpectedExits = [];
const kills = [];
say(`soak: ${minutes} min, ${sessionCount} sessions, seed ${seed}, faults: ${faultKinds.join(', ') || 'none'}; starting the cluster...`);
const cluster = await startCluster({
  org: 'soak',
  // The default schedule waits 5 minutes after the second failure, longer than a whole CI run:
  // these delays keep retrying through the receiver's outages (at most 20 s) for ~10 minutes.
  gatewayEnv: { WEBHOOK_RETRY_SCHEDULE_MS: [0, 1000, 2000, 4000, 8000, 15000, ...Array(20).fill(30000)].join(',') },
  onExit: (name, how) => {
    unexpectedExits.push(how);
    log(`!! ${how}; it is started again`);
  },
});
let pg;
let finished = false;
const shutdown = async (code) => {
  if (finished) return;
  finished = true;
  await pg?.end().catch(() => undefined);
  await receiver.close().catch(() => undefined);
  await cluster.stop();
  // The processes' logs are what explains a failure; a clean run leaves nothing behind.
  if (code === 0) rmSync(cluster.logDir, { recursive: true, force: true });
  else say(`logs of every process: ${cluster.logDir}`);
  process.exit(code);
};
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

try {
  say(`cluster ${cluster.runId}: gateways ${cluster.gatewayUrls.join(' ')}, sandbox ${cluster.sandboxUrl}, logs ${cluster.logDir}`);
  pg = new Client({ connectionString: withoutSchema(cluster.databases.gateway) });
  await pg.connect();
  const schema = new URL(cluster.databases.gateway).searchParams.get('schema');
  const traffic = new SoakTraffic({ cluster, random, log, receiver });
  await traffic.createWebhook();
  await traffic.linkSessions(sessionCount);
  log(`${sessionCount} sessions linked; mixed traffic for ${minutes} min`);
  for (const note of traffic.notes) log(`note: ${note}`);

  const samples = new Map();
  const sample = () => {
    for (const name of cluster.names()) {
      const pid = cluster.pid(name);
      const stats = pid && processStats(pid);
      if (!stats) continue;
      const key = `${name}#${cluster.starts(name)}`;
      const list = samples.get(key) ?? [];
      list.push({ at: Date.now(), ...stats });
      samples.set(key, list);
    }
  };
  const printStats = () => {
    const parts = cluster.names().map((name) => {
      const last = samples.get(`${name}#${cluster.starts(name)}`)?.at(-1);
      return last ? `${name} ${Math.round(last.rssBytes / 2 ** 20)}MB/${last.fds}fd` : `${name} down`;
    });
    log(`${traffic.progress()} | ${parts.join(' ')}`);
  };

  const endAt = Date.now() + minutes * 60_000;
  const span = minutes * 60_000;
  // The faults, at fixed fractions of the run so that a short CI run has them all too.
  const faults = [
    { at: 0.2, kind: 'runner', what: 'kill -9 runner-2', run: async () => killAndRestart('runner-2') },
    { at: 0.3, kind: 'sessions', what: 'stop and start a session', run: () => traffic.bounceSession(0) },
    { at: 0.45, kind: 'gateway', what: 'kill -9 gateway-1', run: async () => killAndRestart('gateway-1') },
    { at: 0.6, kind: 'sessions', what: 'stop and start a session', run: () => traffic.bounceSession(1) },
    { at: 0.8, kind: 'sessions', what: 'stop and start a session', run: () => traffic.bounceSession(2) },
  ].filter((f) => faultKinds.includes(f.kind));
  async function killAndRestart(name) {
    kills.push({ name, at: Date.now() });
    await cluster.kill(name, 'SIGKILL');
    log(`killed ${name} (SIGKILL) during traffic`);
    // Long enough for the others to notice (NATS requests time out, claims and leases age).
    await sleep(5_000);
    await cluster.restart(name);
    log(`${name} started again`);
  }
  // Receiver moods cycle: fine, slow, fine, down; the down phase is bounded so retries outlast it.
  const moods = !faultKinds.includes('webhooks')
    ? [['ok', 60_000]]
    : [
        ['ok', 40_000],
        ['slow', 20_000],
        ['ok', 30_000],
        ['down', 15_000],
      ];
  const moodLoop = (async () => {
    for (let i = 0; Date.now() < endAt; i++) {
      const [mode, ms] = moods[i % moods.length];
      await receiver.setMode(mode);
      if (mode !== 'ok') log(`webhook receiver ${mode} for ${ms / 1000} s`);
      await sleep(Math.min(ms, Math.max(0, endAt - Date.now())));
    }
    await receiver.setMode('ok');
  })();
  const trafficStart = Date.now();
  const faultLoop = (async () => {
    for (const f of faults) {
      const wait = trafficStart + f.at * span - Date.now();
      if (wait > 0) await sleep(wait);
      log(`fault: ${f.what}`);
      await f.run().catch((err) => log(`!! ${f.what} failed: ${err.message}`));
    }
  })();
  const statsLoop = (async () => {
    let nextPrint = Date.now() + 60_000;
    sample();
    while (Date.now() < endAt) {
      await sleep(Math.min(SAMPLE_MS, Math.max(0, endAt - Date.now())));
      sample();
      if (Date.now() >= nextPrint) {
        printStats();
        nextPrint += 60_000;
      }
    }
  })();
  await traffic.run(endAt);
  await Promise.all([moodLoop, faultLoop, statsLoop]);

  log(`traffic stopped; waiting up to ${drainMs / 1000} s for everything to settle`);
  await traffic.ensureAllConnected();
  const drained = await traffic.drain({ pg, schema, deadline: Date.now() + drainMs });
  log(drained ? 'settled' : `!! not settled after ${drainMs / 1000} s: the figures below include what was still on its way`);
  sample();
  printStats();

  const result = await traffic.result({
    pg,
    schema,
    runnerSchema: new URL(cluster.databases.runner).searchParams.get('schema'),
    gatewayKills: kills.filter((k) => k.name.startsWith('gateway')).map((k) => k.at),
  });
  const growth = judgeGrowth(samples);
  result.processes = growth.lines;
  result.unexpectedExits = unexpectedExits;
  result.seed = seed;
  result.minutes = minutes;
  report(result, growth);
  const failed = result.messages.lost + result.messages.duplicated + result.events.lost + result.events.duplicated + result.inbound.lost + result.inbound.duplicated > 0 || growth.exceeded.length > 0 || unexpectedExits.length > 0;
  say(`SOAK_RESULT ${JSON.stringify(result)}`);
  say(failed ? 'soak: FAILED' : 'soak: ok');
  await shutdown(failed ? 1 : 0);
} catch (err) {
  say(`soak: aborted: ${err.stack ?? err.message}`);
  await shutdown(1);
}

function withoutSchema(url) {
  const u = new URL(url);
  u.searchParams.delete('schema');
  return u.toString();
}

/** Each process incarnation from its first sample after a minute's warm-up to its last one. */
function judgeGrowth(samples) {
  const lines = [];
  const exceeded = [];
  for (const [key, list] of samples) {
    const warm = list.filter((s) => s.at - list[0].at >= 60_000);
    const name = key.split('#')[0];
    const first = warm[0];
    const last = list.at(-1);
    const mb = (b) => Math.round(b / 2 ** 20);
    if (!first || last.at - first.at < GROWTH_MIN_SPAN_MS) {
      lines.push({ process: key, judged: false, rssMb: mb(last.rssBytes), fds: last.fds });
      continue;
    }
    const rssLimit = first.rssBytes * RSS_GROWTH_FACTOR + RSS_GROWTH_SLACK_MB * 2 ** 20;
    const fdLimit = first.fds + FD_GROWTH;
    // The sandbox keeps every message each phone received, by design: shown, not judged.
    const judged = name !== 'sandbox';
    const line = { process: key, judged, rssMbFrom: mb(first.rssBytes), rssMbTo: mb(last.rssBytes), fdsFrom: first.fds, fdsTo: last.fds };
    lines.push(line);
    if (judged && (last.rssBytes > rssLimit || last.fds > fdLimit)) exceeded.push(line);
  }
  return { lines, exceeded };
}

function report(r, growth) {
  say('');
  say(`messages (API writes, looked for at the contact's phone by WhatsApp id):`);
  say(`  sent ${r.messages.sent}  delivered ${r.messages.delivered}  lost ${r.messages.lost} (target 0)  duplicated ${r.messages.duplicated} (target 0)`);
  say(`  by kind: ${Object.entries(r.messages.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  say(`  refused before acceptance: ${Object.entries(r.messages.refused).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}; never answered: ${r.messages.unanswered}`);
  for (const l of r.messages.lostExamples) say(`  lost: ${JSON.stringify(l)}`);
  for (const d of r.messages.duplicatedExamples) say(`  duplicated: ${JSON.stringify(d)}`);
  say(`inbound (sent by the phones, looked for as events at the receiver):`);
  say(`  sent ${r.inbound.sent}  received ${r.inbound.received}  lost ${r.inbound.lost} (target 0)  duplicated ${r.inbound.duplicated} (target 0)`);
  for (const l of r.inbound.lostExamples) say(`  lost: ${JSON.stringify(l)}`);
  for (const d of r.inbound.duplicatedExamples) say(`  duplicated: ${JSON.stringify(d)}`);
  say(`events (recorded by the gateways, looked for at the webhook receiver by webhook id):`);
  say(`  recorded ${r.events.recorded}  delivered ${r.events.delivered}  lost ${r.events.lost} (target 0)  duplicated ${r.events.duplicated} (target 0)`);
  say(`  by type: ${Object.entries(r.events.byType).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  say(`  receiver: ${r.events.requests} requests, ${r.events.answeredTooLate} answered after the gateway had hung up, ${r.events.refusedSignatures} bad signatures; sequence gaps ${r.events.sequenceGaps}`);
  for (const l of r.events.lostExamples) say(`  lost: ${JSON.stringify(l)}`);
  for (const d of r.events.duplicatedExamples) say(`  duplicated: ${JSON.stringify(d)}`);
  say(`  redelivered with the same webhook-id after their gateway was killed (at least once; receivers drop them): ${r.events.redelivered}`);
  for (const d of r.events.redeliveredExamples) say(`  redelivered: ${JSON.stringify(d)}`);
  say(`sessions (lease owner at the end and its fencing epoch, which counts how often the lease was taken):`);
  for (const s of r.sessions) say(`  ${s.name} ${s.id}: ${s.owner ?? 'no lease'}, epoch ${s.epoch ?? '-'}`);
  say(`processes (RSS and open fds, first sample after warm-up -> last; bound x${RSS_GROWTH_FACTOR} + ${RSS_GROWTH_SLACK_MB} MB, +${FD_GROWTH} fds):`);
  for (const l of growth.lines) {
    say(l.rssMbFrom === undefined ? `  ${l.process}: ${l.rssMb} MB, ${l.fds} fds (ran too briefly to judge)` : `  ${l.process}: ${l.rssMbFrom} -> ${l.rssMbTo} MB, ${l.fdsFrom} -> ${l.fdsTo} fds${l.judged ? '' : ' (not judged)'}`);
  }
  for (const l of growth.exceeded) say(`  !! ${l.process} grew beyond the bound`);
  for (const e of unexpectedExits) say(`  !! ${e}`);
  say(`kills: ${kills.map((k) => `${k.name} killed at ${Math.round((k.at - t0) / 1000)} s`).join(', ') || 'none'}`);
}
