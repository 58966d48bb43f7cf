import { loadBaileys } from '../src';

/**
 * The random padding Baileys appends to every encrypted message (1 to 16 bytes, each holding the
 * length, as WhatsApp pads). The patch draws its random byte from a pooled CSPRNG buffer instead
 * of a `randomBytes(1)` call per message: the padding must still be well formed, removable, and
 * of every length.
 */
describe("Baileys' message padding (patched)", () => {
  it('pads with 1 to 16 bytes of the pad length, every length in use, and unpads back', async () => {
    const { writeRandomPadMax16, unpadRandomMax16 } = (await loadBaileys()) as unknown as {
      writeRandomPadMax16: (msg: Uint8Array) => Buffer;
      unpadRandomMax16: (msg: Uint8Array) => Uint8Array;
    };
    const msg = Buffer.from('hello');
    const lengths = new Set<number>();
    // More than one pool of 256 bytes: the pool refills.
    for (let i = 0; i < 1000; i++) {
      const padded = writeRandomPadMax16(msg);
      const pad = padded.length - msg.length;
      expect(pad).toBeGreaterThanOrEqual(1);
      expect(pad).toBeLessThanOrEqual(16);
      expect([...padded.subarray(msg.length)]).toEqual(Array.from({ length: pad }, () => pad));
      expect(Buffer.from(unpadRandomMax16(padded))).toEqual(msg);
      lengths.add(pad);
    }
    expect(lengths.size).toBe(16);
  });
});
