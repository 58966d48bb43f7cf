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
import { basename, join, dirname, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { node22Tree } from './node22.mjs';
import { ensureServices } from './services.mjs';
import { SCALEOUT_ENV } from './scaleout-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const withNode22 = process.argv.includes('--node22');
// One results file per jest run (`.jest-results-<profile>.json` in each workspace it ran in).
const RUNS = ['embedded-1', 'embedded-2', 'scaleout-1', 'scaleout-2', 'scaleout-3', 'soak', 'cluster', 'packages', 'scaleout-packages'];
const profiles = withNode22 ? [...RUNS, 'node22'] : RUNS;
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
  const jestArgs = ['--json', `--outputFile=.jest-results-${profile}.json`, ...(options.jestArgs ?? [])];
  const code = await turbo(['run', task, '--only', '--continue', '--concurrency=1', ...filters, '--', ...jestArgs], {
    ...options,
    tag: options.tag ?? `[${profile}]`,
  });
  const ran = workspacesOf(options.cwd ?? root).filter((w) => {
    const pkg = JSON.parse(readFileSync(join(w, 'package.json'), 'utf8'));
    return pkg.scripts?.[task] !== undefined && (options.filters ?? []).every((f) => (f.startsWith('!') ? pkg.name !== f.slice(1) : pkg.name === f));
  });
  return { code: code || missingResults(profile, ran), ms: Date.now() - t0 };
}

/**
 * 1 when a workspace's jest run left no results file: it was stopped before its end (a signal
 * to jest can leave turbo answering 0, and its tests would be counted neither way).
 */
function missingResults(profile, dirs) {
  const missing = dirs.filter((w) => !existsSync(join(w, `.jest-results-${profile}.json`)));
  for (const w of missing) process.stdout.write(`[${profile}] ${basename(w)}: no results, the jest run did not finish\n`);
  return missing.length > 0 ? 1 : 0;
}

/**
 * The gateway's suites are the bulk of the time and run in parts beside the rest (see `lanes`);
 * the runner's, the client's and the packages' run once on SQLite + TCP (the packages do not
 * depend on the configuration) and the runner's and client's once more on PostgreSQL + NATS.
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
    child.once('close', (code) => resolve({ code: (code ?? 1) || missingResults(profile, [cwd]), ms: Date.now() - t0 }));
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
    // The sandbox's own suite (how faithfully it plays WhatsApp: the same JavaScript on any Node)
    // is left to Node 20; it still runs on Node 22 under the runner's and the adapter's suites.
    const result = await suite('node22', 'test', { cwd: tree.dir, filters: ['!@wa/wa-sandbox'], env: { PATH: `${n22.bin}:${process.env.PATH}`, WA_TEST_NODE22_SUBSET: '1' } });
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

/** Each failed test (or suite that could not run) of one jest results file, with the start of its message. */
function failuresOf(profile, results) {
  const brief = (message) =>
    message
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.includes('/node_modules/') && line.trim() !== 'at new Promise (<anonymous>)')
      .slice(0, 12)
      .map((line) => `      ${line}`)
      .join('\n');
  return results.testResults.flatMap((file) => {
    const where = relative(root, file.name);
    const failed = file.assertionResults.filter((a) => a.status === 'failed');
    if (failed.length === 0) return file.status === 'failed' ? [`  [${profile}] ${where}\n${brief(file.message ?? '')}`] : [];
    return failed.map((a) => `  [${profile}] ${where} › ${a.fullName}\n${brief(a.failureMessages.join('\n'))}`);
  });
}

function resultFiles(profile) {
  return workspaces.map((w) => join(w, `.jest-results-${profile}.json`)).filter(existsSync);
}

for (const profile of profiles) for (const f of resultFiles(profile)) rmSync(f);

const built = await turbo(['run', 'build', '--output-logs=errors-only']);
if (built) process.exit(built);
await ensureServices();

/** The gateway's suites of one configuration, the `index`-th of `count` parts (jest `--shard`). */
// WA_TEST_BUNDLED: suites in bundles (test/bundles, see jest.preset.js); parts of about equal
// weight (scripts/jest/weighted-sequencer.cjs).
const gatewayPart = (config, index, count) =>
  config === 'embedded'
    ? suite(`embedded-${index}`, 'test', { filters: [GATEWAY], jestArgs: [`--shard=${index}/${count}`], env: { WA_TEST_BUNDLED: '1' } })
    : suite(`scaleout-${index}`, 'test:scaleout', { filters: [GATEWAY], jestArgs: [`--shard=${index}/${count}`], env: { ...SCALEOUT_ENV, WA_TEST_CLUSTER_SUITES_APART: '1', WA_TEST_BUNDLED: '1' } });

/** Runs one after another, and says how each went. */
async function lane(...runs) {
  const results = [];
  for (const run of runs) results.push(await run());
  return results;
}

/**
 * Four lanes of about the same length (the machine has 2 cores, and each lane spends much of its
 * time waiting on sockets and child processes). They were one lane per configuration plus one
 * for the rest: the scale-out lane ran 23 minutes while the others ended after 12 to 15, and for
 * its last third the machine ran two lanes where it could run four. Now the gateway's suites are
 * cut in parts (half of the embedded ones and a third of the scale-out ones per lane), and the
 * lanes with less of them take the soak, the multi-process suites, the packages and Node 22
 * (the runner's and client's scale-out run follows the first lane's gateway parts).
 */
const lanes = await Promise.all([
  lane(
    () => gatewayPart('embedded', 1, 2),
    () => gatewayPart('scaleout', 1, 3),
    // The runner's and the client's on PostgreSQL + NATS (about a minute): the fourth lane, with
    // Node 22, was the longest by a minute with them.
    () => suite('scaleout-packages', 'test:scaleout', { filters: [`!${GATEWAY}`], env: SCALEOUT_ENV }),
  ),
  lane(
    () => gatewayPart('embedded', 2, 2),
    () => gatewayPart('scaleout', 2, 3),
  ),
  lane(
    () => gatewayScaleoutJest('soak', ['test/soak.soak-spec.ts'], { RUN_SOAK: '1' }),
    () => gatewayScaleoutJest('cluster', ['--testMatch', '**/test/*.scaleout-spec.ts']),
    () => gatewayPart('scaleout', 3, 3),
  ),
  lane(
    ...(withNode22 ? [() => node22Suite()] : []),
    // Every package but the gateway, on SQLite + TCP.
    () => suite('packages', 'test', { filters: [`!${GATEWAY}`] }),
  ),
]);
const [[embedded1, scaleout1, scaleoutPackages], [embedded2, scaleout2], [soak, cluster, scaleout3], fourth] = lanes;
const node22 = withNode22 ? fourth[0] : undefined;
const [packages] = withNode22 ? fourth.slice(1) : fourth;
const both = (a, b) => ({ code: a.code || b.code, ms: a.ms + b.ms });
const embedded = both(embedded1, embedded2);
const scaleout = both(both(scaleout1, scaleout2), both(scaleout3, scaleoutPackages));

let passed = 0;
let failedTests = 0;
// What failed, and how, repeated at the end: jest prints a failure where it happens, among
// thousands of lines from the runs beside it, and CI may keep only the log's last page.
const failures = [];
for (const profile of profiles) {
  for (const file of resultFiles(profile)) {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failedTests += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
    failures.push(...failuresOf(profile, r));
  }
}
if (failures.length > 0) process.stdout.write(`\nFailed (${failures.length}):\n${failures.join('\n')}\n`);
const verdict = (r) => `${r.code === 0 ? 'ok' : 'FAILED'} (${minutes(r.ms)})`;
const node22Part = node22 ? `; embedded on Node ${node22.version || '22'}: ${verdict(node22)}` : '';
const laneTimes = lanes.map((runs) => minutes(runs.reduce((sum, r) => sum + r.ms, 0))).join(', ');
process.stdout.write(
  `\ngateway on SQLite + TCP: ${verdict(embedded)}; PostgreSQL + NATS (gateway, runner, client): ${verdict(scaleout)}; soak (scale-out): ${verdict(soak)}; multi-process (scale-out): ${verdict(cluster)}; runner and packages (embedded): ${verdict(packages)}${node22Part}; lanes: ${laneTimes}; all: ${minutes(Date.now() - started)}\n`,
);
process.stdout.write(`tests: ${passed} passed, ${failedTests} failed\n`);
process.exit(lanes.flat().some((r) => r.code !== 0) ? 1 : 0);
