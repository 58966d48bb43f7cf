// `pnpm fuzz [--seed S] [--count N] [--config embedded|scaleout] [--concurrency C] [--operation id]...`
// Exit code 1 on any violation, 2 on a usage error.
import { parseArgs } from 'node:util';
import { formatReport, runFuzz } from './engine.mjs';

const USAGE = 'usage: pnpm fuzz [--seed S] [--count N (10000)] [--config embedded|scaleout] [--concurrency C (4)] [--operation <operationId>]...';

let values;
try {
  ({ values } = parseArgs({
    options: {
      seed: { type: 'string' },
      count: { type: 'string', default: '10000' },
      config: { type: 'string', default: 'embedded' },
      concurrency: { type: 'string', default: '4' },
      operation: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  process.stderr.write(`${err.message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const count = Number(values.count);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(concurrency) || concurrency < 1 || !['embedded', 'scaleout'].includes(values.config)) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
if (values.config === 'scaleout') {
  const { ensureServices } = await import('../../scripts/services.mjs');
  await ensureServices();
}
// Without --seed a run explores new cases; the seed it prints reproduces it.
const seed = values.seed ?? String(Date.now() % 1_000_000);
const result = await runFuzz({ seed, count, config: values.config, concurrency, operations: values.operation });
process.stdout.write(`${formatReport(result)}\n`);
if (!result.ok) process.stdout.write(`\nreproduce: pnpm fuzz --seed ${seed} --count ${count} --config ${values.config}\n`);
process.exit(result.ok ? 0 : 1);
