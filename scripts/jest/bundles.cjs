// The suites a bundle file imports (`import '../x.e2e-spec';` lines of test/bundles/*.bundle-spec.ts),
// read by the jest preset (to skip them as files of their own) and by the weighted sequencer.
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

/** The suites one bundle file imports, by file name without `.ts`. */
const membersOf = (bundleFile) => [...readFileSync(bundleFile, 'utf8').matchAll(/^import '\.\.\/([^']+)';/gm)].map((m) => m[1]);

/** The suites every bundle of a workspace imports. */
function bundleMembers(dir) {
  const bundles = path.join(dir, 'test/bundles');
  if (!existsSync(bundles)) return [];
  return readdirSync(bundles)
    .filter((f) => f.endsWith('.bundle-spec.ts'))
    .flatMap((f) => membersOf(path.join(bundles, f)));
}

module.exports = { membersOf, bundleMembers };
