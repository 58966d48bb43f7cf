import { HotSql, type SqlStep } from '@wa/contracts/runtime';
import type { AuthKeyRow, AuthKeyWriter } from '@wa/wa-adapter';
import type { DataSource } from 'typeorm';

const UPSERT_ONE =
  'INSERT INTO wa_auth_keys (session_id, type, key_id, value) VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, type, key_id) DO UPDATE SET value = excluded.value';
const DELETE_ONE = 'DELETE FROM wa_auth_keys WHERE session_id = $1 AND type = $2 AND key_id = $3';
/** PostgreSQL: any number of rows in one statement of fixed text (arrays), so one prepared statement. */
const UPSERT_MANY =
  'INSERT INTO wa_auth_keys (session_id, type, key_id, value) SELECT $1, t, k, v FROM unnest($2::text[], $3::text[], $4::text[]) AS u(t, k, v) ' +
  'ON CONFLICT (session_id, type, key_id) DO UPDATE SET value = excluded.value';
const DELETE_MANY = 'DELETE FROM wa_auth_keys WHERE session_id = $1 AND type = $2 AND key_id = ANY($3::text[])';

/** A batch of Signal keys as statements: on PostgreSQL one per kind of change, on SQLite one per row (all in one commit). */
export function authKeySteps(kind: HotSql['kind'], sessionId: string, upserts: AuthKeyRow[], deletes: Map<string, string[]>): SqlStep[] {
  const steps: SqlStep[] = [];
  if (kind === 'postgres') {
    if (upserts.length) steps.push({ sql: UPSERT_MANY, params: [sessionId, upserts.map((u) => u.type), upserts.map((u) => u.keyId), upserts.map((u) => u.value)] });
    for (const [type, ids] of deletes) steps.push({ sql: DELETE_MANY, params: [sessionId, type, ids] });
  } else {
    for (const u of upserts) steps.push({ sql: UPSERT_ONE, params: [sessionId, u.type, u.keyId, u.value] });
    for (const [type, ids] of deletes) for (const id of ids) steps.push({ sql: DELETE_ONE, params: [sessionId, type, id] });
  }
  return steps;
}

/**
 * Writes a batch of Signal keys with prepared statements in one commit: on SQLite one
 * transaction, committed at once with the writes the turn gathered so far (a send holds its
 * account's key lock until this returns: waiting for the end of a busy turn held every later send
 * of the account back), on PostgreSQL one round trip. A send's own keys do not come here: they
 * are written with its `relayed` mark (see MessageSender).
 */
export function authKeyWriter(ds: DataSource): AuthKeyWriter {
  let sql: HotSql | undefined;
  return async (sessionId: string, upserts: AuthKeyRow[], deletes: Map<string, string[]>) => {
    sql ??= HotSql.of(ds);
    await sql.batch(authKeySteps(sql.kind, sessionId, upserts, deletes), true);
  };
}
