// Shared pieces of the benchmarks: start a server process, load it with autocannon from this
// process, and print figures next to a baseline measured in the same run.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { cpuSeconds } from './processes.mjs';

export function parseArgs(defaults) {
  const args = { ...defaults };
  for (let i = 2; i < process.argv.length; i++) {
    const m = /^--([a-z-]+)$/.exec(process.argv[i]);
    if (m && process.argv[i + 1] !== undefined) args[m[1]] = Number.isNaN(Number(process.argv[i + 1])) ? process.argv[++i] : Number(process.argv[++i]);
  }
  return args;
}

/** Spawns `node [...execArgv] file` and resolves once it prints `LISTENING <port>`. */
export function startServer(file, env = {}, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), pid: child.pid, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) });
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${out}`)));
  });
}

/**
 * `setupRequest` (optional) changes each request before it goes, e.g. a fresh Idempotency-Key.
 * `pid` (optional): the server's process, whose CPU time per answered request is reported
 * (`cpuMs`): on a shared machine it moves far less than the rates do.
 */
export async function load({ url, connections, duration, method = 'GET', body, headers = {}, title, setupRequest, pid }) {
  process.stderr.write(`  measuring ${title} for ${duration}s at ${connections} connections...\n`);
  const cpuBefore = pid ? cpuSeconds(pid) : 0;
  const r = await autocannon({ url, connections, duration, method, body, headers, setupClient: undefined, ...(setupRequest ? { requests: [{ setupRequest }] } : {}) });
  const cpuMs = pid && r.requests.total > 0 ? ((cpuSeconds(pid) - cpuBefore) * 1000) / r.requests.total : undefined;
  const non2xx = r.non2xx + r.errors;
  // What the errors were: the statuses other than 2xx, and connection errors and timeouts.
  const statuses = Object.entries(r.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, s]) => `${s.count}x ${code}`);
  const failures = [...statuses, ...(r.errors ? [`${r.errors} errors (${r.timeouts} timeouts)`] : [])];
  if (failures.length) process.stderr.write(`  ${title}: ${failures.join(', ')}\n`);
  return { title, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx, cpuMs, failures };
}

export function printTable(rows, baseline) {
  const pad = (s, n) => String(s).padEnd(n);
  const withCpu = rows.some((r) => r.cpuMs !== undefined);
  console.log(`\n${pad('route', 44)}${pad('req/s', 10)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}${withCpu ? pad('CPU ms/req', 12) : ''}ratio`);
  for (const r of rows) {
    const cpu = withCpu ? pad(r.cpuMs === undefined ? '' : r.cpuMs.toFixed(3), 12) : '';
    console.log(
      `${pad(r.title, 44)}${pad(Math.round(r.rps), 10)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.non2xx, 8)}${cpu}${((r.rps / baseline.rps) * 100).toFixed(1)}%`,
    );
  }
}
