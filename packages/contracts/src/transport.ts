import { Transport, type ClientOptions, type MicroserviceOptions } from '@nestjs/microservices';
import { ConfigError, envEnum, envString, envUrl, type Env } from '@wa/domain';

/** NATS queue group shared by all runners, so that a request reaches exactly one of them. */
export const RUNNER_QUEUE_GROUP = 'wa-session-runners';

export type RunnerTransport = { kind: 'tcp'; host: string; port: number } | { kind: 'nats'; servers: string[] };

export const DEFAULT_RUNNER_URL = 'tcp://127.0.0.1:4010';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Reads `TRANSPORT`, `RUNNER_URL` (tcp) and `NATS_URL` (nats, comma-separated servers). */
export function runnerTransportFromEnv(env: Env): RunnerTransport {
  const kind = envEnum(env, 'TRANSPORT', ['tcp', 'nats'] as const, 'tcp');
  if (kind === 'nats') {
    const servers = envString(env, 'NATS_URL', DEFAULT_NATS_URL).split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of servers) {
      if (!/^(nats|tls):\/\/[^\s]+$/.test(s)) throw new ConfigError('NATS_URL', `must be nats://host:port (got "${s}")`);
    }
    return { kind, servers };
  }
  const url = new URL(envUrl(env, 'RUNNER_URL', ['tcp:'], DEFAULT_RUNNER_URL));
  const port = Number(url.port);
  if (!url.port || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('RUNNER_URL', `must name a port, like ${DEFAULT_RUNNER_URL}`);
  }
  return { kind, host: url.hostname, port };
}

/** How the gateway reaches the runners. */
export function runnerClientOptions(t: RunnerTransport): ClientOptions {
  if (t.kind === 'nats') {
    return { transport: Transport.NATS, options: { servers: t.servers, name: 'wa-gateway' } };
  }
  return { transport: Transport.TCP, options: { host: t.host, port: t.port } };
}

/** How a runner listens. */
export function runnerServerOptions(t: RunnerTransport): MicroserviceOptions {
  if (t.kind === 'nats') {
    return { transport: Transport.NATS, options: { servers: t.servers, queue: RUNNER_QUEUE_GROUP, name: 'wa-session-runner' } };
  }
  return { transport: Transport.TCP, options: { host: t.host, port: t.port } };
}

/** NATS queue group shared by all gateways: each runner event batch is recorded by one of them. */
export const GATEWAY_QUEUE_GROUP = 'wa-gateways';
export const DEFAULT_GATEWAY_EVENTS_URL = 'tcp://127.0.0.1:4011';

export type GatewayEventsTransport = { kind: 'tcp'; host: string; port: number } | { kind: 'nats'; servers: string[] };

/**
 * Where gateways listen for runner events: over NATS the same servers as the runner transport;
 * over TCP its own address, `GATEWAY_EVENTS_URL`.
 */
export function gatewayEventsTransportFromEnv(env: Env, runner: RunnerTransport): GatewayEventsTransport {
  if (runner.kind === 'nats') return runner;
  const url = new URL(envUrl(env, 'GATEWAY_EVENTS_URL', ['tcp:'], DEFAULT_GATEWAY_EVENTS_URL));
  const port = Number(url.port);
  if (!url.port || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('GATEWAY_EVENTS_URL', `must name a port, like ${DEFAULT_GATEWAY_EVENTS_URL}`);
  }
  return { kind: 'tcp', host: url.hostname, port };
}

export function gatewayEventsClientOptions(t: GatewayEventsTransport): ClientOptions {
  if (t.kind === 'nats') return { transport: Transport.NATS, options: { servers: t.servers, name: 'wa-session-runner-events' } };
  return { transport: Transport.TCP, options: { host: t.host, port: t.port } };
}

export function gatewayEventsServerOptions(t: GatewayEventsTransport): MicroserviceOptions {
  if (t.kind === 'nats') return { transport: Transport.NATS, options: { servers: t.servers, queue: GATEWAY_QUEUE_GROUP, name: 'wa-gateway-events' } };
  return { transport: Transport.TCP, options: { host: t.host, port: t.port } };
}
