import { backoffDelay, classifyDisconnect } from '../src';

describe(classifyDisconnect.name, () => {
  it.each([
    [401, { kind: 'logged_out' }],
    [403, { kind: 'fail', reason: 'banned' }],
    [405, { kind: 'fail', reason: 'version_rejected' }],
    [440, { kind: 'fail', reason: 'replaced' }],
    [515, { kind: 'restart' }],
    [408, { kind: 'reconnect' }],
    [428, { kind: 'reconnect' }],
    [500, { kind: 'reconnect' }],
    [503, { kind: 'reconnect' }],
    [499, { kind: 'reconnect' }],
    [undefined, { kind: 'reconnect' }],
  ])('answers code %s with %o', (code, expected) => {
    expect(classifyDisconnect(code)).toMatchObject(expected);
  });

  it('stops for good when the server failed authentication, whatever the code', () => {
    const refusal = Object.assign(new Error('noise leaf certificate key does not match'), { output: { statusCode: 400 }, data: { noiseCertificate: 'static_key_mismatch' } });
    expect(classifyDisconnect(400, refusal)).toMatchObject({
      kind: 'fail',
      reason: 'server_untrusted',
      message: expect.stringContaining('static_key_mismatch'),
    });
    expect(classifyDisconnect(400, new Error('bad request'))).toEqual({ kind: 'reconnect' });
  });

  it('tells the operator how to fix a rejected version', () => {
    expect(classifyDisconnect(405)).toMatchObject({ message: expect.stringContaining('WA_VERSION') });
  });
});

describe(backoffDelay.name, () => {
  const options = { baseMs: 1_000, maxMs: 30_000 };

  it('doubles per attempt within a jittered upper half and never exceeds the cap', () => {
    expect(backoffDelay(1, options, () => 0)).toBe(500);
    expect(backoffDelay(1, options, () => 1)).toBe(1_000);
    expect(backoffDelay(3, options, () => 0.5)).toBe(3_000);
    expect(backoffDelay(20, options, () => 1)).toBe(30_000);
    expect(backoffDelay(20, options, () => 0)).toBe(15_000);
  });
});
