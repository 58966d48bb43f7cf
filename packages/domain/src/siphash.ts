/**
 * SipHash-2-4 (Aumasson and Bernstein), a keyed pseudo-random function on short inputs, in plain
 * JavaScript on 32-bit halves of its 64-bit words: for inputs of a few bytes it costs a fraction
 * of a native call into OpenSSL (`crypto.hash` or a cipher), whose crossing alone is about a
 * microsecond.
 */
export class SipHash24 {
  private readonly k: Uint32Array;
  // The state: v0..v3 as (low, high) 32-bit pairs.
  private v0l = 0;
  private v0h = 0;
  private v1l = 0;
  private v1h = 0;
  private v2l = 0;
  private v2h = 0;
  private v3l = 0;
  private v3h = 0;

  /** `key`: 16 bytes (more are ignored). */
  constructor(key: Uint8Array) {
    if (key.length < 16) throw new RangeError('SipHash takes a key of 16 bytes');
    const view = new DataView(key.buffer, key.byteOffset, 16);
    this.k = Uint32Array.of(view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true));
  }

  /** The hash of `message`, as 16 hex digits of its little-endian bytes (the reference's test vectors). */
  hex(message: Uint8Array): string {
    this.start();
    const view = new DataView(message.buffer, message.byteOffset, message.length);
    const end = message.length - (message.length % 8);
    for (let i = 0; i < end; i += 8) this.absorb(view.getUint32(i, true), view.getUint32(i + 4, true));
    const last = new Uint8Array(8);
    last.set(message.subarray(end));
    last[7] = message.length & 0xff;
    const tail = new DataView(last.buffer);
    this.absorb(tail.getUint32(0, true), tail.getUint32(4, true));
    const out = new DataView(new ArrayBuffer(8));
    const [lo, hi] = this.finish();
    out.setUint32(0, lo, true);
    out.setUint32(4, hi, true);
    return Buffer.from(out.buffer).toString('hex');
  }

  /**
   * The hash of one 8-byte message given as its little-endian 32-bit halves, cut to its low 36
   * bits: what `hex` computes for those 8 bytes, without allocating.
   */
  low36(lo: number, hi: number): number {
    this.start();
    this.absorb(lo, hi);
    this.absorb(0, 0x08000000);
    const [l, h] = this.finish();
    return (h & 0xf) * 0x100000000 + l;
  }

  private start(): void {
    const [k0l, k0h, k1l, k1h] = this.k as unknown as [number, number, number, number];
    this.v0l = k0l ^ 0x70736575;
    this.v0h = k0h ^ 0x736f6d65;
    this.v1l = k1l ^ 0x6e646f6d;
    this.v1h = k1h ^ 0x646f7261;
    this.v2l = k0l ^ 0x6e657261;
    this.v2h = k0h ^ 0x6c796765;
    this.v3l = k1l ^ 0x79746573;
    this.v3h = k1h ^ 0x74656462;
  }

  private absorb(ml: number, mh: number): void {
    this.v3l ^= ml;
    this.v3h ^= mh;
    this.round();
    this.round();
    this.v0l ^= ml;
    this.v0h ^= mh;
  }

  private finish(): [number, number] {
    this.v2l ^= 0xff;
    this.round();
    this.round();
    this.round();
    this.round();
    return [(this.v0l ^ this.v1l ^ this.v2l ^ this.v3l) >>> 0, (this.v0h ^ this.v1h ^ this.v2h ^ this.v3h) >>> 0];
  }

  /** One SipRound: additions modulo 2^64 (with the carry between halves), rotations, xors. */
  private round(): void {
    let { v0l, v0h, v1l, v1h, v2l, v2h, v3l, v3h } = this;
    let s: number;
    let t: number;
    s = (v0l >>> 0) + (v1l >>> 0);
    v0h = (v0h + v1h + (s > 0xffffffff ? 1 : 0)) | 0;
    v0l = s | 0;
    t = (v1l << 13) | (v1h >>> 19);
    v1h = ((v1h << 13) | (v1l >>> 19)) ^ v0h;
    v1l = t ^ v0l;
    t = v0l;
    v0l = v0h;
    v0h = t;
    s = (v2l >>> 0) + (v3l >>> 0);
    v2h = (v2h + v3h + (s > 0xffffffff ? 1 : 0)) | 0;
    v2l = s | 0;
    t = (v3l << 16) | (v3h >>> 16);
    v3h = ((v3h << 16) | (v3l >>> 16)) ^ v2h;
    v3l = t ^ v2l;
    s = (v0l >>> 0) + (v3l >>> 0);
    v0h = (v0h + v3h + (s > 0xffffffff ? 1 : 0)) | 0;
    v0l = s | 0;
    t = (v3l << 21) | (v3h >>> 11);
    v3h = ((v3h << 21) | (v3l >>> 11)) ^ v0h;
    v3l = t ^ v0l;
    s = (v2l >>> 0) + (v1l >>> 0);
    v2h = (v2h + v1h + (s > 0xffffffff ? 1 : 0)) | 0;
    v2l = s | 0;
    t = (v1l << 17) | (v1h >>> 15);
    v1h = ((v1h << 17) | (v1l >>> 15)) ^ v2h;
    v1l = t ^ v2l;
    t = v2l;
    v2l = v2h;
    v2h = t;
    this.v0l = v0l;
    this.v0h = v0h;
    this.v1l = v1l;
    this.v1h = v1h;
    this.v2l = v2l;
    this.v2h = v2h;
    this.v3l = v3l;
    this.v3h = v3h;
  }
}
