import { AppError } from './errors';

describe(AppError.name, () => {
  it('carries the HTTP status of its code', () => {
    expect(new AppError('session_not_connected', 'x').status).toBe(409);
    expect(new AppError('idempotency_key_reused', 'x').status).toBe(422);
  });

  it('survives the wire and degrades unknown payloads to internal_error', () => {
    const back = AppError.fromWire(JSON.parse(JSON.stringify(new AppError('not_found', 'session not found', { id: 'a' }))));
    expect(back.toJSON()).toEqual({ code: 'not_found', message: 'session not found', details: { id: 'a' } });
    expect(AppError.fromWire({ code: 'ECONNREFUSED', message: 'connect failed' }).code).toBe('internal_error');
    expect(AppError.fromWire('boom').code).toBe('internal_error');
  });
});
