import { fillRandom } from './random-pool';

// Crockford base32, as the ULID spec requires.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LEN = 10;
const RANDOM_LEN = 16;
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = '';
  for (let i = TIME_LEN - 1; i >= 0; i--) {
    const mod = ms % 32;
    out = ALPHABET[mod] + out;
    ms = (ms - mod) / 32;
  }
  return out;
}

const randomScratch = new Uint8Array(RANDOM_LEN);

function freshRandom(): number[] {
  const bytes = fillRandom(randomScratch);
  const digits = Array.from(bytes, (b) => b & 31);
  bytes.fill(0);
  return digits;
}

/** Adds one to the 80-bit random part; within one millisecond ids stay sortable. */
function increment(digits: number[]): number[] {
  const next = digits.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] < 31) {
      next[i]++;
      return next;
    }
    next[i] = 0;
  }
  throw new Error('ULID random part overflowed within one millisecond');
}

/**
 * A monotonic ULID: lexicographic order follows creation order even for ids made in the same
 * millisecond, which keeps cursor pagination over ids stable.
 */
export function newId(now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
    now = lastTime;
  } else {
    lastTime = now;
    lastRandom = freshRandom();
  }
  return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join('');
}

/** The smallest id of millisecond `ms`: every id made before `ms` sorts below it. */
export function idFloor(ms: number): string {
  return encodeTime(Math.max(0, Math.floor(ms))) + '0'.repeat(RANDOM_LEN);
}

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ULID_RE.test(value);
}

/** Milliseconds since the epoch encoded in a ULID. */
export function idTime(id: string): number {
  let ms = 0;
  for (const ch of id.slice(0, TIME_LEN)) ms = ms * 32 + ALPHABET.indexOf(ch);
  return ms;
}
