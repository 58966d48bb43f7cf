import { randomBytes } from 'node:crypto';
import { WaMessageIds } from './wa-message-ids';

describe('WaMessageIds', () => {
  const key = randomBytes(32);

  it("mints ids in WhatsApp Web's layout, all different", () => {
    const ids = new WaMessageIds(key);
    const minted = Array.from({ length: 5000 }, () => ids.mint(1_780_000_000_000));
    for (const id of minted) expect(id).toMatch(/^3EB0[0-9A-F]{18}$/);
    expect(new Set(minted).size).toBe(minted.length);
  });

  it('deciphers an id to a sort key that grows with the time it was minted, under the same key only', () => {
    const minting = new WaMessageIds(key);
    // Another instance with the same key: no memory of what the first minted.
    const reading = new WaMessageIds(key);
    const times = [1_780_000_000_000, 1_780_000_000_000, 1_780_000_000_001, 1_780_000_000_500, 1_780_000_060_000, 1_780_000_060_000];
    const minted = times.map((t) => minting.mint(t));
    const sorts = minted.map((id) => reading.sortKey(id));
    for (const s of sorts) expect(s).toMatch(/^[0-9A-F]{18}$/);
    expect([...sorts].sort()).toEqual(sorts);
    expect(new Set(sorts).size).toBe(sorts.length);
    // The minting instance answers the same for the id it has just minted and for older ones.
    expect(minted.map((id) => minting.sortKey(id))).toEqual(sorts);
    // Under another key the same ids decipher to other values.
    const other = new WaMessageIds(randomBytes(32));
    expect(minted.map((id) => other.sortKey(id))).not.toEqual(sorts);
  });

  it('does not show the order to anyone without the key: consecutive ids share no prefix beyond chance', () => {
    const ids = new WaMessageIds(key);
    const minted = Array.from({ length: 2000 }, (_, i) => ids.mint(1_780_000_000_000 + i));
    // Consecutive ids agreeing in their first hex digit after 3EB0: 1 in 16 by chance, every time if the time showed.
    const same = minted.slice(1).filter((id, i) => id[4] === minted[i]![4]).length;
    expect(same).toBeLessThan(250);
    // Ids minted later are not the larger ones more often than chance.
    const larger = minted.slice(1).filter((id, i) => id > minted[i]!).length;
    expect(larger).toBeGreaterThan(850);
    expect(larger).toBeLessThan(1150);
  });

  it('gives ids of other layouts (other clients, older ids) sort keys of their own that no minted id takes', () => {
    const ids = new WaMessageIds(key);
    expect(ids.sortKey('3A1B2C3D4E5F60718293')).toBe('~3A1B2C3D4E5F60718293');
    expect(ids.sortKey('3eb0a1b2c3d4e5f6071829')).toBe('~3eb0a1b2c3d4e5f6071829');
    // An id in the layout that this key did not mint still deciphers, to a value of its own.
    expect(ids.sortKey('3EB0A1B2C3D4E5F6071829')).toMatch(/^[0-9A-F]{18}$/);
    expect(ids.sortKey('3EB0A1B2C3D4E5F6071829')).not.toBe(ids.sortKey('3EB0A1B2C3D4E5F607182A'));
  });

  it('refuses a short key', () => {
    expect(() => new WaMessageIds(randomBytes(8))).toThrow(RangeError);
  });
});
