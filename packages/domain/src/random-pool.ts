import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the CSPRNG at a time: 4 KiB serve 256 ids of 16 random bytes each. */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let next = POOL_BYTES;

/**
 * Copies `length` bytes from the operating system's CSPRNG into `target` at `start`, as
 * `randomFillSync(target, start, length)` would, but out of a pool filled 4 KiB at a time
 * (Node pools `randomUUID` the same way). Every id the gateway mints on a request (the request
 * id, the outbox id, the WhatsApp message id) took a `randomBytes` call of its own: a native
 * call and a Buffer each, 2% of the gateway's CPU under load. Each pooled byte is handed out
 * once and zeroed as it leaves, so ids stay as unguessable as before. Longer requests than a
 * quarter of the pool go to the CSPRNG directly.
 */
export function fillRandom(target: Uint8Array, start = 0, length = target.length - start): Uint8Array {
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > target.length) {
    throw new RangeError(`fillRandom: ${length} bytes at ${start} do not fit a target of ${target.length}`);
  }
  if (length > POOL_BYTES / 4) return randomFillSync(target, start, length);
  if (next + length > POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  pool.copy(target, start, next, next + length);
  pool.fill(0, next, next + length);
  next += length;
  return target;
}
