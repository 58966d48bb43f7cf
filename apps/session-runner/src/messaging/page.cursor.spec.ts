import { AppError } from '@wa/domain';
import { decodeCursor, encodeCursor } from './page.cursor';

const FIELDS = { id: 'string', t: 'number' } as const;
const forge = (json: string) => Buffer.from(json).toString('base64url');

describe('decodeCursor', () => {
  it('round-trips a cursor the API returned', () => {
    expect(decodeCursor(encodeCursor({ id: 'ABC', t: 5 }), FIELDS)).toEqual({ id: 'ABC', t: 5 });
  });

  it.each([
    ['a non-finite number', '{"id":"x","t":1e400}'],
    ['a missing field', '{"id":"x"}'],
    ['a field of the wrong type', '{"id":1,"t":1}'],
    ['an array', '[1,2]'],
    ['null', 'null'],
    ['not JSON', '{"id":'],
  ])('refuses a forged cursor with %s as validation_error', (_name, json) => {
    expect(() => decodeCursor(forge(json), FIELDS)).toThrow(AppError);
  });

  it('keeps only the named fields', () => {
    expect(decodeCursor(forge('{"id":"x","t":1,"extra":"DROP TABLE"}'), FIELDS)).toEqual({ id: 'x', t: 1 });
  });
});
