// The fuzz engine: starts the stack, sends `count` generated requests with `concurrency` in
// flight, checks every answer, then checks that the gateway still lives and that every message
// it accepted is still in the outbox. `pnpm fuzz` (cli.mjs) and the e2e spec both call runFuzz.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, FAST_MS } from './checks.mjs';
import { generate } from './generate.mjs';
import { makeTarget, send } from './http-client.mjs';
import { listOperations, loadDocument } from './openapi.mjs';
import { GATEWAY_SETTINGS, startStack } from './stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_DOCUMENT = join(root, 'apps/gateway/openapi.json');
const EXAMPLE_CHARS = 300;
const FUZZER_CASE = { method: '-', path: '-', headers: {}, auth: '-', mutations: [] };

const printable = (text, max = EXAMPLE_CHARS) => {
  const s = String(text ?? '');
  const cut = s.length > max ? `${s.slice(0, max)}... (${s.length} chars)` : s;
  return JSON.stringify(cut).slice(1, -1);
};

function describeRequest(c) {
  const headers = Object.entries(c.headers)
    .filter(([k]) => k !== 'authorization' || c.auth === 'none')
    .map(([k, v]) => `${k}: ${printable(Array.isArray(v) ? v.join(' | ') : v, 80)}`);
  return {
    line: `${c.method} ${printable(c.path, 200)}`,
    caller: c.auth,
    changed: c.mutations.join('; '),
    headers,
    body: c.body ? printable(c.body.toString('utf8')) : undefined,
  };
}

/**
 * @param {{ seed?: string|number, count?: number, config?: 'embedded'|'scaleout', concurrency?: number,
 *   document?: string, operations?: string[], log?: (line: string) => void }} options
 */
export async function runFuzz(options = {}) {
  const seed = options.seed ?? 1;
  const count = options.count ?? 10_000;
  const config = options.config ?? 'embedded';
  const concurrency = options.concurrency ?? 4;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const doc = loadDocument(options.document ?? DEFAULT_DOCUMENT);
  let ops = listOperations(doc);
  if (options.operations?.length) ops = ops.filter((o) => options.operations.includes(o.id));
  if (!ops.length) throw new Error('no operation of the document matches --operation');
  const limits = { syncTimeoutMs: Number(GATEWAY_SETTINGS.SEND_SYNC_TIMEOUT_MS), bodyLimitBytes: Number(GATEWAY_SETTINGS.HTTP_BODY_LIMIT_BYTES) };

  const started = Date.now();
  const stack = await startStack({ config, log });
  const stats = {
    requests: 0,
    answered: 0,
    fiveXx: 0,
    errorAnswers: 0,
    envelopes: 0,
    missingRequestId: 0,
    stackTraces: 0,
    slow: 0,
    syncWaits: 0,
    hangs: 0,
    cutOff: 0,
    accepted: 0,
    lost: 0,
    liveAtEnd: false,
    byStatus: {},
  };
  const violations = new Map();
  const accepted = new Map();
  const record = (opId, status, problem, c, a) => {
    const key = `${opId} · ${status} · ${problem}`;
    const v = violations.get(key);
    if (v) {
      v.count++;
      return;
    }
    violations.set(key, {
      operation: opId,
      status,
      problem,
      count: 1,
      seedIndex: c?.index,
      request: c ? describeRequest(c) : undefined,
      answer: a ? { status: a.status, ms: Math.round(a.ms), requestId: a.headers?.['x-request-id'], body: printable(a.body) } : undefined,
    });
  };

  try {
    log(`fuzzing ${ops.length} operations with ${count} requests (seed ${seed}, ${concurrency} in flight) against ${stack.url}`);
    const target = makeTarget(stack.url, concurrency);
    let next = 0;
    let lastProgress = Date.now();
    let gatewayDied = false;
    const progress = (force = false) => {
      if (!force && Date.now() - lastProgress < 2000) return;
      lastProgress = Date.now();
      const rate = stats.requests / ((Date.now() - sendStart) / 1000);
      const total = [...violations.values()].reduce((s, v) => s + v.count, 0);
      log(`  ${stats.requests}/${count} · ${rate.toFixed(0)} req/s · 5xx ${stats.fiveXx} · violations ${total} (${violations.size} kinds)`);
    };
    const sendStart = Date.now();
    const worker = async () => {
      while (next < count && !gatewayDied) {
        const index = next++;
        let c;
        try {
          c = generate(index, seed, doc, ops, stack.fixture);
        } catch (err) {
          // A bug of the generator: reported with its seed index, and the run goes on.
          stats.requests++;
          record('(fuzzer)', '-', `could not generate a case: ${err.message}`, { index, ...FUZZER_CASE }, undefined);
          continue;
        }
        const timeout = c.syncWait ? limits.syncTimeoutMs + 5000 : 10_000;
        const a = await send(target, c, timeout);
        if (a.error?.startsWith('client refused')) {
          // A bug of the generator, not of the gateway: Node would not put this case on the wire.
          record('(fuzzer)', '-', a.error, c, a);
          continue;
        }
        stats.requests++;
        if (!stack.gateway.alive()) {
          gatewayDied = true;
          record('(gateway process)', 'exit', `the gateway exited (${stack.gateway.child.exitCode ?? stack.gateway.child.signalCode})`, c, a);
          break;
        }
        const result = check(c, a, limits);
        if (a.status) stats.answered++;
        stats.byStatus[a.status] = (stats.byStatus[a.status] ?? 0) + 1;
        if (a.status >= 500) stats.fiveXx++;
        if (a.status >= 400) stats.errorAnswers++;
        if (result.envelope) stats.envelopes++;
        if (a.status && !a.headers['x-request-id']) stats.missingRequestId++;
        if (result.problems.includes('stack trace or build path in the body')) stats.stackTraces++;
        if (result.slow) stats.slow++;
        if (result.syncWait) stats.syncWaits++;
        if (a.timedOut) stats.hangs++;
        if (result.cutOff) stats.cutOff++;
        for (const problem of result.problems) record(c.opId, a.status || '-', problem, c, a);
        if (c.op.async && c.auth === 'owner' && (a.status === 200 || a.status === 202)) {
          try {
            const sent = JSON.parse(a.body);
            const sid = /^\/api\/v1\/sessions\/([^/?]+)\//.exec(c.path)?.[1];
            if (sent.outboxId && sid) accepted.set(sent.outboxId, { sid, c });
          } catch {
            record(c.opId, a.status, 'accepted without a SendResult body', c, a);
          }
        }
        progress();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    progress(true);
    target.agent.destroy();

    // The gateway must survive the run, and lose nothing it accepted.
    const live = await send(makeTarget(stack.url, 1), { method: 'GET', path: '/health/live', headers: {} }, 5000);
    stats.liveAtEnd = live.status === 200;
    if (!stats.liveAtEnd) record('live', live.status || '-', 'the gateway does not answer /health/live after the run', undefined, live);
    stats.accepted = accepted.size;
    if (stack.gateway.alive()) {
      const probe = makeTarget(stack.url, 4);
      const entries = [...accepted.entries()];
      const checkOne = async () => {
        for (let e = entries.pop(); e; e = entries.pop()) {
          const [outboxId, { sid, c }] = e;
          const a = await send(probe, { method: 'GET', path: `/api/v1/sessions/${sid}/outbox/${outboxId}`, headers: { authorization: `Bearer ${stack.fixture.ownerToken}` } }, 10_000);
          if (a.status !== 200) {
            stats.lost++;
            record(c.opId, a.status || '-', 'an accepted message is not in the outbox afterwards', c, a);
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, checkOne));
      probe.agent.destroy();
    }
  } finally {
    const gatewayLog = stack.gateway.output();
    await stack.stop();
    if (violations.has('(gateway process) · exit')) log(`gateway log tail:\n${gatewayLog.slice(-4000)}`);
  }

  const list = [...violations.values()].sort((x, y) => y.count - x.count || String(x.operation).localeCompare(String(y.operation)));
  return {
    seed,
    count,
    config,
    concurrency,
    operations: ops.length,
    seconds: (Date.now() - started) / 1000,
    stats,
    violations: list,
    ok: list.length === 0 && stats.requests === count,
  };
}

const pct = (n, d) => (d === 0 ? '100.00' : ((100 * n) / d).toFixed(2));

/** The closing summary: each figure next to its target, then every kind of violation once. */
export function formatReport(result) {
  const s = result.stats;
  const lines = [];
  lines.push(
    `fuzz ${result.config} · seed ${result.seed} · ${result.operations} operations · ${result.seconds.toFixed(1)} s`,
    [
      `requests ${s.requests} (target ${result.count})`,
      `5xx ${s.fiveXx} (target 0)`,
      `envelope ${pct(s.envelopes, s.errorAnswers)}% of ${s.errorAnswers} error answers (target 100%)`,
      `x-request-id missing ${s.missingRequestId} (target 0)`,
      `stack traces ${s.stackTraces} (target 0)`,
      `slow >${FAST_MS / 1000}s ${s.slow} (target 0; sync send waits within SEND_SYNC_TIMEOUT_MS: ${s.syncWaits})`,
      `hangs ${s.hangs} (target 0)`,
      `oversized uploads cut off by the server ${s.cutOff}`,
      `/health/live after the run ${s.liveAtEnd ? 'yes' : 'NO'} (target yes)`,
      `accepted messages lost ${s.lost} of ${s.accepted} (target 0)`,
    ].join(' · '),
    `statuses: ${Object.entries(s.byStatus)
      .map(([k, v]) => `${k === '0' ? 'none' : k} ${v}`)
      .join(', ')}`,
  );
  if (result.violations.length) {
    lines.push('', `${result.violations.length} kinds of violation (operation · status · problem, count, one example):`);
    for (const v of result.violations) {
      lines.push(`- ${v.operation} · ${v.status} · ${v.problem} (${v.count}x)`);
      if (v.request) {
        lines.push(`    request #${v.seedIndex}: ${v.request.line} [caller ${v.request.caller}] changed: ${v.request.changed}`);
        if (v.request.headers.length) lines.push(`      headers: ${v.request.headers.join('; ')}`);
        if (v.request.body !== undefined) lines.push(`      body: ${v.request.body}`);
      }
      if (v.answer) lines.push(`    answer: ${v.answer.status || 'none'} in ${v.answer.ms} ms, x-request-id ${v.answer.requestId ?? 'missing'}: ${v.answer.body}`);
    }
  } else {
    lines.push('no violations');
  }
  return lines.join('\n');
}
