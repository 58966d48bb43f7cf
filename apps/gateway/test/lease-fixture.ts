import { until } from '@wa/wa-sandbox/testing';
import { dropTestSchemas, schemaClient } from './harness';
import { HANG_MS } from './deadlines';

export interface LeaseRow {
  owner: string;
  epoch: number;
  expiresAt: number;
}

/** The lease rows of a runner database on PostgreSQL (its `schema=` parameter names the schema). */
export async function leaseRows(runnerDb: string): Promise<Map<string, LeaseRow>> {
  const { pg, schema } = await schemaClient(runnerDb);
  try {
    const r = await pg.query<{ session_id: string; owner_id: string; epoch: string; expires_at: string }>(
      `SELECT session_id, owner_id, epoch, expires_at FROM "${schema}".session_leases`,
    );
    return new Map(r.rows.map((row) => [row.session_id, { owner: row.owner_id, epoch: Number(row.epoch), expiresAt: Number(row.expires_at) }]));
  } finally {
    await pg.end();
  }
}

export async function leaseOwner(runnerDb: string, sessionId: string): Promise<LeaseRow> {
  const row = (await leaseRows(runnerDb)).get(sessionId);
  if (!row) throw new Error(`no lease row for session ${sessionId}`);
  return row;
}

/** Polls `probe` every 50 ms until it returns a truthy value, at most `timeoutMs`; `what` names it in the error. */
export function eventually<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = HANG_MS): Promise<T> {
  return until(what, probe, timeoutMs, 50);
}

/** Gateway settings of the fault suites: no pacing, and the outbox looks for work every 100 ms. */
export const UNPACED_GATEWAY = { SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0', OUTBOX_POLL_INTERVAL_MS: '100' } as const;

/** Closes a suite's parts in order (each may be missing when beforeAll failed), then drops its schemas. */
export async function teardown(...closers: Array<() => Promise<unknown> | undefined>): Promise<void> {
  for (const close of closers) await close();
  await dropTestSchemas();
}
