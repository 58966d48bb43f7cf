// Only the scale-out configuration (PostgreSQL + NATS), for quick runs during development.
import { spawnSync } from 'node:child_process';
import { ensureServices } from './services.mjs';
import { SCALEOUT_ENV } from './scaleout-env.mjs';

await ensureServices();
const r = spawnSync('turbo', ['run', 'test:scaleout', '--concurrency=1', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ...SCALEOUT_ENV, RUN_SOAK: '1' },
});
process.exit(r.status ?? 1);
