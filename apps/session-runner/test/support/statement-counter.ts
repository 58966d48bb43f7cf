import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';

type Query = (...args: unknown[]) => Promise<unknown>;
interface PgPool {
  connect: (cb?: (err: unknown, c?: { query: Query }, release?: unknown) => void) => Promise<{ query: Query }> | void;
}

/**
 * Counts the PostgreSQL statements (each a round trip) issued in one piece of work's own async
 * context: every pooled connection's `query` is wrapped once, and a statement counts for the work
 * whose context issued it, so the runner's lease, event and socket work running beside it does not.
 */
export function statementCounter(db: DataSource): <T>(work: () => Promise<T>) => Promise<{ answer: T; statements: string[] }> {
  const issuing = new AsyncLocalStorage<string[]>();
  const pool = (db.driver as unknown as { master: PgPool }).master;
  const wrapped = new WeakSet<object>();
  const wrap = <C extends { query: Query }>(c: C): C => {
    if (!wrapped.has(c)) {
      wrapped.add(c);
      const query = c.query.bind(c);
      c.query = (...args: unknown[]) => {
        const q = args[0] as string | { name?: string; text?: string };
        issuing.getStore()?.push(typeof q === 'string' ? q : `${q.name ?? ''} ${q.text ?? ''}`);
        return query(...args);
      };
    }
    return c;
  };
  const connect = pool.connect.bind(pool);
  pool.connect = ((cb?: (err: unknown, c?: { query: Query }, release?: unknown) => void) =>
    cb ? connect((err, c, release) => cb(err, c && wrap(c), release)) : (connect() as Promise<{ query: Query }>).then(wrap)) as PgPool['connect'];
  return async (work) => {
    const statements: string[] = [];
    const answer = await issuing.run(statements, work);
    return { answer, statements };
  };
}
