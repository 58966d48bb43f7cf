// What the capacity benchmark reads about a process it started, from /proc (Linux only): its
// resident memory and the CPU time it has used, so figures are the runner's own and not the
// benchmark's or the sandbox's, which share the machine.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Resident set size in bytes (VmRSS), or undefined once the process is gone. */
export function rssBytes(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds used so far. The command name may hold spaces and parentheses, so fields are counted from its closing one. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3 of the line, so utime (14) and stime (15) are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU seconds of a PostgreSQL server on this machine, if one runs here: every `postgres` process
 * (its backends, among them the benchmark's) plus what the postmaster collected from the backends
 * that exited (its children's time). Differences of two readings count a backend that ended in
 * between exactly once. Undefined when no such process is visible (a remote server).
 */
export function postgresCpuSeconds() {
  let ticks = 0;
  const stats = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    stats.push({ pid: Number(entry), ppid: Number(fields[1]), fields });
  }
  const pids = new Set(stats.map((s) => s.pid));
  for (const { ppid, fields } of stats) {
    ticks += Number(fields[11]) + Number(fields[12]);
    // The postmaster (its parent is no postgres process): cutime and cstime, fields 16 and 17.
    if (!pids.has(ppid)) ticks += Number(fields[13]) + Number(fields[14]);
  }
  return stats.length ? ticks / CLOCK_TICKS : undefined;
}

/** The machine's busy and total CPU seconds so far, over all cores (/proc/stat; idle and iowait are not busy). */
export function machineCpuSeconds() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLOCK_TICKS, total: (busy + idle + iowait) / CLOCK_TICKS };
}

/** Open file descriptors of the process. */
export function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** CPU used over `seconds` as a percentage of one core, plus the highest RSS seen (sampled every 250 ms). */
export async function sampleIdle(pid, seconds) {
  const startCpu = cpuSeconds(pid);
  const started = performance.now();
  let peak = rssBytes(pid) ?? 0;
  while (performance.now() - started < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 250));
    peak = Math.max(peak, rssBytes(pid) ?? 0);
  }
  const elapsed = (performance.now() - started) / 1000;
  return { cpuPercent: ((cpuSeconds(pid) - startCpu) / elapsed) * 100, peakRss: peak, rss: rssBytes(pid) };
}

export const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/**
 * Spawns `node main` with its output appended to `logFile` (a thousand sessions log too much for a
 * terminal) and resolves `exited` with a sentence once it ends. `stop()` sends SIGTERM and waits.
 */
export function spawnApp(name, main, env, logFile, execArgv = []) {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...execArgv, main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let exit;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exit = `${name} exited (${signal ?? code}); see ${logFile}`))));
  return {
    pid: child.pid,
    exited,
    /** Why it ended, once it has. */
    get exit() {
      return exit;
    },
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
