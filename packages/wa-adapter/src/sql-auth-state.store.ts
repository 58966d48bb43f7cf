import type {
  AuthenticationCreds,
  AuthenticationState,
  SignalDataSet,
  SignalDataTypeMap,
} from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };
import { type DataSource, type EntityManager, In } from 'typeorm';

import { loadBaileys } from './baileys.loader';
import { WaAuthCredsEntity } from './wa-auth-creds.entity';
import { WaAuthKeyEntity } from './wa-auth-key.entity';

export interface SqlAuthState {
  state: AuthenticationState;
  saveCreds: () => Promise<void>;
}

type KeyType = keyof SignalDataTypeMap;

/**
 * Keeps bound parameters per statement well under SQLite's and PostgreSQL's limits: a pre-key
 * upload writes hundreds of keys in one batch.
 */
const ROWS_PER_STATEMENT = 200;

/** Absent keys remembered per session and key type (ids Baileys asked for that the store lacks). */
const ABSENT_KEPT = 50_000;

/**
 * Shared across store instances of the same DataSource so that two `useSqlAuthState` calls for
 * one session still queue behind each other.
 */
const queuesByDataSource = new WeakMap<DataSource, Map<string, Promise<unknown>>>();

const absentByDataSource = new WeakMap<DataSource, Map<string, Map<KeyType, Set<string>>>>();

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Baileys' auth state in SQL. Every read and write of a session runs after the previous one has
 * settled, so a key batch is never interleaved with another batch or with a creds save, and
 * reads see every write issued before them. A failed operation rejects its own promise and does
 * not block the ones queued after it.
 */
/** Runs a transaction; the runner passes one that takes its turn on SQLite's single connection. */
export type TransactionRunner = <T>(work: (manager: EntityManager) => Promise<T>) => Promise<T>;

/** One row of `wa_auth_keys`: a Signal key, BufferJSON-encoded. */
export interface AuthKeyRow {
  type: string;
  keyId: string;
  value: string;
}

/**
 * Writes one batch of a session's keys (upserts, and deletions by type) atomically. The runner
 * passes one built on prepared statements: Baileys holds the account's key lock while a send's
 * keys are written, so this write is part of every send's time.
 */
export type AuthKeyWriter = (sessionId: string, upserts: AuthKeyRow[], deletes: Map<string, string[]>) => Promise<void>;

export class SqlAuthStateStore {
  private readonly queues: Map<string, Promise<unknown>>;
  /** Per session, the keys known to be absent (see `use`); shared like the queues. */
  private readonly absent: Map<string, Map<KeyType, Set<string>>>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transaction: TransactionRunner = (work) => dataSource.transaction(work),
    private readonly writeKeys: AuthKeyWriter = (sessionId, upserts, deletes) =>
      transaction(async (manager: EntityManager) => {
        const rows = upserts.map((u) => Object.assign(new WaAuthKeyEntity(), { sessionId, ...u }));
        for (const part of chunk(rows, ROWS_PER_STATEMENT)) {
          await manager.upsert(WaAuthKeyEntity, part, ['sessionId', 'type', 'keyId']);
        }
        for (const [type, keyIds] of deletes) {
          for (const part of chunk(keyIds, ROWS_PER_STATEMENT)) {
            await manager.delete(WaAuthKeyEntity, { sessionId, type, keyId: In(part) });
          }
        }
      }),
  ) {
    let queues = queuesByDataSource.get(dataSource);
    if (!queues) {
      queues = new Map();
      queuesByDataSource.set(dataSource, queues);
    }
    this.queues = queues;
    let absent = absentByDataSource.get(dataSource);
    if (!absent) {
      absent = new Map();
      absentByDataSource.set(dataSource, absent);
    }
    this.absent = absent;
  }

  /** Loads (or initialises) the session's creds and returns Baileys' `{state, saveCreds}`. */
  async use(sessionId: string): Promise<SqlAuthState> {
    const { BufferJSON, initAuthCredsOffThread, proto } = await loadBaileys();
    const encode = (value: unknown): string => JSON.stringify(value, BufferJSON.replacer);
    const decode = (text: string): unknown => JSON.parse(text, BufferJSON.reviver);

    const row = await this.serialize(sessionId, () =>
      this.dataSource.getRepository(WaAuthCredsEntity).findOneBy({ sessionId }),
    );
    // New credentials' keys and signed pre-key are made off the event loop (the Baileys patch):
    // ~10 ms of synchronous key generation and JavaScript signing each, many at once while pairing.
    const creds: AuthenticationCreds = row ? (decode(row.creds) as AuthenticationCreds) : await initAuthCredsOffThread();

    // Keys known to be absent (looked up and not found, or deleted): Baileys asks for some on
    // every send (a contact's privacy token, the LID of a contact without one), and its cache in
    // front keeps only keys that exist. Every write of the session's keys in this process goes
    // through `set` of a store sharing this map, which keeps it true; a new socket starts afresh.
    this.absent.delete(sessionId);
    const absentOf = (): Map<KeyType, Set<string>> => {
      let absent = this.absent.get(sessionId);
      if (!absent) this.absent.set(sessionId, (absent = new Map()));
      return absent;
    };
    const markAbsent = (type: KeyType, keyId: string): void => {
      const absent = absentOf();
      let ids = absent.get(type);
      if (!ids) absent.set(type, (ids = new Set()));
      if (ids.size >= ABSENT_KEPT) ids.clear();
      ids.add(keyId);
    };

    const get = async <T extends KeyType>(type: T, ids: string[]): Promise<{ [id: string]: SignalDataTypeMap[T] }> => {
      const rows = await this.serialize(sessionId, async () => {
        const known = absentOf().get(type);
        const wanted = known ? ids.filter((id) => !known.has(id)) : ids;
        const repo = this.dataSource.getRepository(WaAuthKeyEntity);
        const found: WaAuthKeyEntity[] = [];
        for (const part of chunk(wanted, ROWS_PER_STATEMENT)) {
          found.push(...(await repo.findBy({ sessionId, type, keyId: In(part) })));
        }
        const present = new Set(found.map((r) => r.keyId));
        for (const id of wanted) if (!present.has(id)) markAbsent(type, id);
        return found;
      });
      const result: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const r of rows) {
        let value = decode(r.value);
        // Baileys' own file store does the same: sync keys must be protobuf objects, not plain JSON.
        if (type === 'app-state-sync-key') {
          value = proto.Message.AppStateSyncKeyData.fromObject(value as Record<string, unknown>);
        }
        result[r.keyId] = value as SignalDataTypeMap[T];
      }
      return result;
    };

    const set = async (data: SignalDataSet): Promise<void> => {
      const upserts: AuthKeyRow[] = [];
      const deletes = new Map<KeyType, string[]>();
      for (const type of Object.keys(data) as KeyType[]) {
        const entries = data[type];
        if (!entries) continue;
        for (const [keyId, value] of Object.entries(entries)) {
          if (value === null || value === undefined) {
            deletes.set(type, [...(deletes.get(type) ?? []), keyId]);
          } else {
            upserts.push({ type, keyId, value: encode(value) });
          }
        }
      }
      if (upserts.length === 0 && deletes.size === 0) return;
      await this.serialize(sessionId, async () => {
        for (const u of upserts) absentOf().get(u.type as KeyType)?.delete(u.keyId);
        try {
          await this.writeKeys(sessionId, upserts, deletes);
        } catch (err) {
          // Whether the deletes happened is unknown: look them up again next time.
          for (const [type, keyIds] of deletes) for (const id of keyIds) absentOf().get(type)?.delete(id);
          throw err;
        }
        for (const [type, keyIds] of deletes) for (const id of keyIds) markAbsent(type, id);
      });
    };

    const saveCreds = (): Promise<void> =>
      this.serialize(sessionId, async () => {
        await this.dataSource
          .getRepository(WaAuthCredsEntity)
          .upsert({ sessionId, creds: encode(creds) }, ['sessionId']);
      });

    return { state: { creds, keys: { get, set } }, saveCreds };
  }

  /** Wipes creds and keys: after a logout, or when a pairing was abandoned. */
  clear(sessionId: string): Promise<void> {
    this.absent.delete(sessionId);
    return this.serialize(sessionId, () =>
      this.transaction(async (manager: EntityManager) => {
        await manager.delete(WaAuthKeyEntity, { sessionId });
        await manager.delete(WaAuthCredsEntity, { sessionId });
      }),
    );
  }

  /** "Logged in" means a completed pairing: `me.id` and the signed `account`, not `registered`. */
  async isLoggedIn(sessionId: string): Promise<boolean> {
    const { BufferJSON } = await loadBaileys();
    const row = await this.serialize(sessionId, () =>
      this.dataSource.getRepository(WaAuthCredsEntity).findOneBy({ sessionId }),
    );
    if (!row) return false;
    return isLoggedInCreds(JSON.parse(row.creds, BufferJSON.reviver) as AuthenticationCreds);
  }

  private serialize<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(sessionId) ?? Promise.resolve();
    const run = previous.then(task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(sessionId, settled);
    void settled.then(() => {
      if (this.queues.get(sessionId) === settled) this.queues.delete(sessionId);
    });
    return run;
  }
}

export function isLoggedInCreds(creds: Pick<AuthenticationCreds, 'me' | 'account'>): boolean {
  return Boolean(creds.me?.id && creds.account);
}

/** Shorthand for a one-off `new SqlAuthStateStore(dataSource).use(sessionId)`. */
export function useSqlAuthState(dataSource: DataSource, sessionId: string): Promise<SqlAuthState> {
  return new SqlAuthStateStore(dataSource).use(sessionId);
}
