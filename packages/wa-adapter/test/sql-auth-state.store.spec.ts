import { randomBytes } from 'node:crypto';

import type { SignalDataSet } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };
import { DataSource, type DataSourceOptions } from 'typeorm';

import {
  SqlAuthStateStore,
  WaAuthCredsEntity,
  WaAuthKeyEntity,
  WaAuthState1764000000000,
  loadBaileys,
  useSqlAuthState,
} from '../src';

const pgSchema = `wa_adapter_${randomBytes(4).toString('hex')}`;

const databases: Array<[string, () => DataSourceOptions]> = [
  ['sqlite', () => ({ type: 'better-sqlite3', database: ':memory:' })],
  [
    'postgres',
    () => ({ type: 'postgres', host: '127.0.0.1', port: 5432, username: 'root', database: 'test', schema: pgSchema }),
  ],
];

describe.each(databases)(`${SqlAuthStateStore.name} on %s`, (driver, options) => {
  let dataSource: DataSource;

  beforeAll(async () => {
    if (driver === 'postgres') {
      const admin = new DataSource({ ...(options() as DataSourceOptions), schema: undefined } as DataSourceOptions);
      await admin.initialize();
      await admin.query(`CREATE SCHEMA "${pgSchema}"`);
      await admin.destroy();
    }
    dataSource = new DataSource({
      ...options(),
      entities: [WaAuthCredsEntity, WaAuthKeyEntity],
      migrations: [WaAuthState1764000000000],
    } as DataSourceOptions);
    await dataSource.initialize();
    await dataSource.runMigrations();
  });

  afterAll(async () => {
    if (driver === 'postgres') await dataSource.query(`DROP SCHEMA "${pgSchema}" CASCADE`);
    await dataSource.destroy();
  });

  it('starts a new session with fresh creds that are not logged in', async () => {
    const store = new SqlAuthStateStore(dataSource);
    const { state } = await store.use('fresh');
    expect(state.creds.noiseKey.public).toHaveLength(32);
    await expect(store.isLoggedIn('fresh')).resolves.toBe(false);
  });

  it('round-trips creds with Buffers and reports a completed pairing as logged in', async () => {
    const store = new SqlAuthStateStore(dataSource);
    const { state, saveCreds } = await store.use('creds');
    state.creds.me = { id: '491701234567:3@s.whatsapp.net', lid: '1234567890:3@lid', name: 'Ana' };
    state.creds.account = {
      details: randomBytes(40),
      accountSignature: randomBytes(64),
      accountSignatureKey: randomBytes(32),
      deviceSignature: randomBytes(64),
    };
    state.creds.routingInfo = randomBytes(12);
    await saveCreds();

    const reloaded = await store.use('creds');
    expect(Buffer.from(reloaded.state.creds.noiseKey.private)).toEqual(Buffer.from(state.creds.noiseKey.private));
    expect(Buffer.from(reloaded.state.creds.account!.details!)).toEqual(Buffer.from(state.creds.account.details!));
    expect(reloaded.state.creds.routingInfo).toEqual(state.creds.routingInfo);
    expect(reloaded.state.creds.me).toEqual(state.creds.me);
    expect(reloaded.state.creds.registrationId).toBe(state.creds.registrationId);
    await expect(store.isLoggedIn('creds')).resolves.toBe(true);
  });

  it('round-trips every key type Baileys writes', async () => {
    const { Curve, proto } = await loadBaileys();
    const { state } = await useSqlAuthState(dataSource, 'keys');
    const preKey = Curve.generateKeyPair();
    const data = {
      'pre-key': { '1': preKey },
      session: { '491701234567.0': randomBytes(300) },
      'sender-key': { '123@g.us::491701234567::0': randomBytes(100) },
      'sender-key-memory': { '123@g.us': { '491701234567:0@s.whatsapp.net': true } },
      'app-state-sync-key': {
        AAAAAJ7X: { keyData: randomBytes(32), fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0, 1] }, timestamp: 1700000000 },
      },
      'app-state-sync-version': {
        regular_high: { version: 4, hash: randomBytes(128), indexValueMap: { abc: { valueMac: randomBytes(32) } } },
      },
      'lid-mapping': { '491701234567': '1234567890', '1234567890_reverse': '491701234567' },
      'device-list': { '491701234567': ['0', '3'] },
      tctoken: { '1234567890@lid': { token: randomBytes(20), timestamp: '1700000000', senderTimestamp: 1700000001 } },
      'identity-key': { '491701234567.0': randomBytes(33) },
    } satisfies SignalDataSet;
    await state.keys.set(data);

    const reloaded = (await useSqlAuthState(dataSource, 'keys')).state.keys;
    for (const [type, entries] of Object.entries(data) as Array<[keyof typeof data, Record<string, unknown>]>) {
      const got = await reloaded.get(type, [...Object.keys(entries), 'missing']);
      expect(Object.keys(got).sort()).toEqual(Object.keys(entries).sort());
      for (const [id, value] of Object.entries(entries)) {
        if (type === 'app-state-sync-key') continue;
        expect(toComparable(got[id])).toEqual(toComparable(value));
      }
    }
    const syncKey = (await reloaded.get('app-state-sync-key', ['AAAAAJ7X']))['AAAAAJ7X'];
    expect(syncKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(Buffer.from(syncKey.keyData!)).toEqual(data['app-state-sync-key'].AAAAAJ7X.keyData);
    expect(syncKey.fingerprint?.rawId).toBe(7);
  });

  it('deletes keys set to null and overwrites existing ones in the same batch', async () => {
    const { state } = await useSqlAuthState(dataSource, 'delete');
    await state.keys.set({ session: { a: Buffer.from('1'), b: Buffer.from('2') } });
    await state.keys.set({ session: { a: null, b: Buffer.from('3') } });
    const got = await state.keys.get('session', ['a', 'b']);
    expect(Object.keys(got)).toEqual(['b']);
    expect(Buffer.from(got.b)).toEqual(Buffer.from('3'));
  });

  it('asks the database once for a key it lacks, and finds it once any store of the session writes it', async () => {
    const { state } = await useSqlAuthState(dataSource, 'absent');
    const { state: other } = await useSqlAuthState(dataSource, 'absent');
    const findBy = jest.spyOn(dataSource.getRepository(WaAuthKeyEntity), 'findBy');
    try {
      await expect(state.keys.get('tctoken', ['contact'])).resolves.toEqual({});
      await expect(state.keys.get('tctoken', ['contact'])).resolves.toEqual({});
      expect(findBy).toHaveBeenCalledTimes(1);

      await other.keys.set({ tctoken: { contact: { token: Buffer.from('t') } } });
      expect(toComparable(await state.keys.get('tctoken', ['contact']))).toEqual(toComparable({ contact: { token: Buffer.from('t') } }));

      await state.keys.set({ tctoken: { contact: null } });
      findBy.mockClear();
      await expect(other.keys.get('tctoken', ['contact'])).resolves.toEqual({});
      expect(findBy).not.toHaveBeenCalled();
    } finally {
      findBy.mockRestore();
    }
  });

  it('writes large batches (a pre-key upload) in one go', async () => {
    const { Curve } = await loadBaileys();
    const { state } = await useSqlAuthState(dataSource, 'bulk');
    const preKeys = Object.fromEntries(Array.from({ length: 812 }, (_, i) => [String(i + 1), Curve.generateKeyPair()]));
    await state.keys.set({ 'pre-key': preKeys });
    const got = await state.keys.get('pre-key', Object.keys(preKeys));
    expect(Object.keys(got)).toHaveLength(812);
  });

  it('applies concurrent batches of one session in call order', async () => {
    const { state } = await useSqlAuthState(dataSource, 'concurrent');
    const { state: other } = await useSqlAuthState(dataSource, 'concurrent');
    const writes = Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? other : state).keys.set({ session: { shared: Buffer.from(String(i)), [`own-${i}`]: Buffer.from('x') } }),
    );
    await Promise.all(writes);
    const got = await state.keys.get('session', ['shared']);
    expect(Buffer.from(got.shared).toString()).toBe('19');
    const own = await state.keys.get('session', Array.from({ length: 20 }, (_, i) => `own-${i}`));
    expect(Object.keys(own)).toHaveLength(20);
  });

  it('clears creds and keys of one session only', async () => {
    const store = new SqlAuthStateStore(dataSource);
    const a = await store.use('clear-a');
    const b = await store.use('clear-b');
    await a.saveCreds();
    await b.saveCreds();
    await a.state.keys.set({ session: { x: Buffer.from('a') } });
    await b.state.keys.set({ session: { x: Buffer.from('b') } });
    await store.clear('clear-a');

    await expect(dataSource.getRepository(WaAuthCredsEntity).countBy({ sessionId: 'clear-a' })).resolves.toBe(0);
    await expect(a.state.keys.get('session', ['x'])).resolves.toEqual({});
    await expect(dataSource.getRepository(WaAuthCredsEntity).countBy({ sessionId: 'clear-b' })).resolves.toBe(1);
    const kept = await b.state.keys.get('session', ['x']);
    expect(Buffer.from(kept.x).toString()).toBe('b');
  });

  /** What the database holds for `keyIds` of the session, read past the store. */
  const stored = async (sessionId: string, keyIds: string[]) =>
    (await dataSource.getRepository(WaAuthKeyEntity).find({ where: keyIds.map((keyId) => ({ sessionId, type: 'session', keyId })) })).map((r) => r.keyId).sort();

  it('holds key writes for a send: reads see them, the send commits them with its records, a failed commit leaves them to the release', async () => {
    const store = new SqlAuthStateStore(dataSource);
    const { state } = await store.use('held');
    await state.keys.set({ session: { gone: Buffer.from('old') } });
    const release = store.holdKeyWrites('held');
    await state.keys.set({ session: { a: Buffer.from('1'), gone: null } });
    // Not written, yet read as written (a deletion too) by every store of the session.
    await expect(stored('held', ['a', 'gone'])).resolves.toEqual(['gone']);
    const { state: other } = await store.use('held');
    await expect(other.keys.get('session', ['a', 'gone'])).resolves.toEqual({ a: Buffer.from('1') });

    // A commit that fails takes nothing away: still held, still read.
    await expect(store.commitHeld('held', async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await expect(state.keys.get('session', ['a'])).resolves.toEqual({ a: Buffer.from('1') });

    // The send's commit gets them as rows, and writes them itself.
    const committed = await store.commitHeld('held', async (upserts, deletes) => {
      const writer = new SqlAuthStateStore(dataSource);
      const { state: direct } = await writer.use('held-direct');
      await direct.keys.set({ session: Object.fromEntries(upserts.map((u) => [u.keyId, Buffer.from('x')])) });
      return { upserts: upserts.map((u) => u.keyId), deletes: [...deletes] };
    });
    expect(committed).toEqual({ upserts: ['a'], deletes: [['session', ['gone']]] });
    // Taken by that commit: the release has nothing left to write.
    await release();
    await expect(stored('held', ['a', 'gone'])).resolves.toEqual(['gone']);
  });

  it('writes what is still held when the last of overlapping holds ends, and writes directly after', async () => {
    const store = new SqlAuthStateStore(dataSource);
    const { state } = await store.use('overlap');
    const first = store.holdKeyWrites('overlap');
    const second = store.holdKeyWrites('overlap');
    await state.keys.set({ session: { a: Buffer.from('1') } });
    await first();
    await expect(stored('overlap', ['a'])).resolves.toEqual([]);
    await state.keys.set({ session: { a: Buffer.from('2'), b: Buffer.from('3') } });
    await second();
    await expect(stored('overlap', ['a', 'b'])).resolves.toEqual(['a', 'b']);
    const { state: fresh } = await new SqlAuthStateStore(dataSource).use('overlap');
    await expect(fresh.keys.get('session', ['a', 'b'])).resolves.toEqual({ a: Buffer.from('2'), b: Buffer.from('3') });
    // No hold: a write goes straight to the database, as before.
    await state.keys.set({ session: { c: Buffer.from('4') } });
    await expect(stored('overlap', ['c'])).resolves.toEqual(['c']);
  });

  it('keeps held keys whose write failed, reads them, and writes them with the next write of the session', async () => {
    const store = new SqlAuthStateStore(dataSource);
    const { state } = await store.use('held-failing');
    await state.keys.set({ session: { stuck: Buffer.from('0') } });
    await refuseDeletingKey(dataSource, driver, 'stuck');
    const release = store.holdKeyWrites('held-failing');
    await state.keys.set({ session: { kept: Buffer.from('1'), stuck: null } });
    await expect(release()).rejects.toThrow(/refused/);
    await expect(state.keys.get('session', ['kept', 'stuck'])).resolves.toEqual({ kept: Buffer.from('1') });
    await dropRefusal(dataSource, driver);
    await state.keys.set({ session: { later: Buffer.from('2') } });
    await expect(stored('held-failing', ['kept', 'later', 'stuck'])).resolves.toEqual(['kept', 'later']);
  });

  it('rejects a failed write, rolls the whole batch back, and keeps serving later operations', async () => {
    const { state } = await useSqlAuthState(dataSource, 'failing');
    await state.keys.set({ session: { poison: Buffer.from('0') } });
    await refuseDeletingKey(dataSource, driver, 'poison');

    await expect(state.keys.set({ session: { good: Buffer.from('1'), poison: null } })).rejects.toThrow(/poison/);
    await expect(state.keys.get('session', ['good', 'poison'])).resolves.toEqual({ poison: Buffer.from('0') });

    await state.keys.set({ session: { after: Buffer.from('ok') } });
    await expect(state.keys.get('session', ['after'])).resolves.toEqual({ after: Buffer.from('ok') });
  });
});

function toComparable(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
}

async function dropRefusal(dataSource: DataSource, driver: string): Promise<void> {
  if (driver === 'sqlite') await dataSource.query('DROP TRIGGER refuse_delete');
  else await dataSource.query(`DROP TRIGGER refuse_delete ON "${pgSchema}".wa_auth_keys; DROP FUNCTION "${pgSchema}".refuse_delete()`);
}

/** Makes the database itself fail the delete of one key, the way a constraint or outage would. */
async function refuseDeletingKey(dataSource: DataSource, driver: string, keyId: string): Promise<void> {
  if (driver === 'sqlite') {
    await dataSource.query(
      `CREATE TRIGGER refuse_delete BEFORE DELETE ON wa_auth_keys WHEN OLD.key_id = '${keyId}' BEGIN SELECT RAISE(ABORT, 'poison refused'); END`,
    );
    return;
  }
  await dataSource.query(
    `CREATE FUNCTION "${pgSchema}".refuse_delete() RETURNS trigger AS $$ BEGIN IF OLD.key_id = '${keyId}' THEN RAISE EXCEPTION 'poison refused'; END IF; RETURN OLD; END $$ LANGUAGE plpgsql`,
  );
  await dataSource.query(
    `CREATE TRIGGER refuse_delete BEFORE DELETE ON "${pgSchema}".wa_auth_keys FOR EACH ROW EXECUTE FUNCTION "${pgSchema}".refuse_delete()`,
  );
}
