// Webhook delivery throughput and event-to-delivery latency, next to a bare HTTP client posting
// the same signed bodies to the same receiver in the same run:
//   node bench/webhooks-delivery.mjs [--events 20000] [--sessions 100] [--rate 2000] [--seconds 5] [--postgres postgres://root@127.0.0.1:5432/test]
// The gateway (events + delivery worker) runs in this process on SQLite by default; the
// receiver is its own process and times the deliveries where they land. Phase 1 measures
// publishing and delivery apart: a gateway without its delivery worker (WEBHOOK_WORKER=false)
// records the burst, then a gateway with one starts on the same database and delivers the
// backlog; the delivery rate runs from the first delivery's arrival to the last's. Phase 2
// publishes at a steady offered rate and reports the rates achieved (published, delivered) and
// event-to-delivery latency p50/p99. Issue 16's targets: burst >= 50% of the bare client on both
// databases; p99 <= 100 ms at a steady 2,000 events/s on PostgreSQL.
import { createRequire } from 'node:module';
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './lib/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const next = argv[i + 1];
  return next === undefined || next.startsWith('--') ? true : Number.isNaN(Number(next)) ? next : Number(next);
};
const EVENTS = opt('events', 20000);
const SESSIONS = opt('sessions', 100);
const RATE = opt('rate', 2000);
const SECONDS = opt('seconds', 5);
const CONCURRENCY = opt('concurrency', 128);
const pg = opt('postgres', false);
const databaseUrl = pg ? `${pg === true ? 'postgres://root@127.0.0.1:5432/test' : pg}?schema=bench_${randomBytes(3).toString('hex')}` : `sqlite:${join(mkdtempSync(join(tmpdir(), 'wh-bench-')), 'gateway.db')}`;

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const receiver = await startServer(join(here, 'lib/webhook-receiver.mjs'));
const receiverUrl = `http://127.0.0.1:${receiver.port}`;
const stats = async () => (await fetch(`${receiverUrl}/stats`)).json();
const reset = () => fetch(`${receiverUrl}/reset`, { method: 'POST' });

function event(org, i) {
  return {
    orgId: org,
    sessionId: `s${i % SESSIONS}`,
    type: 'message.received',
    occurredAt: Date.now(),
    data: {
      messageId: `3EB0${i.toString(16).padStart(16, '0')}`,
      chat: { jid: '491701234567@s.whatsapp.net', lid: '123456789@lid' },
      sender: { jid: '491701234567@s.whatsapp.net', lid: '123456789@lid' },
      fromMe: false,
      timestamp: Date.now(),
      type: 'text',
      content: { text: `message number ${i}` },
    },
  };
}

// --- baseline: a bare keep-alive client posting the same signed bodies ---
async function bare() {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const key = randomBytes(32);
  const latencies = [];
  let next = 0;
  const started = Date.now();
  async function one(i) {
    const body = JSON.stringify({ id: `E${i}`, type: 'message.received', timestamp: Date.now(), orgId: 'bench', sessionId: `s${i % SESSIONS}`, sequence: i, data: event('bench', i).data });
    const ts = Math.floor(Date.now() / 1000);
    const sig = 'v1,' + createHmac('sha256', key).update(`E${i}.${ts}.${body}`).digest('base64');
    const t0 = Date.now();
    await new Promise((resolve, reject) => {
      const req = request(`${receiverUrl}/hook`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'webhook-id': `E${i}`, 'webhook-timestamp': String(ts), 'webhook-signature': sig, 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
    latencies.push(Date.now() - t0);
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < EVENTS) await one(next++);
  }));
  const seconds = (Date.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rate: EVENTS / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

// --- the gateway: events recorded, fanned out, claimed, signed and delivered ---
process.env.LOG_LEVEL = 'silent';
const { createGatewayApp } = require('../apps/gateway/dist/app.factory.js');
const { loadGatewayConfig } = require('../apps/gateway/dist/config/gateway.config.js');
const { EventsService } = require('../apps/gateway/dist/events/events.service.js');
const { WebhooksService } = require('../apps/gateway/dist/webhooks/webhooks.service.js');

const gatewayApp = (worker) =>
  createGatewayApp(
    loadGatewayConfig({
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'silent',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_CONCURRENCY: String(CONCURRENCY),
      WEBHOOK_POLL_INTERVAL_MS: '500',
      WEBHOOK_WORKER: String(worker),
    }),
    { listenForRunnerEvents: false },
  );
const org = 'bench-org';

// Polls the count only: the full stats (every latency) would cost the gateway, which runs in this
// process, a parse of a growing array every 20 ms while it is being measured.
async function waitForCount(n, timeoutMs = 300_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { count } = await (await fetch(`${receiverUrl}/count`)).json();
    if (count >= n) return stats();
    if (Date.now() > until) throw new Error(`only ${count} of ${n} deliveries arrived`);
    await sleep(20);
  }
}
/** Deliveries per second between the first arrival and the last. */
const arrivalRate = (s) => (s.count > 1 && s.last > s.first ? (s.count - 1) / ((s.last - s.first) / 1000) : NaN);

// Phase 1a: publishing only. The fan-out writes each event's delivery row; nothing is sent yet.
process.stderr.write(`  gateway on ${pg ? 'PostgreSQL' : 'SQLite'}: publishing a burst of ${EVENTS} events over ${SESSIONS} sessions (no delivery worker)...\n`);
let app = await gatewayApp(false);
await app.get(WebhooksService).create(org, { url: `${receiverUrl}/hook`, events: ['*'] });
let events = app.get(EventsService);
let started = Date.now();
for (let i = 0; i < EVENTS; i += 100) await events.publish(Array.from({ length: Math.min(100, EVENTS - i) }, (_, k) => event(org, i + k)));
const publishRate = EVENTS / ((Date.now() - started) / 1000);
await app.close();

// Phase 1b: delivery only. The worker claims the backlog as soon as the app is up.
process.stderr.write(`  gateway: delivering the backlog of ${EVENTS}...\n`);
await reset();
app = await gatewayApp(true);
events = app.get(EventsService);
const burst = await waitForCount(EVENTS);
const deliveryRate = arrivalRate(burst);

// Phase 2: a steady offered rate, published in ticks of 10 ms by this process while the worker delivers.
process.stderr.write(`  gateway: offering ${RATE} events/s for ${SECONDS}s...\n`);
await reset();
const total = RATE * SECONDS;
let sent = 0;
started = Date.now();
while (sent < total) {
  const due = Math.floor(((Date.now() - started) / 1000) * RATE);
  if (due > sent) {
    const n = Math.min(due - sent, total - sent);
    await events.publish(Array.from({ length: n }, (_, k) => event(org, EVENTS + sent + k)));
    sent += n;
  }
  await sleep(10);
}
const steadyPublishRate = total / ((Date.now() - started) / 1000);
const steady = await waitForCount(total);
const steadyDeliveryRate = arrivalRate(steady);
const lat = steady.latencies.sort((a, b) => a - b);
await app.close();
if (pg) {
  const { Client } = require('../apps/gateway/node_modules/pg');
  const schema = new URL(databaseUrl).searchParams.get('schema');
  const client = new Client({ connectionString: databaseUrl.split('?')[0] });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

process.stderr.write(`  bare HTTP client: ${EVENTS} signed POSTs at ${CONCURRENCY} in flight...\n`);
await reset();
const base = await bare();
await receiver.stop();

const db = pg ? 'PostgreSQL' : 'SQLite';
const pad = (s, n) => String(s).padEnd(n);
const ratio = (rate) => `${((rate / base.rate) * 100).toFixed(1)}%`;
console.log(`\n${pad('', 58)}${pad('per s', 10)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}ratio`);
console.log(`${pad('bare node:http client, same bodies + signing', 58)}${pad(Math.round(base.rate), 10)}${pad(base.p50, 8)}${pad(base.p99, 8)}100%`);
console.log(`${pad(`burst: events published (${db}, no delivery)`, 58)}${pad(Math.round(publishRate), 10)}`);
console.log(`${pad(`burst: backlog delivered (${db})`, 58)}${pad(Math.round(deliveryRate), 10)}${pad('', 8)}${pad('', 8)}${ratio(deliveryRate)}`);
console.log(`${pad(`steady, ${RATE}/s offered: events published`, 58)}${pad(Math.round(steadyPublishRate), 10)}`);
console.log(
  `${pad(`steady, ${RATE}/s offered: delivered, event -> delivery`, 58)}${pad(Math.round(steadyDeliveryRate), 10)}${pad(pct(lat, 50), 8)}${pad(pct(lat, 99), 8)}${ratio(steadyDeliveryRate)}`,
);
console.log(`\n(${EVENTS} events over ${SESSIONS} sessions, concurrency ${CONCURRENCY}; rates are achieved rates, deliveries timed at the receiver)`);
const burstOk = deliveryRate >= 0.5 * base.rate;
console.log(`burst delivery: ${ratio(deliveryRate)} of the bare client (target >= 50%): ${burstOk ? 'met' : 'NOT met'}`);
const steadyOk = pct(lat, 99) <= 100 && steadyPublishRate >= 0.95 * RATE && steadyDeliveryRate >= 0.95 * RATE;
console.log(
  `steady: p99 ${pct(lat, 99)} ms at ${Math.round(steadyDeliveryRate)} deliveries/s achieved (target on PostgreSQL: p99 <= 100 ms at 2000/s)${pg && RATE >= 2000 ? `: ${steadyOk ? 'met' : 'NOT met'}` : ''}`,
);
process.exit(0);
