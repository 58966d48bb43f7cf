import { randomBytes } from 'node:crypto';
import { SipHash24 } from './siphash';

describe('SipHash24', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

  it("gives the reference implementation's test vectors (key 00..0f, message 00..n-1)", () => {
    const sip = new SipHash24(key);
    expect(sip.hex(bytes(0))).toBe('310e0edd47db6f72');
    // The paper's worked example (appendix A): 15 bytes, 0xa129ca6149be45e5 as a 64-bit number.
    expect(sip.hex(bytes(15))).toBe('e545be4961ca29a1');
  });

  it('answers for 8-byte messages given as halves what it answers for their bytes', () => {
    const sip = new SipHash24(randomBytes(16));
    for (let i = 0; i < 200; i++) {
      const message = randomBytes(8);
      const full = BigInt(`0x${Buffer.from(sip.hex(message), 'hex').reverse().toString('hex')}`);
      expect(sip.low36(message.readUInt32LE(0), message.readUInt32LE(4))).toBe(Number(full & 0xfffffffffn));
    }
  });

  it('refuses a short key', () => {
    expect(() => new SipHash24(new Uint8Array(8))).toThrow(RangeError);
  });
});
