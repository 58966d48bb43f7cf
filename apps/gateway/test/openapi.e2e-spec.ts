import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiDocument } from '../src/openapi/openapi-document';

describe('committed OpenAPI document', () => {
  it('matches the API the code declares (run `pnpm openapi` after changing the API)', async () => {
    const committed = readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8');
    const generated = await renderOpenApiDocument();
    expect(generated).toBe(committed);
  });

  it('gives every operation a unique operationId', async () => {
    const doc = JSON.parse(await renderOpenApiDocument()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
