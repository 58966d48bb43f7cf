import { SseParser } from './sse.parser';

describe(SseParser.name, () => {
  it('dispatches messages whatever the chunking and line endings, skipping comments', () => {
    const stream = 'retry: 2000\r\n\r\n: keep-alive\n\nid: 01A\nevent: session.qr\ndata: {"a":1}\n\nid: 01B\revent: poll.vote\rdata: line1\rdata: line2\r\r';
    for (const size of [1, 2, 3, 7, stream.length]) {
      const parser = new SseParser();
      const messages = [];
      for (let i = 0; i < stream.length; i += size) messages.push(...parser.push(stream.slice(i, i + size)));
      expect(messages).toEqual([
        { id: '01A', event: 'session.qr', data: '{"a":1}' },
        { id: '01B', event: 'poll.vote', data: 'line1\nline2' },
      ]);
      expect(parser.retryMs).toBe(2000);
    }
  });

  it('holds back a message until its blank line arrives, and names untyped ones "message"', () => {
    const parser = new SseParser();
    expect(parser.push('data: x\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'message', data: 'x' }]);
  });
});
