import { parseRange } from './media-range';

describe(parseRange.name, () => {
  it('reads the three single-range forms, clamping the end to the file', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });

  it('ignores what is not a single byte range (the whole file is sent)', () => {
    expect(parseRange(undefined, 100)).toBeUndefined();
    expect(parseRange('items=0-9', 100)).toBeUndefined();
    expect(parseRange('bytes=0-9,20-29', 100)).toBeUndefined();
    expect(parseRange('bytes=-', 100)).toBeUndefined();
  });

  it('refuses a range that starts past the end or is empty, with the size in the details', () => {
    expect(() => parseRange('bytes=100-', 100)).toThrow(expect.objectContaining({ code: 'range_not_satisfiable', details: { size: 100 } }));
    expect(() => parseRange('bytes=50-10', 100)).toThrow(expect.objectContaining({ code: 'range_not_satisfiable' }));
    expect(() => parseRange('bytes=-0', 100)).toThrow(expect.objectContaining({ code: 'range_not_satisfiable' }));
  });
});
