// Shared Jest settings for every workspace package. Tests are TypeScript compiled by ts-jest
// in transpile-only mode (tsconfig has isolatedModules), so `tsc` stays the single type check.
const path = require('node:path');


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
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(dir, 'tsconfig.json') }],
  },
  moduleNameMapper: {
    '^content-disposition$': path.join(__dirname, 'scripts/jest/content-disposition.cjs'),
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'mjs', 'cjs'],
  // A deadline for a test that hangs; a busy 2-core machine (CI next to other work) must not trip it.
  testTimeout: 120_000,
  // Sockets, timers and child processes are closed by each suite's afterAll; a leak is a bug
  // that --detectOpenHandles finds, not something to paper over with forceExit.
  verbose: false,
});
