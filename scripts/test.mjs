// The whole test suite, in both configurations the product supports:
//   embedded:  SQLite files + the built-in TCP transport (the default run)
//   scale-out: PostgreSQL + NATS (the services this machine runs)
// With --node22 (CI), the embedded half runs once more under Node 22 from the npm registry.
// Prints one closing line "tests: N passed, N failed" over all runs.
//
// The runs share nothing but the machine (own SQLite files, PostgreSQL schemas, NATS subject
// prefixes and ports per suite; Node 22 in a tree of its own), so they run at the same time:
// each is one jest process after another and spends much of its time waiting on sockets, timers
// and child processes, which left the second core idle while they ran one after the other.
// Inside each run, packages and test files still run one at a time.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { node22Tree } from './node22.mjs';
import { ensureServices } from './services.mjs';
import { SCALEOUT_ENV } from './scaleout-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const withNode22 = process.argv.includes('--node22');
const profiles = withNode22 ? ['embedded', 'scaleout', 'soak', 'cluster', 'node22'] : ['embedded', 'scaleout', 'soak', 'cluster'];
const workspacesOf = (dir) => ['apps', 'packages'].flatMap((d) => readdirSync(join(dir, d)).map((n) => join(dir, d, n)));
const workspaces = workspacesOf(root);
const started = Date.now();
const minutes = (ms) => {
  // Whole seconds first, so 18 min 59.6 s reads 19m00s rather than 18m60s.
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
};

/** Runs turbo in `cwd`; with a tag, each output line is prefixed with it so that concurrent runs stay readable. */
function turbo(args, { cwd = root, env = {}, tag } = {}) {
  return new Promise((resolve) => {
    const child = spawn(join(cwd, 'node_modules/.bin/turbo'), args, { cwd, env: { ...process.env, ...env }, stdio: tag ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    if (tag) for (const s of [child.stdout, child.stderr]) createInterface({ input: s }).on('line', (line) => process.stdout.write(`${tag} ${line}\n`));
    child.once('error', () => resolve(1));
    child.once('close', (code) => resolve(code ?? 1));
  });
}

/**
 * One run of every package's jest suite. `--only`: the build ran once before, and is not
 * restored under a running suite. `--continue`: a failing package does not hide what the
 * packages after it would have said.
 */
async function suite(profile, task, options = {}) {
  const t0 = Date.now();
  const filters = (options.filters ?? []).map((f) => `--filter=${f}`);
  const code = await turbo(['run', task, '--only', '--continue', '--concurrency=1', ...filters, '--', '--json', `--outputFile=.jest-results-${profile}.json`], {
    ...options,
    tag: options.tag ?? `[${profile}]`,
  });
  return { code, ms: Date.now() - t0 };
}

/**
 * The embedded lane runs the gateway's suites on SQLite + TCP. Everything else of the embedded
 * profile (the runner's suites on SQLite, and the packages', which do not depend on the
 * configuration: the sandbox, the adapter against it, auth, the client, contracts, domain) runs
 * in the third lane after the soak: that lane ended after 6 minutes while the two
 * configurations' lanes ran for 19, so the machine's second half sat on a lane with less to do.
 */
const GATEWAY = '@wa/gateway';

/**
 * One jest run of the gateway's in the scale-out configuration, beside the others: the soak
 * (apps/gateway/test/soak.soak-spec.ts, five minutes of traffic with faults on a cluster of its
 * own; after the rest of the scale-out suite it made that half the longest by seven minutes),
 * and the suites that need several runners or gateways on one database (*.scaleout-spec.ts).
 */
function gatewayScaleoutJest(profile, args, env = {}) {
  const t0 = Date.now();
  const cwd = join(root, 'apps/gateway');
  return new Promise((resolve) => {
    const child = spawn(join(root, 'node_modules/.bin/jest'), ['--runInBand', '--json', `--outputFile=.jest-results-${profile}.json`, ...args], {
      cwd,
      env: { ...process.env, ...SCALEOUT_ENV, NODE_OPTIONS: '--experimental-vm-modules', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [child.stdout, child.stderr]) createInterface({ input: s }).on('line', (line) => process.stdout.write(`[${profile}] ${line}\n`));
    child.once('error', () => resolve({ code: 1, ms: Date.now() - t0 }));
    child.once('close', (code) => resolve({ code: code ?? 1, ms: Date.now() - t0 }));
  });
}

/** Node 22 and better-sqlite3 for it (cached; compiled on a cache miss), in a worker so the other runs' output keeps flowing meanwhile. */
function prepareNode22() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./node22.mjs', import.meta.url), { workerData: { prepareNode22: root } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function node22Suite() {
  let tree;
  try {
    const n22 = await prepareNode22();
    tree = node22Tree(root, n22.addon);
    // The Node-version-sensitive part of the embedded half (see NODE22_LEFT_TO_NODE20 in jest.preset.js).
    const result = await suite('node22', 'test', { cwd: tree.dir, env: { PATH: `${n22.bin}:${process.env.PATH}`, WA_TEST_NODE22_SUBSET: '1' } });
    // The results belong next to the other runs' results, where the closing line reads them.
    for (const w of workspacesOf(tree.dir)) {
      const file = join(w, '.jest-results-node22.json');
      if (existsSync(file)) copyFileSync(file, join(root, relative(tree.dir, w), '.jest-results-node22.json'));
    }
    return { ...result, version: n22.version };
  } catch (err) {
    process.stderr.write(`could not run the suite under Node 22: ${err.message}\n`);
    return { code: 1, ms: 0, version: '' };
  } finally {
    tree?.remove();
  }
}

function resultFiles(profile) {
  return workspaces.map((w) => join(w, `.jest-results-${profile}.json`)).filter(existsSync);
}

for (const profile of profiles) for (const f of resultFiles(profile)) rmSync(f);

const built = await turbo(['run', 'build', '--output-logs=errors-only']);
if (built) process.exit(built);
await ensureServices();

/**
 * The third lane: the soak, the multi-process scale-out suites (out of the scale-out lane, which
 * was the longest), then the runner's and the packages' suites in the embedded profile.
 */
const thirdLane = async () => {
  const soakRun = await gatewayScaleoutJest('soak', ['test/soak.soak-spec.ts'], { RUN_SOAK: '1' });
  const clusterRun = await gatewayScaleoutJest('cluster', ['--testMatch', '**/test/*.scaleout-spec.ts']);
  const packagesRun = await suite('embedded', 'test', { filters: [`!${GATEWAY}`], tag: '[packages]' });
  return { soakRun, clusterRun, packagesRun };
};

const [embedded, scaleout, { soakRun: soak, clusterRun: cluster, packagesRun: packages }, node22] = await Promise.all([
  suite('embedded', 'test', { filters: [GATEWAY] }),
  suite('scaleout', 'test:scaleout', { env: { ...SCALEOUT_ENV, WA_TEST_CLUSTER_SUITES_APART: '1' } }),
  thirdLane(),
  withNode22 ? node22Suite() : undefined,
]);

let passed = 0;
let failedTests = 0;
for (const profile of profiles) {
  for (const file of resultFiles(profile)) {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failedTests += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  }
}
const verdict = (r) => `${r.code === 0 ? 'ok' : 'FAILED'} (${minutes(r.ms)})`;
const node22Part = node22 ? `; embedded on Node ${node22.version || '22'}: ${verdict(node22)}` : '';
process.stdout.write(
  `\nembedded (SQLite + TCP): ${verdict(embedded)}; scale-out (PostgreSQL + NATS): ${verdict(scaleout)}; soak (scale-out): ${verdict(soak)}; multi-process (scale-out): ${verdict(cluster)}; runner and packages (embedded): ${verdict(packages)}${node22Part}; all: ${minutes(Date.now() - started)}\n`,
);
process.stdout.write(`tests: ${passed} passed, ${failedTests} failed\n`);
process.exit(embedded.code || scaleout.code || soak.code || cluster.code || packages.code || node22?.code ? 1 : 0);
