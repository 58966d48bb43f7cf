import { createRunnerClient, PrefixedClientNats, PrefixedServerNats, runnerServerOptions, runnerTransportFromEnv, RUNNER_QUEUE_GROUP } from './transport';

describe('runner transport', () => {
  it('defaults to TCP on a loopback port', () => {
    expect(runnerTransportFromEnv({})).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4010 });
  });

  it('puts every NATS runner in one queue group so each request reaches exactly one', () => {
    const t = runnerTransportFromEnv({ TRANSPORT: 'nats', NATS_URL: 'nats://a:4222, nats://b:4222' });
    expect(t).toEqual({ kind: 'nats', servers: ['nats://a:4222', 'nats://b:4222'], subjectPrefix: 'wa' });
    const server = runnerServerOptions(t) as { strategy: PrefixedServerNats };
    expect(server.strategy).toBeInstanceOf(PrefixedServerNats);
    expect(server.strategy['options']).toMatchObject({ queue: RUNNER_QUEUE_GROUP });
    expect(createRunnerClient(t)).toBeInstanceOf(PrefixedClientNats);
  });

  it('namespaces every NATS subject with the prefix, once', () => {
    const server = new PrefixedServerNats({ servers: ['nats://x:4222'] }, 'acme.prod');
    expect(server.normalizePattern('runner.ping')).toBe('acme.prod.runner.ping');
    expect(server.normalizePattern('acme.prod.runner.ping')).toBe('acme.prod.runner.ping');
    expect(() => runnerTransportFromEnv({ TRANSPORT: 'nats', NATS_SUBJECT_PREFIX: 'bad prefix' })).toThrow(/NATS_SUBJECT_PREFIX/);
  });

  it('names the variable when the address is wrong', () => {
    expect(() => runnerTransportFromEnv({ RUNNER_URL: 'tcp://localhost' })).toThrow(/RUNNER_URL/);
    expect(() => runnerTransportFromEnv({ TRANSPORT: 'nats', NATS_URL: 'http://x' })).toThrow(/NATS_URL/);
    expect(() => runnerTransportFromEnv({ TRANSPORT: 'amqp' })).toThrow(/TRANSPORT must be one of tcp, nats/);
  });
});
