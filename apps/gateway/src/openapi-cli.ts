import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiDocument } from './openapi/openapi-document';

/** `--write` regenerates apps/gateway/openapi.json; without it, exits 1 when the file is stale. */
const target = join(__dirname, '..', 'openapi.json');

renderOpenApiDocument()
  .then((doc) => {
    if (process.argv.includes('--write')) {
      writeFileSync(target, doc);
      process.stdout.write(`wrote ${target}\n`);
      return;
    }
    const current = readFileSync(target, 'utf8');
    if (current !== doc) {
      process.stderr.write('apps/gateway/openapi.json is out of date: run `pnpm openapi`\n');
      process.exit(1);
    }
  })
  .catch((err: unknown) => {
    process.stderr.write(`openapi: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
