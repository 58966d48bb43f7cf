import { inspect } from 'node:util';
import { generateKeyPair } from 'libsignal/src/curve.js';
import SessionRecord from 'libsignal/src/session_record.js';

/** The fields of a session entry that hold keys. */
interface Entry {
  currentRatchet: { ephemeralKeyPair: { pubKey: Buffer; privKey: Buffer }; rootKey: Buffer };
  indexInfo: { baseKey: Buffer; baseKeyType: number; closed: number; used: number };
}

/**
 * libsignal announces each session it opens, closes or drops on the console, and used to pass the
 * session itself along: its private ratchet key and root key were printed (a runner routes the
 * console into its log, and tests and tools print it as it comes). The patch keeps the words only.
 */
describe("libsignal's console messages (patched)", () => {
  const calls: unknown[][] = [];
  const spies = (['info', 'warn', 'log', 'error', 'debug'] as const).map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void calls.push(args)),
  );
  afterAll(() => spies.forEach((s) => s.mockRestore()));

  const entry = (): Entry => {
    const ratchet = generateKeyPair();
    const baseKey = generateKeyPair().pubKey;
    const session = SessionRecord.createEntry() as Entry;
    session.currentRatchet = { ephemeralKeyPair: ratchet, rootKey: Buffer.alloc(32, 7) };
    session.indexInfo = { baseKey, baseKeyType: 2, closed: -1, used: Date.now() };
    return session;
  };

  it('opens, closes and drops sessions without printing their keys', () => {
    const record = new SessionRecord();
    const sessions = Array.from({ length: 45 }, entry);
    for (const s of sessions) {
      record.setSession(s);
      record.closeSession(s);
    }
    record.closeSession(sessions[0]!); // already closed
    record.openSession(sessions[1]!);
    record.removeOldSessions(); // more than 40 closed ones: the oldest go

    const printed = calls.map((args) => args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 10 }))).join(' ')).join('\n');
    expect(printed).toContain('Closing session');
    expect(printed).toContain('Removing old closed session');
    for (const s of sessions) {
      const { privKey } = s.currentRatchet.ephemeralKeyPair;
      expect(printed).not.toContain(privKey.subarray(0, 8).toString('hex').match(/../g)!.join(' '));
      expect(printed).not.toContain(privKey.toString('base64'));
    }
    expect(printed).not.toMatch(/privKey|rootKey|<Buffer/);
  });
});
