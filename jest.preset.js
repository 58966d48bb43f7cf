// Shared Jest settings for every workspace package. Tests are TypeScript compiled by ts-jest
// in transpile-only mode (tsconfig has isolatedModules), so `tsc` stays the single type check.
const path = require('node:path');

/**
 * The Node 22 run (`scripts/test.mjs --node22`) repeats what depends on the Node version: every
 * unit test, the native SQLite driver, HTTP edge and streaming, crypto, webhooks and the Baileys
 * socket. These feature suites drive the same JavaScript through the same paths as the suites it
 * keeps, so it leaves them to the Node 20 runs (the suite had grown to 23 minutes on 2 cores).
 */
const NODE22_LEFT_TO_NODE20 = [
  'api-keys', 'sessions', 'session-restarts', 'session-qr-wait', 'runner-crash', 'groups', 'group-policies', 'profile', 'contacts',
  'presence', 'calls', 'chat-organisation', 'labels', 'media-expired', 'dashboard', 'openapi-lint', 'openapi-coverage', 'fuzz',
  'log-secrets', 'config-exit', 'metrics',
].map((name) => `/test/${name}\\.e2e-spec\\.ts$`);


module.exports = (dir) => ({
  rootDir: dir,
  testEnvironment: 'node',
  testMatch: [
    '<rootDir>/src/**/*.spec.ts',
    '<rootDir>/test/**/*.spec.ts',
    '<rootDir>/test/**/*.e2e-spec.ts',
    // Suites that only make sense with a shared database and NATS (several runners) run in the
    // scale-out configuration only.
    ...(process.env.TRANSPORT === 'nats' ? ['<rootDir>/test/**/*.scaleout-spec.ts'] : []),
    // The soak (5 minutes on a cluster of its own) runs next to the rest rather than after it:
    // `pnpm test` starts it as a run of its own, `pnpm test:scaleout` sets RUN_SOAK=1.
    ...(process.env.TRANSPORT === 'nats' && process.env.RUN_SOAK === '1' ? ['<rootDir>/test/**/*.soak-spec.ts'] : []),
  ],
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.WA_TEST_NODE22_SUBSET === '1' ? NODE22_LEFT_TO_NODE20 : [])],
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
