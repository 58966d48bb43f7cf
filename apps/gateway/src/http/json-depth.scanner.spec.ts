import { JsonDepthCounter } from './json-depth.scanner';

describe(JsonDepthCounter.name, () => {
  const texts = [
    '{"a":[1,2,{"b":"}]]]["}]}',
    '["\\"[[[", ["\\\\"], [[["é", "𝄞 {[", {"k\\u005b": [[]]}]]]]',
    '{"text":"\\\\\\"{{{{","x":{"y":{"z":[]}}}',
    '"plain [string] {only}"',
    '[[[[[[[[[[]]]]]]]]]]',
  ];

  it.each(texts)('decides on text as it decides on its UTF-8 bytes, at every limit: %s', (text) => {
    const answers = Array.from({ length: 12 }, (_, max) => new JsonDepthCounter(max).scan(Buffer.from(text, 'utf8')));
    expect(answers).toContain(true);
    expect(Array.from({ length: 12 }, (_, max) => new JsonDepthCounter(max).scan(text))).toEqual(answers);
  });

  it('refuses one level past the limit, whole or in chunks, and not at the limit', () => {
    const at = '['.repeat(64) + ']'.repeat(64);
    const past = '['.repeat(65) + ']'.repeat(65);
    expect(new JsonDepthCounter(64).scan(at)).toBe(true);
    expect(new JsonDepthCounter(64).scan(past)).toBe(false);
    const chunked = new JsonDepthCounter(64);
    expect(chunked.scan('['.repeat(40))).toBe(true);
    expect(chunked.scan('"[[[[", ' + '['.repeat(25))).toBe(false);
  });

  it('ignores brackets in strings and after escaped quotes', () => {
    expect(new JsonDepthCounter(1).scan('["[[[[\\"[[[[", "\\\\", "{"]')).toBe(true);
    expect(new JsonDepthCounter(1).scan('["\\\\", []]')).toBe(false);
  });
});
