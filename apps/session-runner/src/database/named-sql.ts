import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * SQL with `:name` parameters, written once for both databases, in the form each driver takes:
 * `$1, $2, …` for PostgreSQL, `?` (values repeated as often as they are named) for SQLite. An
 * array value becomes a list of parameters (`IN (:jids)`), an empty one `NULL` (matches nothing).
 */
export function namedSql(sql: string, values: Record<string, unknown>, postgres: boolean): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const one = (value: unknown): string => {
    params.push(value);
    return postgres ? `$${params.length}` : '?';
  };
  const text = sql.replace(/:(\w+)/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for :${name}`);
    const value = values[name];
    if (!Array.isArray(value)) return one(value);
    return value.length ? value.map(one).join(', ') : 'NULL';
  });
  return { text, params };
}

/**
 * Reads in one statement each, off TypeORM's query builder: on PostgreSQL as named prepared
 * statements (parsed and planned once per connection, which the many-CTE reads benefit from),
 * on SQLite through TypeORM's cache of prepared statements.
 */
export class ReadSql {
  private readonly postgres: boolean;
  private readonly names = new Map<string, string>();

  constructor(private readonly db: DataSource) {
    this.postgres = db.options.type === 'postgres';
  }

  async rows<T>(sql: string, values: Record<string, unknown>): Promise<T[]> {
    const { text, params } = namedSql(sql, values, this.postgres);
    if (!this.postgres) return (await this.db.query(text, params)) as T[];
    // One name per text: a name pg has prepared on a connection must always mean the same text.
    let name = this.names.get(text);
    if (!name) {
      name = `read_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
      if (this.names.size < MAX_NAMES) this.names.set(text, name);
    }
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    return (await pool.query({ name, text, values: params })).rows as T[];
  }
}

/** Texts differ by the length of their IN lists: bounds the memo, not what pg prepares. */
const MAX_NAMES = 500;
