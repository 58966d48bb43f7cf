import { ClientNats, ClientProxyFactory, ServerNats, Transport, type ClientProxy, type MicroserviceOptions, type NatsOptions } from '@nestjs/microservices';
import { ConfigError, envEnum, envString, envUrl, type Env } from '@wa/domain';

/** NATS queue group shared by all runners, so that a request reaches exactly one of them. */
export const RUNNER_QUEUE_GROUP = 'wa-session-runners';

export type RunnerTransport = { kind: 'tcp'; host: string; port: number } | { kind: 'nats'; servers: string[]; subjectPrefix: string };

export const DEFAULT_NATS_SUBJECT_PREFIX = 'wa';
const SUBJECT_PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

type NatsTransportOptions = NonNullable<NatsOptions['options']>;

function prefixed(prefix: string, subject: string): string {
  return subject.startsWith(`${prefix}.`) ? subject : `${prefix}.${subject}`;
}

/**
 * NATS subjects are `<prefix>.<pattern>`, so several installations (or test runs) can share one
 * NATS cluster without answering each other's requests. Nest routes every subject, on both
 * sides, through `normalizePattern`; prefixing is idempotent because the server normalizes the
 * subject again when it looks the handler up.
 */
export class PrefixedServerNats extends ServerNats {
  private readonly directSubscriptions: { unsubscribe(): void }[] = [];

  /**
   * @param directPrefix when set, every handler is also reachable without the queue group at
   *   `<subjectPrefix>.<directPrefix>.<pattern>`: how a caller reaches one runner in particular.
   */
  constructor(
    options: NatsTransportOptions,
    private readonly subjectPrefix: string,
    private readonly directPrefix?: string,
  ) {
    super(options);
  }

  override normalizePattern(pattern: Parameters<ServerNats['normalizePattern']>[0]): string {
    return prefixed(this.subjectPrefix, super.normalizePattern(pattern));
  }

  override bindEvents(client: Parameters<ServerNats['bindEvents']>[0]): void {
    super.bindEvents(client);
    if (!this.directPrefix) return;
    for (const channel of this.messageHandlers.keys()) {
      const pattern = channel.slice(this.subjectPrefix.length + 1);
      const subject = `${this.subjectPrefix}.${this.directPrefix}.${pattern}`;
      this.directSubscriptions.push(client.subscribe(subject, { callback: this.getMessageHandler(channel).bind(this) }));
    }
  }

  override async close(): Promise<void> {
    for (const sub of this.directSubscriptions.splice(0)) sub.unsubscribe();
    await super.close();
  }
}

/** The pattern that reaches one runner directly, bypassing the queue group (NATS only). */
export function directRunnerPattern(runnerId: string, pattern: string): string {
  return `${RUNNER_DIRECT_PREFIX}.${runnerId}.${pattern}`;
}

const RUNNER_DIRECT_PREFIX = 'runner';

export class PrefixedClientNats extends ClientNats {
  private readonly subjectPrefix: string;

  constructor(options: NatsTransportOptions & { subjectPrefix: string }) {
    const { subjectPrefix, ...nats } = options;
    super(nats);
    this.subjectPrefix = subjectPrefix;
  }

  protected override normalizePattern(pattern: Parameters<ClientNats['normalizePattern']>[0]): string {
    return prefixed(this.subjectPrefix, super.normalizePattern(pattern));
  }
}

/** A `scheme://host:port` address whose port, when given (or when required), is 1-65535. */
function hasHostAndPort(raw: string, portOptional = false): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (!url.hostname) return false;
  if (url.port === '') return portOptional;
  const port = Number(url.port);
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

export const DEFAULT_RUNNER_URL = 'tcp://127.0.0.1:4010';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Reads `TRANSPORT`, `RUNNER_URL` (tcp) and `NATS_URL` (nats, comma-separated servers). */
export function runnerTransportFromEnv(env: Env): RunnerTransport {
  const kind = envEnum(env, 'TRANSPORT', ['tcp', 'nats'] as const, 'tcp');
  if (kind === 'nats') {
    const servers = envString(env, 'NATS_URL', DEFAULT_NATS_URL).split(',').map((s) => s.trim()).filter(Boolean);
    if (servers.length === 0) throw new ConfigError('NATS_URL', `must list at least one server, like ${DEFAULT_NATS_URL}`);
    for (const s of servers) {
      if (!/^(nats|tls):\/\/[^\s]+$/.test(s) || !hasHostAndPort(s, true)) throw new ConfigError('NATS_URL', `must be nats://host:port (got "${s}")`);
    }
    const subjectPrefix = envString(env, 'NATS_SUBJECT_PREFIX', DEFAULT_NATS_SUBJECT_PREFIX);
    if (!SUBJECT_PREFIX_RE.test(subjectPrefix)) {
      throw new ConfigError('NATS_SUBJECT_PREFIX', `must be dot-separated tokens of letters, digits, _ or - (got "${subjectPrefix}")`);
    }
    return { kind, servers, subjectPrefix };
  }
  const url = new URL(envUrl(env, 'RUNNER_URL', ['tcp:'], DEFAULT_RUNNER_URL));
  const port = Number(url.port);
  if (!hasHostAndPort(url.href)) {
    throw new ConfigError('RUNNER_URL', `must name a host and a port (1-65535), like ${DEFAULT_RUNNER_URL}`);
  }
  return { kind, host: url.hostname, port };
}

/**
 * ClientNats is a ClientProxy typed with NATS-specific status events; callers only send and
 * close, so the transport-neutral type is what they get.
 */
function asClientProxy(client: ClientNats): ClientProxy {
  return client as unknown as ClientProxy;
}

/** How the gateway reaches the runners. */
export function createRunnerClient(t: RunnerTransport): ClientProxy {
  if (t.kind === 'nats') {
    return asClientProxy(new PrefixedClientNats({ servers: t.servers, name: 'wa-gateway', subjectPrefix: t.subjectPrefix }));
  }
  return ClientProxyFactory.create({ transport: Transport.TCP, options: { host: t.host, port: t.port } });
}

/** How a runner listens: over NATS in the queue group and, with `runnerId`, on its direct subjects. */
export function runnerServerOptions(t: RunnerTransport, runnerId?: string): MicroserviceOptions {
  if (t.kind === 'nats') {
    const direct = runnerId === undefined ? undefined : `${RUNNER_DIRECT_PREFIX}.${runnerId}`;
    return { strategy: new PrefixedServerNats({ servers: t.servers, queue: RUNNER_QUEUE_GROUP, name: 'wa-session-runner' }, t.subjectPrefix, direct) };
  }
  return { transport: Transport.TCP, options: { host: t.host, port: t.port } };
}

/** NATS queue group shared by all gateways: each runner event batch is recorded by one of them. */
export const GATEWAY_QUEUE_GROUP = 'wa-gateways';
export const DEFAULT_GATEWAY_EVENTS_URL = 'tcp://127.0.0.1:4011';

export type GatewayEventsTransport = { kind: 'tcp'; host: string; port: number } | { kind: 'nats'; servers: string[]; subjectPrefix: string };

/**
 * Where gateways listen for runner events: over NATS the same servers as the runner transport;
 * over TCP its own address, `GATEWAY_EVENTS_URL`.
 */
export function gatewayEventsTransportFromEnv(env: Env, runner: RunnerTransport): GatewayEventsTransport {
  if (runner.kind === 'nats') return runner;
  const url = new URL(envUrl(env, 'GATEWAY_EVENTS_URL', ['tcp:'], DEFAULT_GATEWAY_EVENTS_URL));
  const port = Number(url.port);
  if (!hasHostAndPort(url.href)) {
    throw new ConfigError('GATEWAY_EVENTS_URL', `must name a host and a port (1-65535), like ${DEFAULT_GATEWAY_EVENTS_URL}`);
  }
  return { kind: 'tcp', host: url.hostname, port };
}

/** How a runner reaches the gateways with its events. */
export function createGatewayEventsClient(t: GatewayEventsTransport): ClientProxy {
  if (t.kind === 'nats') {
    return asClientProxy(new PrefixedClientNats({ servers: t.servers, name: 'wa-session-runner-events', subjectPrefix: t.subjectPrefix }));
  }
  return ClientProxyFactory.create({ transport: Transport.TCP, options: { host: t.host, port: t.port } });
}

export function gatewayEventsServerOptions(t: GatewayEventsTransport): MicroserviceOptions {
  if (t.kind === 'nats') {
    return { strategy: new PrefixedServerNats({ servers: t.servers, queue: GATEWAY_QUEUE_GROUP, name: 'wa-gateway-events' }, t.subjectPrefix) };
  }
  return { transport: Transport.TCP, options: { host: t.host, port: t.port } };
}
