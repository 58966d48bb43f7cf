import { AppError } from '@wa/domain';

/** Opaque cursors: base64url JSON of the last item's sort key, so clients never parse them. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(cursor: string | undefined, fields: Record<keyof T, 'string' | 'number'>): T | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const [name, kind] of Object.entries(fields)) if (typeof value[name] !== kind) throw new Error(name);
    return value as T;
  } catch {
    throw new AppError('validation_error', 'cursor is not one this API returned', { cursor });
  }
}

/** Page sizes the runner accepts; the gateway validates too, this keeps a bad caller bounded. */
export function pageLimit(limit: unknown): number {
  const n = typeof limit === 'number' && Number.isInteger(limit) ? limit : 50;
  return Math.min(Math.max(n, 1), 200);
}
