import { AppError } from '@wa/domain';

/** Opaque cursors: base64url JSON of the last item's sort key, so clients never parse them. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(cursor: string | undefined, fields: Record<keyof T, 'string' | 'number'>): T | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    // Only the named fields are read (own properties, finite numbers): a forged cursor reaches the
    // query as plain values or not at all.
    const position: Record<string, string | number> = {};
    for (const [name, kind] of Object.entries(fields)) {
      const field = Object.hasOwn(value, name) ? value[name] : undefined;
      if (typeof field !== kind || (kind === 'number' && !Number.isFinite(field))) throw new Error(name);
      position[name] = field as string | number;
    }
    return position as T;
  } catch {
    throw new AppError('validation_error', 'cursor is not one this API returned', { cursor });
  }
}

/** Page sizes the runner accepts; the gateway validates too, this keeps a bad caller bounded. */
export function pageLimit(limit: unknown): number {
  const n = typeof limit === 'number' && Number.isInteger(limit) ? limit : 50;
  return Math.min(Math.max(n, 1), 200);
}
