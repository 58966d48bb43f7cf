import { join } from 'node:path';
import type { FuzzResult } from '../../../bench/fuzz/engine.mjs' with { 'resolution-mode': 'import' };
import { scaleOut } from './harness';

/**
 * The API's promise for bad input, checked with 1,000 generated hostile requests over every
 * operation of the committed OpenAPI document (see bench/fuzz; `pnpm fuzz` runs 10,000):
 * every answer < 500, errors in the envelope with the code of their status, an x-request-id,
 * no stack trace, within 1 s (sync sends within their documented wait; reported but not failed
 * here, see below), the gateway alive afterwards and no accepted message lost. The engine starts
 * its own sandbox, runner and gateway processes in the configuration this suite runs in.
 */
describe('fuzz (OpenAPI-driven hostile requests)', () => {
  let result: FuzzResult;
  let report: string;

  beforeAll(async () => {
    const engine = await import(join(__dirname, '../../../bench/fuzz/engine.mjs'));
    const lines: string[] = [];
    result = await engine.runFuzz({ seed: 'ci', count: 1000, concurrency: 6, config: scaleOut ? 'scaleout' : 'embedded', log: (line: string) => lines.push(line) });
    report = `${engine.formatReport(result)}\n\nrun log:\n${lines.join('\n')}`;
    // About a minute on a quiet machine; the deadline is for a hung run, not for a busy machine.
  }, 300_000);

  it('answers all 1,000 requests without a single violation', () => {
    // The 1 s answer budget is a promise of a machine with time to spare (`pnpm fuzz` holds it);
    // a CI run shares 2 cores with other suites, so here a slow answer is reported, not failed.
    // Every other check still fails the run, a request without an answer (a hang) included.
    const violations = result.violations.filter((v) => !v.problem.startsWith('slower than'));
    if (violations.length > 0 || result.stats.requests !== 1000) throw new Error(report);
    if (!result.ok) process.stdout.write(`fuzz: answers over the time budget on this machine (not failed):\n${report}\n`);
    expect(result.stats.requests).toBe(1000);
    expect(violations).toEqual([]);
  });
});
