import { AppError } from '@wa/domain';

/**
 * Cursors are opaque to clients: base64url of the last id of the page. Lists are ordered by
 * ULID, so "after this id" is stable while rows are added.
 */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9A-Z]{26}$/.test(id)) throw new AppError('validation_error', 'cursor is not one this API returned', { fields: [{ field: 'cursor', problems: ['invalid cursor'] }] });
  return id;
}

/** `{data, nextCursor}` from a page fetched with one extra row to know whether more exist. */
export function pageOf<T extends { id: string }, R>(rows: T[], limit: number, map: (row: T) => R): { data: R[]; nextCursor: string } {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { data: page.map(map), nextCursor: more ? encodeCursor(page[page.length - 1].id) : '' };
}
