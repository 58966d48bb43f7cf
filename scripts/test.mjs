// The whole test suite, in both configurations the product supports:
//   embedded:  SQLite files + the built-in TCP transport (the default run)
//   scale-out: PostgreSQL + NATS (the services this machine runs)
// With --node22 (CI), the embedded half runs once more under Node 22 from the npm registry.
// Prints one closing line "tests: N passed, N failed" over all runs.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareNode22 } from './node22.mjs';
import { ensureServices } from './services.mjs';
import { SCALEOUT_ENV } from './scaleout-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const turbo = join(root, 'node_modules/.bin/turbo');
const withNode22 = process.argv.includes('--node22');
const profiles = withNode22 ? ['embedded', 'scaleout', 'node22'] : ['embedded', 'scaleout'];
const workspaces = ['apps', 'packages'].flatMap((d) => readdirSync(join(root, d)).map((n) => join(root, d, n)));

function run(args, env = {}) {
  const r = spawnSync(turbo, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function resultFiles(profile) {
  return workspaces.map((w) => join(w, `.jest-results-${profile}.json`)).filter(existsSync);
}

for (const profile of profiles) for (const f of resultFiles(profile)) rmSync(f);

let failed = run(['run', 'build', '--output-logs=errors-only']);
if (failed) process.exit(failed);

const embedded = run(['run', 'test', '--concurrency=1', '--', '--json', '--outputFile=.jest-results-embedded.json']);
await ensureServices();
const scaleout = run(['run', 'test:scaleout', '--concurrency=1', '--', '--json', '--outputFile=.jest-results-scaleout.json'], SCALEOUT_ENV);

// Last, so the swap of better-sqlite3's addon to Node 22's ABI (and back) disturbs nothing else.
let node22 = 0;
let node22Version = '';
if (withNode22) {
  try {
    const n22 = prepareNode22(root);
    node22Version = n22.version;
    node22 = n22.withNativeAddon(() =>
      run(['run', 'test', '--concurrency=1', '--force', '--', '--json', '--outputFile=.jest-results-node22.json'], { PATH: `${n22.bin}:${process.env.PATH}` }),
    );
  } catch (err) {
    process.stderr.write(`could not run the suite under Node 22: ${err.message}\n`);
    node22 = 1;
  }
}

let passed = 0;
let failedTests = 0;
for (const profile of profiles) {
  for (const file of resultFiles(profile)) {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failedTests += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  }
}
const node22Part = withNode22 ? `; embedded on Node ${node22Version || '22'}: ${node22 === 0 ? 'ok' : 'FAILED'}` : '';
process.stdout.write(`\nembedded (SQLite + TCP): ${embedded === 0 ? 'ok' : 'FAILED'}; scale-out (PostgreSQL + NATS): ${scaleout === 0 ? 'ok' : 'FAILED'}${node22Part}\n`);
process.stdout.write(`tests: ${passed} passed, ${failedTests} failed\n`);
process.exit(embedded || scaleout || node22 ? 1 : 0);
