import pino from 'pino';
import { Writable } from 'node:stream';
import { createRootLogger, REDACTED_PATHS, resolveLogFormat, routeConsoleToLogger } from './logging';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, stream);
  return { logger, text: () => out, lines: () => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe(routeConsoleToLogger.name, () => {
  it('keeps the text of console writes and drops their objects, as libsignal session dumps need', () => {
    const { logger, lines, text } = capture();
    routeConsoleToLogger(logger);
    const session = { currentRatchet: { ephemeralKeyPair: { privKey: Buffer.alloc(32, 1) }, rootKey: Buffer.alloc(32, 2) }, _chains: { a: { chainKey: { key: Buffer.alloc(32, 3) } } } };
    console.info('Closing session:', session);
    console.warn('Session already closed', session);
    console.error('Session error:Error: Bad MAC', new Error('Bad MAC'));
    console.log('key wag_01HZX3K9Q2T4W6Y8A0C2E4G6J8_3q2-7wAbCdEfGhIjKlMnOpQrStUvWxYz0123456789a and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 20, source: 'console', method: 'info', omittedArgs: 1, msg: 'Closing session:' }),
      expect.objectContaining({ level: 40, method: 'warn', omittedArgs: 1, msg: 'Session already closed' }),
      expect.objectContaining({ level: 50, method: 'error', error: expect.objectContaining({ type: 'Error', message: 'Bad MAC' }), msg: 'Session error:Error: Bad MAC' }),
      expect.objectContaining({ level: 20, method: 'log', msg: 'key wag_[redacted] and whsec_[redacted]' }),
    ]);
    expect(text()).not.toMatch(/privKey|rootKey|chainKey|3q2-7wAb|MfKQ9r8G/);
  });
});

describe('REDACTED_PATHS', () => {
  it('hides credentials, webhook secrets and WhatsApp key material wherever a log line carries them', () => {
    const { logger, text } = capture();
    logger.info({ req: { headers: { authorization: 'Bearer wag_x', cookie: 'c=1' } }, secret: 'whsec_a', job: { secrets: ['whsec_b'] } }, 'one');
    logger.trace({ keys: { 'pre-key': { 1: { private: 'p' } } }, creds: { noiseKey: { private: 'n' } } }, 'updated cache');
    expect(text()).not.toMatch(/wag_x|c=1|whsec_|"private"/);
    expect(text().match(/\[redacted\]/g)).toHaveLength(6);
  });
});

describe(resolveLogFormat.name, () => {
  it('makes `auto` readable at a terminal and JSON anywhere else; explicit formats win', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });
});

describe(createRootLogger.name, () => {
  it('writes readable lines in the pretty format and still redacts what the JSON format redacts', () => {
    const writes: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        writes.push(chunk.toString());
        done();
      },
    });
    createRootLogger('probe', 'info', 'pretty', destination).info({ req: { headers: { authorization: 'Bearer wag_secret' } }, secret: 'whsec_x' }, 'hello there');
    const text = writes.join('');
    expect(text).toContain('hello there');
    expect(text).not.toMatch(/^\{/);
    expect(text).not.toContain('wag_secret');
    expect(text).not.toContain('whsec_x');
  });
});
