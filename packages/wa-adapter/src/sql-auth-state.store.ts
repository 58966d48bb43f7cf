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

/**
 * Key writes of a session held back while a send is on its way (`holdKeyWrites`): `type|keyId`
 * to its encoded value, or null for a deletion. Reads of the session see them; they are written
 * with the send's own records (`commitHeld`), or on their own once the last hold ends.
 */
interface HeldKeys {
  holds: number;
  rows: Map<string, HeldRow>;
}

interface HeldRow {
  type: string;
  keyId: string;
  value: string | null;
}

const heldByDataSource = new WeakMap<DataSource, Map<string, HeldKeys>>();

/** Key rows as `AuthKeyWriter` takes them: the upserts (rows with a value) and the deletions by type. */
function splitRows(rows: Iterable<HeldRow>): { upserts: AuthKeyRow[]; deletes: Map<string, string[]> } {
  const upserts: AuthKeyRow[] = [];
  const deletes = new Map<string, string[]>();
  for (const row of rows) {
    if (row.value !== null) upserts.push({ type: row.type, keyId: row.keyId, value: row.value });
    else deletes.set(row.type, [...(deletes.get(row.type) ?? []), row.keyId]);
  }
  return { upserts, deletes };
}

/**
 * Hands what `held` holds to `write`; once that resolves, those rows count as written. A row set
 * again meanwhile holds a newer value and stays, to be written later. A rejection keeps them all.
 */
async function writeHeld<T>(held: HeldKeys | undefined, write: (upserts: AuthKeyRow[], deletes: Map<string, string[]>) => Promise<T>): Promise<T> {
  const taken = held ? [...held.rows] : [];
  const { upserts, deletes } = splitRows(taken.map(([, row]) => row));
  const result = await write(upserts, deletes);
  if (held) for (const [key, row] of taken) if (held.rows.get(key) === row) held.rows.delete(key);
  return result;
}

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
  /** Per session, key writes held back for sends on their way; shared like the queues. */
  private readonly held: Map<string, HeldKeys>;

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
    let held = heldByDataSource.get(dataSource);
    if (!held) {
      held = new Map();
      heldByDataSource.set(dataSource, held);
    }
    this.held = held;
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
        // Held writes are the newest values (a deletion: none); only the other ids are read.
        const held = this.held.get(sessionId)?.rows;
        const known = absentOf().get(type);
        const values: { keyId: string; value: string }[] = [];
        const wanted: string[] = [];
        for (const id of ids) {
          const row = held?.get(`${type}|${id}`);
          if (row) {
            if (row.value !== null) values.push({ keyId: id, value: row.value });
          } else if (!known?.has(id)) wanted.push(id);
        }
        const repo = this.dataSource.getRepository(WaAuthKeyEntity);
        const found: WaAuthKeyEntity[] = [];
        for (const part of chunk(wanted, ROWS_PER_STATEMENT)) {
          found.push(...(await repo.findBy({ sessionId, type, keyId: In(part) })));
        }
        const present = new Set(found.map((r) => r.keyId));
        for (const id of wanted) if (!present.has(id)) markAbsent(type, id);
        for (const r of found) values.push({ keyId: r.keyId, value: r.value });
        return values;
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
      const rows: HeldRow[] = [];
      for (const type of Object.keys(data) as KeyType[]) {
        const entries = data[type];
        if (!entries) continue;
        for (const [keyId, value] of Object.entries(entries)) {
          rows.push({ type, keyId, value: value === null || value === undefined ? null : encode(value) });
        }
      }
      if (rows.length === 0) return;
      const held = this.held.get(sessionId);
      if (held) {
        // Held for a send on its way: kept (reads see them) and written with its records; the
        // absent-key marks follow at once, since reads already see the rows as they will be.
        for (const row of rows) {
          held.rows.set(`${row.type}|${row.keyId}`, row);
          if (row.value !== null) absentOf().get(row.type as KeyType)?.delete(row.keyId);
          else markAbsent(row.type as KeyType, row.keyId);
        }
        // No send holds them any more (the last hold is ending): written now, as without a hold.
        if (held.holds === 0) await this.flushHeld(sessionId, held);
        return;
      }
      const { upserts, deletes } = splitRows(rows);
      await this.serialize(sessionId, async () => {
        for (const u of upserts) absentOf().get(u.type as KeyType)?.delete(u.keyId);
        try {
          await this.writeKeys(sessionId, upserts, deletes);
        } catch (err) {
          // Whether the deletes happened is unknown: look them up again next time.
          for (const [type, keyIds] of deletes) for (const id of keyIds) absentOf().get(type as KeyType)?.delete(id);
          throw err;
        }
        for (const [type, keyIds] of deletes) for (const id of keyIds) markAbsent(type as KeyType, id);
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
    this.held.delete(sessionId);
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

  /**
   * Holds the session's key writes back until the returned release: Baileys commits a send's
   * Signal keys after the message node left, and the sender writes them with that send's own
   * records in one commit (`commitHeld`) instead of a commit of their own. Reads of the session
   * see held writes. Holds of one session overlap (sends to several chats); whatever the last
   * release finds still held is written then, on its own, before the release resolves.
   */
  holdKeyWrites(sessionId: string): () => Promise<void> {
    let held = this.held.get(sessionId);
    if (!held) this.held.set(sessionId, (held = { holds: 0, rows: new Map() }));
    const mine = held;
    mine.holds++;
    let open = true;
    return async () => {
      if (!open) return;
      open = false;
      if (--mine.holds === 0) await this.flushHeld(sessionId, mine);
    };
  }

  /**
   * Runs `work` with the session's held key writes, after every read and write queued before it
   * and before any queued after it; once it resolves they count as written. `work` writes them in
   * the same commit as its own records (a send's `relayed` mark and stored message). A rejection
   * leaves them held, for the next commit or the last release.
   */
  commitHeld<T>(sessionId: string, work: (upserts: AuthKeyRow[], deletes: Map<string, string[]>) => Promise<T>): Promise<T> {
    return this.serialize(sessionId, () => writeHeld(this.held.get(sessionId), work));
  }

  /** Writes what a session holds once no send holds it; the hold ends with the write. */
  private flushHeld(sessionId: string, held: HeldKeys): Promise<void> {
    return this.serialize(sessionId, async () => {
      if (held.holds > 0 || this.held.get(sessionId) !== held) return;
      if (held.rows.size > 0) await writeHeld(held, (upserts, deletes) => this.writeKeys(sessionId, upserts, deletes));
      // Rows set while that write ran are still held: the set that put them there flushes again.
      if (held.rows.size === 0 && held.holds === 0) this.held.delete(sessionId);
    });
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
