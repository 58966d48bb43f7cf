import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery } from '@nestjs/swagger';
import { ApiErrorResponse, toOpenApiSchema, type Static, type TSchema } from '@wa/contracts';
import { AppError } from '@wa/domain';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifyRequest } from 'fastify';
import { BODIES_WITH_NUL } from './json-body.parser';

/**
 * Request validation from the contracts' JSON Schemas, compiled once per schema with Ajv (as
 * Fastify does), so a request costs one generated function call and no walk over metadata.
 * The same schema objects are handed to @nestjs/swagger, so the document says exactly what the
 * route enforces.
 *
 * Ajv walks the input only as deep as the schema goes and reads own properties only, so a
 * client's keys and values never reach the prototype chain here.
 */

export interface FieldProblem {
  field: string;
  problems: string[];
}

/** Components the decorators referenced; the OpenAPI builder adds them to the document. */
export const REQUEST_COMPONENTS: Record<string, unknown> = {};

/** Above this many bytes a failing body is reported by its first problem only: collecting every error of a huge array costs more than it tells. */
const ALL_ERRORS_MAX_BYTES = 64 * 1024;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

function newAjv(allErrors: boolean): Ajv {
  const ajv = new Ajv({
    allErrors,
    verbose: allErrors,
    ownProperties: true,
    discriminator: true,
    strict: true,
    strictRequired: false,
    validateFormats: true,
  });
  ajv.addKeyword('example');
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) });
  return ajv;
}

// Query strings are converted by `queryValues` below, strictly, not by Ajv's lenient coercion
// (which turns "1e400" into Infinity and "0x10" into 16).
const AJV = { fast: newAjv(false), full: newAjv(true) };

/** At most this many fields are listed in one answer; a body with thousands of bad items gets a readable error. */
const MAX_REPORTED_FIELDS = 20;

function fieldOf(path: string): string {
  if (!path) return '';
  return path
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

const TYPE_WORDS: Record<string, string> = { string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false', object: 'an object', array: 'an array', null: 'null' };

function describe(error: ErrorObject, root: string): FieldProblem {
  const at = fieldOf(error.instancePath);
  const field = at || root;
  const name = field.slice(field.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '') || root;
  const p = error.params as Record<string, unknown>;
  const sub = (key: string): FieldProblem => {
    const child = at ? `${at}.${key}` : key;
    return { field: child, problems: [] };
  };
  switch (error.keyword) {
    case 'required': {
      const f = sub(String(p.missingProperty));
      return { ...f, problems: [`${String(p.missingProperty)} is required`] };
    }
    case 'additionalProperties': {
      const f = sub(String(p.additionalProperty));
      return { ...f, problems: [`property ${String(p.additionalProperty)} should not exist`] };
    }
    case 'type': {
      const types = String(p.type).split(',');
      return { field, problems: [`${name} must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`] };
    }
    case 'minLength':
      return { field, problems: [`${name} must be at least ${String(p.limit)} characters long`] };
    case 'maxLength':
      return { field, problems: [`${name} must be at most ${String(p.limit)} characters long`] };
    case 'minItems':
      return { field, problems: [`${name} must contain at least ${String(p.limit)} elements`] };
    case 'maxItems':
      return { field, problems: [`${name} must contain no more than ${String(p.limit)} elements`] };
    case 'uniqueItems':
      return { field, problems: [`${name} must not contain the same element twice`] };
    case 'minimum':
      return { field, problems: [`${name} must not be less than ${String(p.limit)}`] };
    case 'maximum':
      return { field, problems: [`${name} must not be greater than ${String(p.limit)}`] };
    case 'enum':
      return { field, problems: [`${name} must be one of: ${(p.allowedValues as unknown[]).join(', ')}`] };
    case 'const':
      return { field, problems: [`${name} must be ${JSON.stringify(p.allowedValue)}`] };
    case 'format':
      return { field, problems: [p.format === 'date-time' ? `${name} must be an ISO 8601 date and time with a time zone` : `${name} must be a ${String(p.format)}`] };
    case 'pattern': {
      const example = (error.parentSchema as { example?: unknown } | undefined)?.example;
      return { field, problems: [example === undefined ? `${name} has an invalid format` : `${name} has an invalid format (expected something like ${JSON.stringify(example)})`] };
    }
    case 'discriminator': {
      const tag = String(p.tag);
      const members = ((error.parentSchema as { oneOf?: Array<{ properties?: Record<string, { const?: unknown }> }> } | undefined)?.oneOf ?? [])
        .map((m) => m.properties?.[tag]?.const)
        .filter((v) => v !== undefined);
      const tagField = at ? `${at}.${tag}` : tag;
      return { field: tagField, problems: [`${tag} must be one of: ${members.join(', ')}`] };
    }
    default:
      return { field, problems: [`${name} is invalid`] };
  }
}

export function toFieldProblems(errors: ErrorObject[], root: string): FieldProblem[] {
  const byField = new Map<string, string[]>();
  for (const error of errors) {
    // The branches of a discriminated oneOf are reported through the discriminator or the chosen branch.
    if (error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const { field, problems } = describe(error, root);
    const list = byField.get(field) ?? [];
    for (const problem of problems) if (!list.includes(problem)) list.push(problem);
    byField.set(field, list);
  }
  return [...byField].slice(0, MAX_REPORTED_FIELDS).map(([field, problems]) => ({ field, problems }));
}

export function validationError(fields: FieldProblem[]): AppError {
  const summary = fields.map((f) => `${f.field}: ${f.problems.join(', ')}`).join('; ');
  return new AppError('validation_error', summary ? `invalid request: ${summary}` : 'invalid request', { fields });
}

export type Validator<T> = (value: unknown, sizeHint?: number) => T;

/** Compiles `schema` for one request part; the validator returns the value or throws `validation_error` with per-field details. */
export function compileValidator<S extends TSchema>(schema: S, part: 'body' | 'query'): Validator<Static<S>> {
  const fast: ValidateFunction = AJV.fast.compile(schema);
  let full: ValidateFunction | undefined;
  return (value, sizeHint = 0) => {
    if (fast(value)) return value as Static<S>;
    let errors = fast.errors ?? [];
    if (sizeHint <= ALL_ERRORS_MAX_BYTES) {
      full ??= AJV.full.compile(schema);
      full(value);
      errors = full.errors ?? errors;
    }
    throw validationError(toFieldProblems(errors, part));
  };
}

function bodySize(request: FastifyRequest): number {
  const length = Number(request.headers['content-length']);
  return Number.isFinite(length) ? length : Number.MAX_SAFE_INTEGER;
}

/** A route that validates a body or a query can answer 400; the document says so wherever it does. */
const BAD_REQUEST = ApiErrorResponse(400, ['validation_error'], '`validation_error`: the request does not match the schema; `details.fields` lists each problem.');

export interface BodyOptions {
  /** False for routes whose body may be left out (then the handler gets `undefined`). */
  required?: boolean;
  description?: string;
}

/**
 * The request body, validated against `schema`, and the same schema as the operation's
 * documented body.
 */
export function ValidBody<S extends TSchema>(schema: S, options: BodyOptions = {}): ParameterDecorator {
  const required = options.required ?? true;
  const validate = compileValidator(schema, 'body');
  const param = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
    const request = ctx.switchToHttp().getRequest<FastifyRequest>();
    if (request.body === undefined || request.body === null) {
      if (!required) return undefined;
      throw validationError([{ field: 'body', problems: ['a JSON object body is required'] }]);
    }
    if (BODIES_WITH_NUL.has(request)) throw validationError([{ field: 'body', problems: ['strings must not contain NUL characters (\\u0000)'] }]);
    return validate(request.body, bodySize(request));
  })();
  const documented = [ApiBody({ schema: toOpenApiSchema(schema, REQUEST_COMPONENTS), required, description: options.description }), BAD_REQUEST];
  return (target, key, index) => {
    param(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key) as PropertyDescriptor;
    for (const doc of documented) doc(target, key, descriptor);
  };
}

/** The query string, converted and validated against `schema` (an object of scalar properties); each property is documented as a query parameter. */
export function ValidQuery<S extends TSchema>(schema: S): ParameterDecorator {
  const validate = compileValidator(schema, 'query');
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const numeric = new Set(Object.keys(properties).filter((name) => ['integer', 'number'].includes(String(properties[name].type))));
  const param = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
    const query = ctx.switchToHttp().getRequest<FastifyRequest>().query as Record<string, unknown>;
    return validate(queryValues(query, numeric));
  })();
  const requiredNames = new Set((schema as { required?: string[] }).required ?? []);
  const documented = Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = toOpenApiSchema(property, REQUEST_COMPONENTS) as { description?: string };
    return ApiQuery({ name, required: requiredNames.has(name), schema: rest, description });
  });
  documented.push(BAD_REQUEST);
  return (target, key, index) => {
    param(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key) as PropertyDescriptor;
    for (const doc of documented) doc(target, key, descriptor);
  };
}

const DECIMAL = /^-?\d{1,15}(\.\d{1,15})?$/;

/**
 * A copy of the parsed query with numeric parameters converted: plain decimals only, anything
 * else stays a string and fails the schema's type. Repeated parameters stay arrays and fail too.
 */
export function queryValues(query: Record<string, unknown>, numeric: ReadonlySet<string>): Record<string, unknown> {
  // No prototype: a `__proto__` parameter is then an own (and refused) property, not a prototype.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of Object.entries(query)) out[name] = numeric.has(name) && typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value;
  return out;
}

/** One path parameter, validated against `schema` (a string schema) and documented from it. */
export function ValidParam(name: string, schema: TSchema): ParameterDecorator {
  const check = AJV.fast.compile(schema);
  const param = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
    const value = (ctx.switchToHttp().getRequest<FastifyRequest>().params as Record<string, unknown>)[name];
    if (check(value)) return value;
    throw validationError(toFieldProblems(check.errors ?? [], name).map((f) => ({ field: name, problems: f.problems.map((p) => p.replace(/^\S+ /, `${name} `)) })));
  })();
  const { description, example, ...rest } = toOpenApiSchema(schema, REQUEST_COMPONENTS) as { description?: string; example?: unknown };
  const documented = [ApiParam({ name, required: true, schema: rest, description, example }), BAD_REQUEST];
  return (target, key, index) => {
    param(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key) as PropertyDescriptor;
    for (const doc of documented) doc(target, key, descriptor);
  };
}
