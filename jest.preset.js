// Shared Jest settings for every workspace package. Tests are TypeScript compiled by ts-jest
// in transpile-only mode (tsconfig has isolatedModules), so `tsc` stays the single type check.
const path = require('node:path');
const { bundleMembers } = require('./scripts/jest/bundles.cjs');

/**
 * The Node 22 run (`scripts/test.mjs --node22`) repeats what depends on the Node version: every
 * package's tests and the runner's (unit tests, the native SQLite driver, crypto, the Baileys
 * socket against the sandbox), and of the gateway's end-to-end suites those that exercise the
 * HTTP edge (Fastify on Node's http, body limits, timeouts), signed webhooks over Node's fetch,
 * and the outbox on the native SQLite driver. The gateway's feature suites drive the same
 * JavaScript through the same paths, so they run on Node 20 only: with all of them the run took
 * 23 minutes on 2 cores, and JWT crypto (jose on WebCrypto), the event stream and media were
 * dropped from it next, when the whole suite went past 20 minutes.
 */
const NODE22_GATEWAY_SUITES = ['foundation', 'http-edge', 'webhooks', 'outbox-store'];
const NODE22_LEFT_TO_NODE20 = [`/apps/gateway/test/(?!(${NODE22_GATEWAY_SUITES.join('|')})\\.e2e-spec\\.ts$)[^/]+-spec\\.ts$`];

/**
 * BUNDLES. A gateway suite spends about 4 s of CPU before its first hook, importing the gateway,
 * Nest, TypeORM and Baileys into jest's per-file module registry; 45 suites in two configurations
 * paid that 90 times. `pnpm test` (scripts/test.mjs) sets WA_TEST_BUNDLED=1: then the files in
 * `test/bundles/*.bundle-spec.ts`, each importing a few suites (`import '../x.e2e-spec';`), run in
 * their place, so each bundle imports once. The suites stay independent (their hooks are inside
 * their own `describe`, they run one after another, each with its own stack) and can still be
 * run alone: without WA_TEST_BUNDLED, every suite is its own file and the bundles are skipped.
 */
const bundled = process.env.WA_TEST_BUNDLED === '1';
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Suites about what only the embedded run has or that does not depend on the configuration (the
 * start script, the dashboard in Chromium, the OpenAPI document and its linters) run once.
 */
const EMBEDDED_ONLY = ['/apps/gateway/test/(start-script|openapi-lint|openapi|dashboard)\\.e2e-spec\\.ts$'];

module.exports = (dir) => ({
  rootDir: dir,
  testEnvironment: 'node',
  testMatch: [
    '<rootDir>/src/**/*.spec.ts',
    '<rootDir>/test/**/*.spec.ts',
    '<rootDir>/test/**/*.e2e-spec.ts',
    ...(bundled ? ['<rootDir>/test/bundles/*.bundle-spec.ts'] : []),
    // Suites that only make sense with a shared database and NATS (several runners) run in the
    // scale-out configuration only; `pnpm test` runs them in a lane of their own
    // (WA_TEST_CLUSTER_SUITES_APART, see scripts/test.mjs).
    ...(process.env.TRANSPORT === 'nats' && process.env.WA_TEST_CLUSTER_SUITES_APART !== '1' ? ['<rootDir>/test/**/*.scaleout-spec.ts'] : []),
    // The soak (5 minutes on a cluster of its own) runs next to the rest rather than after it:
    // `pnpm test` starts it as a run of its own, `pnpm test:scaleout` sets RUN_SOAK=1.
    ...(process.env.TRANSPORT === 'nats' && process.env.RUN_SOAK === '1' ? ['<rootDir>/test/**/*.soak-spec.ts'] : []),
  ],
  testPathIgnorePatterns: [
    '/node_modules/',
    ...(process.env.WA_TEST_NODE22_SUBSET === '1' ? NODE22_LEFT_TO_NODE20 : []),
    ...(process.env.TRANSPORT === 'nats' ? EMBEDDED_ONLY : []),
    ...(bundled ? bundleMembers(dir).map((m) => `/test/${escape(m)}\\.ts$`) : ['/test/bundles/']),
  ],
  testSequencer: path.join(__dirname, 'scripts/jest/weighted-sequencer.cjs'),
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(dir, 'tsconfig.json') }],
  },
  moduleNameMapper: {
    '^content-disposition$': path.join(__dirname, 'scripts/jest/content-disposition.cjs'),
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'mjs', 'cjs'],
  // A deadline for a test that hangs; a busy 2-core machine (CI next to other work) must not trip it.
  testTimeout: 300_000,
  // Sockets, timers and child processes are closed by each suite's afterAll; a leak is a bug
  // that --detectOpenHandles finds, not something to paper over with forceExit.
  verbose: false,
});
