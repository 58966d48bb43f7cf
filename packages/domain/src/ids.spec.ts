import { idTime, isId, newId } from './ids';

describe('newId', () => {
  it('makes 26-character Crockford ULIDs that carry their creation time', () => {
    const id = newId(1_767_225_600_000);
    expect(isId(id)).toBe(true);
    expect(idTime(id)).toBe(1_767_225_600_000);
  });

  it('keeps ids made in the same millisecond in creation order', () => {
    const ids = Array.from({ length: 1000 }, () => newId(1_800_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects strings that are not ULIDs', () => {
    expect(isId('01HZX3K9Q2T4W6Y8A0C2E4G6JU')).toBe(false); // U is not in the alphabet
    expect(isId('short')).toBe(false);
    expect(isId(42)).toBe(false);
  });
});
