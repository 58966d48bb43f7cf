// The long version of the crash-safety test: runs apps/gateway/test/runner-crash.e2e-spec.ts
// again and again (default 20 runs of a 1,000-message burst, one kill -9 of the runner at a
// random point of each) and sums up lost and duplicated messages over all runs.
//   pnpm crash-test [--runs 20] [--messages 1000] [--kills 1] [--scaleout]
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCALEOUT_ENV } from './scaleout-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg('runs', 20);
const messages = arg('messages', 1000);
const kills = arg('kills', 1);
const scaleout = process.argv.includes('--scaleout');

const totals = { runs: 0, messages: 0, kills: 0, lost: 0, duplicated: 0, notResent: 0, resent: 0, undecidedByBacklog: 0, failedRuns: 0 };
for (let run = 1; run <= runs; run++) {
  const started = Date.now();
  const r = spawnSync(join(root, 'node_modules/.bin/jest'), ['--runInBand', 'test/runner-crash.e2e-spec.ts'], {
    cwd: join(root, 'apps/gateway'),
    env: {
      ...process.env,
      ...(scaleout ? SCALEOUT_ENV : {}),
      NODE_OPTIONS: '--experimental-vm-modules',
      CRASH_TEST_MESSAGES: String(messages),
      CRASH_TEST_KILLS: String(kills),
    },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const out = `${r.stdout}${r.stderr}`;
  const line = out.split('\n').find((l) => l.startsWith('CRASH-RESULT '));
  const result = line ? JSON.parse(line.slice('CRASH-RESULT '.length)) : undefined;
  totals.runs++;
  if (!result || r.status !== 0) totals.failedRuns++;
  if (result) {
    totals.messages += result.messages;
    totals.kills += result.kills;
    totals.lost += result.lost;
    totals.duplicated += result.duplicated;
    totals.notResent += result.notResent ?? 0;
    totals.resent += result.resent ?? 0;
    totals.undecidedByBacklog += result.undecidedByBacklog ?? 0;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(`run ${run}/${runs} (${scaleout ? 'PostgreSQL + NATS' : 'SQLite + TCP'}, ${seconds} s): ${result ? `lost ${result.lost}, duplicated ${result.duplicated}; retries of ids that had left, not sent again: ${result.notResent ?? '?'}; ids resent without proof they left: ${result.resent ?? '?'}; decisions the backlog did not settle in time: ${result.undecidedByBacklog ?? '?'}` : 'no result'}${r.status === 0 ? '' : ' (test failed)'}\n`);
  if (!result) process.stdout.write(out.split('\n').filter((l) => /●|Error|timed out/.test(l)).slice(0, 10).join('\n') + '\n');
}
process.stdout.write(
  `\n${totals.runs} runs, ${totals.messages} messages, ${totals.kills} kills: lost ${totals.lost}, duplicated ${totals.duplicated} (target 0 and 0); ` +
    `retries not sent again ${totals.notResent}, resent without proof ${totals.resent}, decided by the SEND_RESEND_PROOF_MS bound rather than the backlog ${totals.undecidedByBacklog}; failed runs ${totals.failedRuns}\n`,
);
process.exit(totals.lost || totals.duplicated || totals.failedRuns ? 1 : 0);
