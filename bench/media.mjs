// Media throughput through the whole stack, next to the bare media host, in one run:
//   node bench/media.mjs [--mb 64] [--postgres] [--nats] [--keep-logs]
// One gateway and one session runner (SQLite files in a temp dir and TCP by default; --postgres,
// --nats as in the other full-stack benches) against the sandbox in its own process, whose HTTPS
// media server the runner trusts through NODE_EXTRA_CA_CERTS.
//
// - baseline: a bare HTTPS upload of `--mb` MB to the sandbox media server (auth from its control
//   API, as media_conn hands it out) and the download of it, from this process;
// - outgoing: a sync `POST /sessions/{id}/messages` of a video by `url` (served by this process):
//   the runner streams it to disk, Baileys encrypts and uploads it; timed until the contact's
//   virtual phone has downloaded, verified and decrypted it;
// - incoming: a video of `--mb` MB sent by a virtual phone (encrypted and uploaded by the
//   sandbox), then `GET .../messages/{mid}/media` timed from request to last byte (the runner
//   downloads, verifies and decrypts it on this first request, MEDIA_DOWNLOAD=request, and the
//   gateway streams it from the runner in 512 KiB RPC chunks).
// For each direction: MB/s and the runner's peak RSS growth during the transfer (VmHWM, /proc).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnApp } from './lib/processes.mjs';
import { createApiKey, databaseUrls, startSandbox, stopOnSignals, tearDownStack, transportEnv, until, wholeOption } from './lib/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const mb = wholeOption(argv, 'mb', 64);
const postgres = argv.includes('--postgres');
const nats = argv.includes('--nats');
const keep = argv.includes('--keep-logs');
const size = mb * 1024 * 1024;
const tmp = mkdtempSync(join(tmpdir(), 'wa-bench-media-'));
const runId = randomBytes(4).toString('hex');
const schemaPrefix = `bench_media_${runId}`;
const say = (line) => process.stdout.write(`${line}\n`);
const progress = (line) => process.stderr.write(`  ${line}\n`);
const MiB = 1024 * 1024;
const rate = (bytes, ms) => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MB/s`;

function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function https(url, { method = 'GET', body, ca }) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, ca }, (res) => {
      let bytes = 0;
      const chunks = [];
      res.on('data', (c) => {
        bytes += c.length;
        if (method !== 'GET') chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode, bytes, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const data = randomBytes(size);
const files = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(size) });
  res.end(data);
});
await new Promise((r) => files.listen(0, '127.0.0.1', r));
const fileUrl = `http://127.0.0.1:${files.address().port}/big.mp4`;

const sandbox = await startSandbox(root);
const ca = readFileSync(sandbox.mediaCaFile, 'utf8');
const databaseUrl = databaseUrls({ postgres, tmp, schemaPrefix });
const transport = await transportEnv({ nats, prefix: `bench-media-${runId}` });
const gatewayPort = await freePort();
const media = { MEDIA_ALLOWED_CIDRS: '127.0.0.0/8', MEDIA_MAX_BYTES: String(Math.min(100 * MiB, size + MiB)) };
const common = { ...process.env, ...transport, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
const runnerEnv = {
  ...common,
  ...media,
  DATABASE_URL: databaseUrl('runner'),
  RUNNER_ID: `bench-media-${runId}`,
  WA_WS_URL: sandbox.wsUrl,
  WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey,
  NODE_EXTRA_CA_CERTS: sandbox.mediaCaFile,
  WA_MEDIA_BASE_URL: sandbox.mediaBaseUrl,
  MEDIA_DOWNLOAD: 'request',
  MEDIA_DIR: join(tmp, 'media'),
  MEDIA_FETCH_TIMEOUT_MS: '600000',
};
const gatewayEnv = { ...common, ...media, DATABASE_URL: databaseUrl('gateway'), PORT: String(gatewayPort), HOST: '127.0.0.1', SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0', SEND_SYNC_TIMEOUT_MS: '120000' };
let key;
try {
  key = createApiKey(root, gatewayEnv, 'media');
} catch (error) {
  files.close();
  await sandbox.stop();
  throw error;
}
const runner = spawnApp('session-runner', join(root, 'apps/session-runner/dist/main.js'), runnerEnv, join(tmp, 'runner.log'));
const gateway = spawnApp('gateway', join(root, 'apps/gateway/dist/main.js'), gatewayEnv, join(tmp, 'gateway.log'));
stopOnSignals(() => [runner, gateway, sandbox], () => `logs in ${tmp}`);
const api = `http://127.0.0.1:${gatewayPort}/api/v1`;
const call = async (method, path, body) => {
  const res = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${key}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
};

/** Runs `work` while sampling the runner's memory; answers its duration and the peak growth. */
async function measured(work) {
  const before = memoryOf(runner.pid);
  let peakRss = before.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryOf(runner.pid).rss)), 20);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  const ms = performance.now() - started;
  const after = memoryOf(runner.pid);
  return { ms, growth: Math.max(after.peak - before.peak, peakRss - before.rss), before: before.rss };
}

let failed = false;
try {
  await until('the gateway to be ready (database and runner)', async () => (await fetch(`http://127.0.0.1:${gatewayPort}/health/ready`)).status === 200, 120_000);
  const OWNER = '15559000001';
  const CONTACT = '15559000002';
  await sandbox.control('/phones', { phone: OWNER, name: 'Owner' });
  await sandbox.control('/phones', { phone: CONTACT, name: 'Contact' });
  const session = await call('POST', '/sessions', { name: 'media' });
  await call('POST', `/sessions/${session.id}/start`, {});
  const qr = await call('GET', `/sessions/${session.id}/qr?waitMs=30000`);
  await sandbox.control(`/phones/${OWNER}/scan`, { qr: qr.qr });
  await until('session connected', async () => (await call('GET', `/sessions/${session.id}`)).status === 'connected', 90_000);
  progress('session connected');

  // Baseline: the media host alone (an upload of the same size, then its download).
  const { auth, host } = await sandbox.control('/media/auth', {});
  const hash = createHash('sha256').update(data).digest('base64url');
  let uploaded;
  const upStart = performance.now();
  uploaded = await https(`https://${host}/mms/video/${hash}?auth=${encodeURIComponent(auth)}&token=${hash}`, { method: 'POST', body: data, ca });
  const upMs = performance.now() - upStart;
  if (uploaded.status !== 200) throw new Error(`bare upload answered ${uploaded.status} ${uploaded.body}`);
  const directPath = JSON.parse(uploaded.body).direct_path;
  const downStart = performance.now();
  const downloaded = await https(`https://${host}${directPath}`, { ca });
  const downMs = performance.now() - downStart;
  progress('baseline done');

  // Outgoing: URL -> runner (disk) -> Baileys encrypt + upload -> contact phone downloads and verifies.
  let messageId;
  const out = await measured(async () => {
    const sent = await call('POST', `/sessions/${session.id}/messages`, { chat: `${CONTACT}@s.whatsapp.net`, type: 'video', url: fileUrl, mimetype: 'video/mp4', seconds: 60 });
    messageId = sent.waMessageId;
    const received = await until('contact verified the video', async () => (await sandbox.control(`/phones/${CONTACT}/messages`)).find((m) => m.id === messageId && m.media), 600_000, 50);
    if (!received.media.verified) throw new Error(`the contact could not verify the video: ${received.media.problem}`);
  });
  progress('outgoing done');

  // Incoming: phone -> media host -> runner (download, verify, decrypt, store) -> gateway (chunks) -> client.
  const { id } = await sandbox.control(`/phones/${CONTACT}/messages`, { to: `${OWNER}@s.whatsapp.net`, message: { type: 'video', data: data.toString('base64'), mimetype: 'video/mp4' } });
  await until('message stored', async () => (await fetch(`${api}/sessions/${session.id}/messages/${id}`, { headers: { authorization: `Bearer ${key}` } })).status === 200, 60_000, 50);
  let got = 0;
  const digest = createHash('sha256');
  const inc = await measured(async () => {
    const res = await fetch(`${api}/sessions/${session.id}/messages/${id}/media`, { headers: { authorization: `Bearer ${key}` } });
    if (res.status !== 200) throw new Error(`media route answered ${res.status} ${await res.text()}`);
    for await (const chunk of res.body) {
      got += chunk.length;
      digest.update(chunk);
    }
  });
  if (got !== size || digest.digest('hex') !== createHash('sha256').update(data).digest('hex')) throw new Error(`the media route gave ${got} bytes that differ from the ${size} sent`);

  say(`media bench: ${mb} MB, ${postgres ? 'PostgreSQL' : 'SQLite'} + ${nats ? 'NATS' : 'TCP'}`);
  say(`  bare HTTPS upload to the sandbox media host   ${rate(size, upMs)}  (${upMs.toFixed(0)} ms)`);
  say(`  bare HTTPS download from it                   ${rate(downloaded.bytes, downMs)}  (${downMs.toFixed(0)} ms)`);
  say(`  outgoing via gateway+runner+Baileys+contact   ${rate(size, out.ms)}  (${out.ms.toFixed(0)} ms), runner RSS ${(out.before / MiB).toFixed(0)} MB, peak growth ${(out.growth / MiB).toFixed(1)} MB`);
  say(`  incoming via media host+runner+gateway route  ${rate(size, inc.ms)}  (${inc.ms.toFixed(0)} ms), runner RSS ${(inc.before / MiB).toFixed(0)} MB, peak growth ${(inc.growth / MiB).toFixed(1)} MB`);
} catch (error) {
  failed = true;
  process.stderr.write(`${error.stack ?? error}\n`);
} finally {
  files.close();
  await tearDownStack({ root, runner, gateway, sandbox, postgres, schemaPrefix, tmp, keep: keep || failed });
}
process.exit(failed ? 1 : 0);
