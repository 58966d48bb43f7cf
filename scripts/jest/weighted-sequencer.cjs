// Splits a jest run's test files into `--shard` parts of about equal length, by weight (seconds
// a file took in a clean-clone run, mean of both configurations, from `test/test-weights.json` of
// the workspace), rather
// than by jest's default hash of the path, which gave the gateway's two embedded parts 11 and 17
// minutes. Files are handed out heaviest first, each to the part with least weight so far; a file
// with no weight counts as DEFAULT_WEIGHT. A bundle (test/bundles/*.bundle-spec.ts) weighs what
// the suites it imports weigh. Within a part, jest's own order applies.
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');
const { membersOf } = require('./bundles.cjs');

const jestDir = path.dirname(require.resolve('jest/package.json'));
const coreDir = path.dirname(require.resolve('@jest/core/package.json', { paths: [jestDir] }));
const Sequencer = require(require.resolve('@jest/test-sequencer', { paths: [coreDir] })).default;

const DEFAULT_WEIGHT = 20;

function weightsOf(rootDir) {
  const file = path.join(rootDir, 'test/test-weights.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
}

function weightOf(testPath, weights) {
  const name = path.basename(testPath).replace(/\.ts$/, '');
  if (testPath.includes(`${path.sep}bundles${path.sep}`)) {
    return membersOf(testPath).reduce((sum, m) => sum + (weights[m] ?? DEFAULT_WEIGHT), 0);
  }
  return weights[name] ?? DEFAULT_WEIGHT;
}

class WeightedSequencer extends Sequencer {
  shard(tests, { shardIndex, shardCount }) {
    const weights = weightsOf(tests[0]?.context.config.rootDir ?? process.cwd());
    const weighed = tests.map((test) => ({ test, weight: weightOf(test.path, weights) }));
    weighed.sort((a, b) => b.weight - a.weight || a.test.path.localeCompare(b.test.path));
    const parts = Array.from({ length: shardCount }, () => ({ weight: 0, tests: [] }));
    for (const w of weighed) {
      const lightest = parts.reduce((min, p) => (p.weight < min.weight ? p : min));
      lightest.weight += w.weight;
      lightest.tests.push(w.test);
    }
    return parts[shardIndex - 1].tests;
  }
}

module.exports = WeightedSequencer;
