import { join } from 'node:path';
import type { FuzzResult } from '../../../bench/fuzz/engine.mjs' with { 'resolution-mode': 'import' };
import { scaleOut } from './harness';

/**
 * The API's promise for bad input, checked with 1,000 generated hostile requests over every
 * operation of the committed OpenAPI document (see bench/fuzz; `pnpm fuzz` runs 10,000):
 * every answer < 500, errors in the envelope with the code of their status, an x-request-id,
 * no stack trace, within 1 s (sync sends within their documented wait), the gateway alive
 * afterwards and no accepted message lost. The engine starts its own sandbox, runner and
 * gateway processes in the configuration this suite runs in.
 */
describe('fuzz (OpenAPI-driven hostile requests)', () => {
  let result: FuzzResult;
  let report: string;

  beforeAll(async () => {
    const engine = await import(join(__dirname, '../../../bench/fuzz/engine.mjs'));
    const lines: string[] = [];
    result = await engine.runFuzz({ seed: 'ci', count: 1000, concurrency: 6, config: scaleOut ? 'scaleout' : 'embedded', log: (line: string) => lines.push(line) });
    report = `${engine.formatReport(result)}\n\nrun log:\n${lines.join('\n')}`;
  }, 120_000);

  it('answers all 1,000 requests without a single violation', () => {
    if (!result.ok) throw new Error(report);
    expect(result.stats.requests).toBe(1000);
    expect(result.violations).toEqual([]);
  });
});
