import { isIP } from 'node:net';
import { cidrProblem } from './address-policy';

/**
 * Reading configuration from the environment. Each reader throws a ConfigError that names the
 * variable and what was wrong, so that start-up fails with one clear line.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function envString(env: Env, name: string, fallback?: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback === undefined) throw new ConfigError(name, 'is required');
    return fallback;
  }
  return raw;
}

export function envOptional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

export function envInt(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${value})`);
  return value;
}

export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

export function envEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}

export function envUrl(env: Env, name: string, protocols: readonly string[], fallback?: string): string {
  const value = envString(env, name, fallback);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `must be a URL (got "${value}")`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')} (got "${url.protocol}")`);
  }
  return value;
}

/** Comma-separated IP addresses and CIDR ranges (`10.1.0.0/16,fd00::5`); unset = none. */
export function envCidrList(env: Env, name: string): string[] {
  const raw = envOptional(env, name);
  if (raw === undefined) return [];
  const cidrs = raw.split(',').map((p) => p.trim()).filter(Boolean);
  for (const cidr of cidrs) {
    const problem = cidrProblem(cidr);
    if (problem) throw new ConfigError(name, `must be comma-separated IP addresses or CIDR ranges; ${problem}`);
  }
  return cidrs;
}

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A listen address: an IPv4 or IPv6 literal, or a host name. */
export function envHost(env: Env, name: string, fallback: string): string {
  const value = envString(env, name, fallback).trim();
  if (!isIP(value) && !HOSTNAME_RE.test(value)) throw new ConfigError(name, `must be an IP address or a host name (got "${value}")`);
  return value;
}

/** `poolSize`: connections the process may open to PostgreSQL (SQLite has one connection). */
export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema?: string; poolSize?: number };

/** PostgreSQL connections per process when `DATABASE_POOL_SIZE` is not set. */
export const DEFAULT_DATABASE_POOL_SIZE = 10;

/**
 * The process's database: `DATABASE_URL` (see `parseDatabaseUrl`), and on PostgreSQL the size of
 * its connection pool, `DATABASE_POOL_SIZE`.
 */
export function readDatabaseTarget(env: Env, fallbackUrl: string): DatabaseTarget {
  const target = parseDatabaseUrl('DATABASE_URL', envString(env, 'DATABASE_URL', fallbackUrl));
  const poolSize = envInt(env, 'DATABASE_POOL_SIZE', DEFAULT_DATABASE_POOL_SIZE, 1, 1000);
  return target.kind === 'postgres' ? { ...target, poolSize } : target;
}

/**
 * `sqlite:./data/gateway.db`, `sqlite::memory:` or `postgres://user@host:5432/db?schema=name`.
 * The optional `schema` query parameter lets several apps or test runs share one database.
 */
export function parseDatabaseUrl(name: string, value: string): DatabaseTarget {
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (!path) throw new ConfigError(name, 'needs a file path after "sqlite:" (or ":memory:")');
    return { kind: 'sqlite', path };
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(name, 'is not a valid postgres:// URL');
    }
    if (!url.hostname) throw new ConfigError(name, 'must name the PostgreSQL host, like postgres://user@db:5432/wa');
    const schema = url.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new ConfigError(name, `has an invalid schema name "${schema}"`);
    }
    url.searchParams.delete('schema');
    return { kind: 'postgres', url: url.toString(), schema };
  }
  throw new ConfigError(name, `must start with sqlite: or postgres:// (got "${value.replace(/\/\/[^@]*@/, '//***@')}")`);
}
