import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Request shapes are JSON Schema objects built with TypeBox: one object is the TypeScript type
 * (`Static<typeof X>`), the validator the gateway compiles once with Ajv, and the component the
 * OpenAPI document publishes. A schema given a name with `named()` becomes a component of that
 * name, and every other schema that embeds it refers to it with `$ref` in the document.
 */
export { Type, type Static, type TSchema };

const NAMES = new WeakMap<object, string>();

export function named<T extends TSchema>(name: string, schema: T): T {
  NAMES.set(schema, name);
  return schema;
}

export function schemaName(schema: object): string | undefined {
  return NAMES.get(schema);
}

/** `nullable: true` is how OpenAPI 3.0 says "or null"; Ajv understands the keyword as well. */
export function Nullable<T extends TSchema>(schema: T): TSchema & { static: Static<T> | null } {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });
}

/**
 * A `oneOf` chosen by a string property, as OpenAPI 3.0 and Ajv's `discriminator` option both
 * read it: every member is a named object schema whose discriminator property is one literal.
 */
export function Discriminated<T extends TSchema[]>(property: string, members: [...T], options: Record<string, unknown> = {}): TSchema & { static: Static<T[number]> } {
  return Type.Unsafe<Static<T[number]>>({ ...options, type: 'object', oneOf: members, discriminator: { propertyName: property } });
}

const REF_PREFIX = '#/components/schemas/';

function convert(node: unknown, root: object | undefined, found: Map<string, object>): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, undefined, found));
  if (!node || typeof node !== 'object') return node;
  const name = NAMES.get(node);
  if (name && node !== root) {
    if (!found.has(name)) found.set(name, node);
    return { $ref: REF_PREFIX + name };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    // OpenAPI 3.0 has no `const`: a one-value enum says the same.
    if (key === 'const') out.enum = [value];
    else if (key === 'properties' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, convert(v, undefined, found)]));
    } else out[key] = convert(value, undefined, found);
  }
  const discriminator = out.discriminator as { propertyName: string; mapping?: Record<string, string> } | undefined;
  if (discriminator && Array.isArray((node as { oneOf?: unknown }).oneOf)) {
    const mapping: Record<string, string> = {};
    for (const member of (node as { oneOf: Array<{ properties?: Record<string, { const?: unknown }> }> }).oneOf) {
      const tag = member.properties?.[discriminator.propertyName]?.const;
      const memberName = NAMES.get(member);
      if (typeof tag === 'string' && memberName) mapping[tag] = REF_PREFIX + memberName;
    }
    out.discriminator = { ...discriminator, mapping };
  }
  return out;
}

/**
 * The OpenAPI form of a schema: named sub-schemas replaced by `$ref`s, and every component it
 * needs collected (transitively) into `components`. The schema itself is inlined unless it is
 * named, in which case the answer is a `$ref` to it.
 */
export function toOpenApiSchema(schema: TSchema, components: Record<string, unknown>): Record<string, unknown> {
  const found = new Map<string, object>();
  const name = NAMES.get(schema);
  const top = name ? { $ref: REF_PREFIX + name } : (convert(schema, schema, found) as Record<string, unknown>);
  if (name) found.set(name, schema);
  while (found.size) {
    const [componentName, component] = found.entries().next().value as [string, object];
    found.delete(componentName);
    if (componentName in components) continue;
    components[componentName] = convert(component, component, found);
  }
  return top;
}

/** A string out of a fixed list, published as a plain `enum` (TypeBox would make an `anyOf` of consts). */
export function StringEnum<T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TSchema & { static: T[number] } {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}
