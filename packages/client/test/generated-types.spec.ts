import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

interface SchemaObject {
  properties?: Record<string, unknown>;
  required?: string[];
}

/**
 * The generated types must say what the document says: a property the document does not list
 * as required is optional in TypeScript too (openapi-typescript's default would make every
 * property with a `default` required, forcing callers to send it).
 */
describe('types generated from apps/gateway/openapi.json', () => {
  const root = join(__dirname, '..');
  const generated = join(root, 'src/generated/openapi.ts');

  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'scripts/generate.mjs')]);
  });

  it('makes exactly the properties the document requires required', () => {
    const document = JSON.parse(readFileSync(join(root, '../../apps/gateway/openapi.json'), 'utf8')) as { components: { schemas: Record<string, SchemaObject> } };
    const program = ts.createProgram([generated], { strict: true, noEmit: true, skipLibCheck: true });
    const checker = program.getTypeChecker();
    const file = program.getSourceFile(generated) as ts.SourceFile;
    const components = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'components') as ts.InterfaceDeclaration;
    const schemas = checker.getTypeAtLocation(components).getProperty('schemas') as ts.Symbol;
    const schemasType = checker.getTypeOfSymbolAtLocation(schemas, components);

    const mismatches: string[] = [];
    let checked = 0;
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      if (!schema.properties) continue;
      const type = checker.getTypeOfSymbolAtLocation(schemasType.getProperty(name) as ts.Symbol, components);
      for (const property of Object.keys(schema.properties)) {
        const symbol = type.getProperty(property);
        const optional = symbol ? (symbol.flags & ts.SymbolFlags.Optional) !== 0 : undefined;
        const wanted = !(schema.required ?? []).includes(property);
        checked++;
        if (optional !== wanted) mismatches.push(`${name}.${property}: optional ${optional}, document says ${wanted}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
  });
});
