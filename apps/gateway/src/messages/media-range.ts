import { AppError } from '@wa/domain';

/**
 * The byte range a `Range` header asks of a file of `size` bytes (RFC 9110 single range:
 * `bytes=a-b`, `bytes=a-`, `bytes=-n`); undefined for the whole file. A malformed header is
 * ignored as the RFC allows; an unsatisfiable one is a 416.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const unsatisfiable = () => new AppError('range_not_satisfiable', `the range ${header} is outside the file (${size} bytes)`, { size });
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || start > end) throw unsatisfiable();
  return { start, end };
}
