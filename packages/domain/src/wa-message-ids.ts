import { fillRandom } from './random-pool';
import { SipHash24 } from './siphash';

/** Milliseconds are counted from here: 42 bits of them last until the year 2159. */
const EPOCH_MS = Date.UTC(2020, 0, 1);
const LOW = 2 ** 30;
const TWO32 = 2 ** 32;
const ROUNDS = 6;
const MINTED = /^3EB0[0-9A-F]{18}$/;

const xor36 = (a: number, b: number): number => (Math.floor(a / TWO32) ^ Math.floor(b / TWO32)) * TWO32 + ((a ^ b) >>> 0);
/** Upper-case hex of every byte: four lookups and a digit make the 9 digits of a half (toString, toUpperCase and padStart cost 3 us a mint). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));
const hex9 = (n: number): string => {
  const lo = n >>> 0;
  return HEX[Math.floor(n / TWO32)]![1]! + HEX[lo >>> 24]! + HEX[(lo >>> 16) & 0xff]! + HEX[(lo >>> 8) & 0xff]! + HEX[lo & 0xff]!;
};

/**
 * WhatsApp message ids for the outbox, and the key they are looked up by.
 *
 * An id has WhatsApp Web's layout (`3EB0` and 18 upper-case hex digits) and, to anyone without the
 * key, is as random as Web's own (a SHA-256 of time, user and randomness). Underneath it is a
 * 72-bit value that grows with time: 42 bits of milliseconds and 30 that start random each
 * millisecond and count up within it (so one process never mints an id twice), enciphered by a
 * keyed six-round Feistel permutation whose rounds are SipHash-2-4 (a keyed
 * pseudo-random function in plain JavaScript: a native hash per round tripled the cost of a mint).
 *
 * Why: the outbox finds an entry by its WhatsApp id when a receipt comes, so each accept added a
 * random key to that index, one more page of the index written per request and commit (on SQLite
 * the largest single cost of an accept). The index holds the deciphered value (`sortKey`) instead:
 * new keys land at its end, and a receipt's id is deciphered to find its entry. An id this class
 * did not mint (another layout, or minted under another key) still has a sort key of its own:
 * deciphering is a permutation, and other layouts keep their text behind a `~`.
 */
export class WaMessageIds {
  private readonly prf: SipHash24;
  private readonly random = Buffer.alloc(4);
  private lastMs = -1;
  private lastLow = 0;
  private lastId = '';
  private lastSort = '';

  constructor(key: Buffer) {
    if (key.length < 16) throw new RangeError('the WhatsApp message id key must have at least 16 bytes');
    this.prf = new SipHash24(key);
  }

  /** A new id; ids minted later by this process sort later (`sortKey`). */
  mint(now: number = Date.now()): string {
    let ms = Math.max(0, Math.floor(now) - EPOCH_MS);
    let low: number;
    if (ms <= this.lastMs && this.lastLow + 1 < LOW) {
      ms = this.lastMs;
      low = this.lastLow + 1;
    } else {
      if (ms <= this.lastMs) ms = this.lastMs + 1;
      // 29 random bits: a millisecond leaves room for half a billion more ids.
      fillRandom(this.random);
      low = this.random.readUInt32BE(0) >>> 3;
    }
    this.lastMs = ms;
    this.lastLow = low;
    const hi = Math.floor(ms / 64);
    const lo = (ms % 64) * LOW + low;
    let l = hi;
    let r = lo;
    for (let i = 0; i < ROUNDS; i++) [l, r] = [r, xor36(l, this.round(i, r))];
    this.lastId = `3EB0${hex9(l)}${hex9(r)}`;
    this.lastSort = hex9(hi) + hex9(lo);
    return this.lastId;
  }

  /** The key the outbox indexes `waMessageId` by: the same for the same id, different for different ids. */
  sortKey(waMessageId: string): string {
    if (waMessageId === this.lastId) return this.lastSort;
    if (!MINTED.test(waMessageId)) return `~${waMessageId}`;
    let l = parseInt(waMessageId.slice(4, 13), 16);
    let r = parseInt(waMessageId.slice(13), 16);
    for (let i = ROUNDS - 1; i >= 0; i--) [l, r] = [xor36(r, this.round(i, l)), l];
    return hex9(l) + hex9(r);
  }

  /** The round function: 36 bits of SipHash over the half (36 bits) and the round's number. */
  private round(i: number, half: number): number {
    return this.prf.low36(half >>> 0, Math.floor(half / TWO32) | (i << 8));
  }
}
