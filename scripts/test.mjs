// The whole test suite, in both configurations the product supports:
//   embedded:  SQLite files + the built-in TCP transport (the default run)
//   scale-out: PostgreSQL + NATS (the services this machine runs)
// Prints one closing line "tests: N passed, N failed" over both.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServices } from './services.mjs';
import { SCALEOUT_ENV } from './scaleout-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const turbo = join(root, 'node_modules/.bin/turbo');
const workspaces = ['apps', 'packages'].flatMap((d) => readdirSync(join(root, d)).map((n) => join(root, d, n)));

function run(args, env = {}) {
  const r = spawnSync(turbo, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function resultFiles(profile) {
  return workspaces.map((w) => join(w, `.jest-results-${profile}.json`)).filter(existsSync);
}

for (const profile of ['embedded', 'scaleout']) for (const f of resultFiles(profile)) rmSync(f);

let failed = run(['run', 'build', '--output-logs=errors-only']);
if (failed) process.exit(failed);

const embedded = run(['run', 'test', '--concurrency=1', '--', '--json', '--outputFile=.jest-results-embedded.json']);
await ensureServices();
const scaleout = run(['run', 'test:scaleout', '--concurrency=1', '--', '--json', '--outputFile=.jest-results-scaleout.json'], SCALEOUT_ENV);

let passed = 0;
let failedTests = 0;
for (const profile of ['embedded', 'scaleout']) {
  for (const file of resultFiles(profile)) {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failedTests += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  }
}
process.stdout.write(`\nembedded (SQLite + TCP): ${embedded === 0 ? 'ok' : 'FAILED'}; scale-out (PostgreSQL + NATS): ${scaleout === 0 ? 'ok' : 'FAILED'}\n`);
process.stdout.write(`tests: ${passed} passed, ${failedTests} failed\n`);
process.exit(embedded || scaleout ? 1 : 0);
