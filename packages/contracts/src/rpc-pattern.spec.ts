import { ServerTCP } from '@nestjs/microservices';

/**
 * Nest's microservice servers turn each incoming message's pattern into a route by trying
 * `JSON.parse` first: for our plain string patterns ('messages.execute') that threw a SyntaxError
 * on every RPC, built and discarded. The patch (patches/@nestjs__microservices) skips the parse for
 * a string that cannot start a JSON text; every other pattern is routed as before.
 */
describe('RPC pattern routing (patched)', () => {
  const server = new ServerTCP({ host: '127.0.0.1', port: 0 }) as unknown as {
    getRouteFromPattern(pattern: string): string;
    normalizePattern(pattern: unknown): string;
  };

  afterEach(() => jest.restoreAllMocks());

  it('routes a plain name as itself without trying to parse it', () => {
    const parse = jest.spyOn(JSON, 'parse');
    expect(server.getRouteFromPattern('messages.execute')).toBe('messages.execute');
    expect(server.getRouteFromPattern('gateway.events')).toBe('gateway.events');
    expect(parse).not.toHaveBeenCalled();
  });

  it('still parses what may be JSON, and falls back to the string when it is not', () => {
    expect(server.getRouteFromPattern('{"cmd":"sum","v":1}')).toBe(server.normalizePattern({ cmd: 'sum', v: 1 }));
    expect(server.getRouteFromPattern('"quoted"')).toBe(server.normalizePattern('quoted'));
    expect(server.getRouteFromPattern('true')).toBe(server.normalizePattern(true));
    expect(server.getRouteFromPattern('notes.read')).toBe('notes.read');
    expect(server.getRouteFromPattern('{broken')).toBe('{broken');
  });
});
