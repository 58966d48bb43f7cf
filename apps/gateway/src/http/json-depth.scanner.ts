import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '@wa/domain';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Tracks the nesting depth of JSON text over its raw bytes, chunk by chunk, in one pass.
 * Structural characters are ASCII and every byte of a multi-byte UTF-8 character is >= 0x80,
 * so bytes can be scanned without decoding; brackets inside strings (escapes included) do not
 * count. It does not validate JSON: the parser does that afterwards, on text known to be shallow.
 */
export class JsonDepthCounter {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxDepth: number) {}

  /**
   * Scans one chunk, bytes or decoded text, and false as soon as the depth passes the limit. Over
   * text the verdict is the same as over its UTF-8 bytes: structural characters are the same code
   * units, and every UTF-16 code unit of a non-ASCII character is >= 0x80.
   */
  scan(chunk: Uint8Array | string): boolean {
    let { depth, inString, escaped } = this;
    const max = this.maxDepth;
    const text = typeof chunk === 'string';
    for (let i = 0; i < chunk.length; i++) {
      const unit = text ? chunk.charCodeAt(i) : chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (unit === BACKSLASH) escaped = true;
        else if (unit === QUOTE) inString = false;
      } else if (unit === QUOTE) {
        inString = true;
      } else if (unit === OPEN_ARRAY || unit === OPEN_OBJECT) {
        if (++depth > max) return false;
      } else if ((unit === CLOSE_ARRAY || unit === CLOSE_OBJECT) && depth > 0) {
        depth--;
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return true;
  }
}

/** The refusal of a body that nests deeper than `maxDepth`. */
export function tooDeep(maxDepth: number): AppError {
  return new AppError('validation_error', `request body nests deeper than ${maxDepth} levels`, { maxDepth });
}

/**
 * A pass-through stream that fails with 400 `validation_error` the moment the JSON it carries
 * nests deeper than `maxDepth`, so a hostile body is refused after a few bytes instead of
 * being buffered and handed to a recursive parser that blocks the event loop.
 */
export function jsonDepthGuard(maxDepth: number): Transform {
  const counter = new JsonDepthCounter(maxDepth);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (!counter.scan(chunk)) {
        callback(tooDeep(maxDepth));
        return;
      }
      callback(null, chunk);
    },
  });
}
