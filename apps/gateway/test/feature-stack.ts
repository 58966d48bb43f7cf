import { WaSandbox, type SandboxOptions } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

export interface FeatureStackOptions {
  /** The organization the suite's client acts for. */
  org: string;
  /** Virtual phones to create, `[phone, name]`, before any session links; their LIDs land in `lids`. */
  phones?: ReadonlyArray<readonly [string, string]>;
  /** Event types a webhook receiver is subscribed to (the receiver runs either way). */
  events?: string[];
  /** Sends without pacing and a 10 s sync timeout, as suites that send in quick turns want. */
  unpaced?: boolean;
  gatewayEnv?: Record<string, string>;
  runnerEnv?: Record<string, string>;
  /** How the sandbox behaves (e.g. how often it compacts app state). */
  sandbox?: SandboxOptions;
}

const UNPACED = { SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0', SEND_SYNC_TIMEOUT_MS: '10000' };

/**
 * What a feature suite runs against: the sandbox as WhatsApp, a session runner process with the
 * real Baileys socket, the gateway over real HTTP with a JWKS identity provider, a client of one
 * organization and a signed-webhook receiver, in the configuration the run selects (SQLite + TCP
 * or PostgreSQL + NATS). `close()` stops all of it and drops the suite's schemas.
 */
export class FeatureStack {
  readonly lids: Record<string, string> = {};

  private constructor(
    readonly idp: TestIdentityProvider,
    readonly sandbox: WaSandbox,
    readonly transport: TransportEnv,
    readonly runner: RunnerProcess,
    readonly gw: GatewayHandle,
    readonly client: ApiClient,
    readonly hooks: WebhookReceiver,
  ) {}

  static async start(options: FeatureStackOptions): Promise<FeatureStack> {
    const opened: Array<{ close?: () => Promise<void>; stop?: () => Promise<void> }> = [];
    try {
      const idp = await TestIdentityProvider.start();
      opened.push(idp);
      const sandbox = await (await WaSandbox.create(options.sandbox)).start();
      opened.push(sandbox);
      const transport = await transportEnv();
      const runner = await startRunner(transport, sandboxRunnerEnv(sandbox, options.runnerEnv));
      opened.push(runner);
      const gw = await startGateway(transport, { ...idp.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', ...(options.unpaced ? UNPACED : {}), ...options.gatewayEnv });
      opened.push(gw);
      const client = new ApiClient(() => gw.url, idp, options.org);
      const hooks = await WebhookReceiver.start();
      opened.push(hooks);
      const stack = new FeatureStack(idp, sandbox, transport, runner, gw, client, hooks);
      if (options.events?.length) {
        const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: hooks.url, events: options.events } });
        hooks.secrets = [hook.secret];
      }
      for (const [phone, name] of options.phones ?? []) stack.lids[phone] = (await sandbox.createPhone(phone, name)).lid;
      return stack;
    } catch (err) {
      // A half-started stack would keep the test process alive: stop what did start.
      for (const part of opened.reverse()) await (part.close ?? part.stop)?.call(part).catch(() => undefined);
      throw err;
    }
  }

  /** Links a session of the organization to `phone` by QR; resolves with the session id. */
  async link(phone: string, name: string): Promise<string> {
    return (await this.client.linkSession(this.sandbox, phone, name)).id;
  }

  /** The status and body of a call as the organization's owner. */
  call(path: string, method = 'GET', body?: unknown): Promise<Envelope> {
    return this.client.envelope(path, { method, body });
  }

  async close(): Promise<void> {
    await this.hooks.close();
    await this.gw.close();
    await this.runner.stop();
    await this.sandbox.stop();
    await this.idp.close();
    await dropTestSchemas();
  }
}
