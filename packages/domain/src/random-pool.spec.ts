import { generateMessageId } from './message-id';
import { fillRandom } from './random-pool';

describe('fillRandom', () => {
  it('hands out fresh bytes on every call, across many refills of the pool', () => {
    // 2,000 draws of 16 bytes span eight 4 KiB refills; a byte handed out twice, a pool that
    // is not refilled or one zeroed before it is copied would repeat a draw.
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(Buffer.from(fillRandom(new Uint8Array(16))).toString('hex'));
    expect(seen.size).toBe(2000);
    expect(seen.has('00'.repeat(16))).toBe(false);
  });

  it('gives bytes that look uniform', () => {
    const counts = new Array<number>(256).fill(0);
    let sum = 0;
    const draw = new Uint8Array(32);
    for (let i = 0; i < 8192; i++) {
      fillRandom(draw);
      for (const b of draw) {
        counts[b]!++;
        sum += b;
      }
    }
    const n = 8192 * 32;
    // Mean of uniform bytes: 127.5, standard error 0.14 here; each value expected 1,024 times.
    expect(Math.abs(sum / n - 127.5)).toBeLessThan(2);
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1250);
  });

  it('writes only the requested range of the target', () => {
    const target = Buffer.alloc(40, 0xaa);
    fillRandom(target, 28, 8);
    expect(target.subarray(0, 28).every((b) => b === 0xaa)).toBe(true);
    expect(target.subarray(36).every((b) => b === 0xaa)).toBe(true);
    // Eight random bytes all equal to the sentinel: one chance in 2^64.
    expect(target.subarray(28, 36).every((b) => b === 0xaa)).toBe(false);
  });

  it('fills long requests straight from the CSPRNG', () => {
    const big = fillRandom(new Uint8Array(5000));
    expect(big.filter((b) => b === 0).length).toBeLessThan(60);
  });

  it('refuses a range outside the target', () => {
    expect(() => fillRandom(new Uint8Array(8), 4, 8)).toThrow(RangeError);
    expect(() => fillRandom(new Uint8Array(8), -1, 2)).toThrow(RangeError);
    expect(() => fillRandom(new Uint8Array(8), 0.5, 2)).toThrow(RangeError);
  });
});

describe('generateMessageId', () => {
  it('mints distinct ids in the 3EB0 format', () => {
    const ids = Array.from({ length: 5000 }, () => generateMessageId('15550001111@s.whatsapp.net'));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^3EB0[0-9A-F]{18}$/);
  });
});
