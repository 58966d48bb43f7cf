import { WaSandbox, type SandboxOptions } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { claimSchemas, dropSchemas, dropTestSchemas, sandboxRunnerEnv, schemaMark, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
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
 * or PostgreSQL + NATS). `close()` stops all of it and drops the suite's schemas; in a bundle
 * (`shareAmongSuites`) the processes and servers outlive the suite.
 */
export class FeatureStack {
  readonly lids: Record<string, string> = {};

  readonly idp: TestIdentityProvider;
  readonly sandbox: WaSandbox;
  readonly transport: TransportEnv;
  readonly runner: RunnerProcess;
  readonly gw: GatewayHandle;
  private webhookId?: string;

  private constructor(
    private readonly base: Base,
    readonly client: ApiClient,
    readonly hooks: WebhookReceiver,
  ) {
    ({ idp: this.idp, sandbox: this.sandbox, transport: this.transport, runner: this.runner, gw: this.gw } = base);
  }

  static async start(options: FeatureStackOptions): Promise<FeatureStack> {
    const base = sharedBases ? await sharedBase(options) : await Base.start(options);
    const hooks = await WebhookReceiver.start();
    try {
      const client = new ApiClient(() => base.gw.url, base.idp, options.org);
      const stack = new FeatureStack(base, client, hooks);
      if (options.events?.length) {
        const hook = await client.json<{ id: string; secret: string }>('/webhooks', { method: 'POST', body: { url: hooks.url, events: options.events } });
        hooks.secrets = [hook.secret];
        stack.webhookId = hook.id;
      }
      for (const [phone, name] of options.phones ?? []) stack.lids[phone] = (await base.sandbox.createPhone(phone, name)).lid;
      return stack;
    } catch (err) {
      await hooks.close();
      if (!sharedBases) await base.close();
      throw err;
    }
  }

  /**
   * Called by a bundle file (test/bundles): its suites that ask for the same options
   * share one sandbox, runner, gateway and identity provider, each with its own organization,
   * phones and webhook receiver (suites of one bundle use phone numbers of their own), and the
   * stacks close when the file's last suite has run. A runner and a gateway start cost about 5 s
   * of CPU, each suite paid them before.
   */
  static shareAmongSuites(): void {
    if (sharedBases) return;
    const bases = new Map<string, Promise<Base>>();
    sharedBases = bases;
    afterAll(async () => {
      sharedBases = undefined;
      for (const base of bases.values()) await (await base.catch(() => undefined))?.close();
    });
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
    if (sharedBases) {
      // The gateway stays for the next suite: the webhook goes first, so nothing is delivered
      // to (and retried against) the closed receiver.
      if (this.webhookId) await this.client.envelope(`/webhooks/${this.webhookId}`, { method: 'DELETE' });
      await this.hooks.close();
      return;
    }
    await this.hooks.close();
    await this.base.close();
  }
}

/** The processes and servers a suite's stack runs on; shared by the suites of a bundle. */
class Base {
  private constructor(
    readonly idp: TestIdentityProvider,
    readonly sandbox: WaSandbox,
    readonly transport: TransportEnv,
    readonly runner: RunnerProcess,
    readonly gw: GatewayHandle,
    /** Its schemas when shared (dropped at its close, not by the suites' `dropTestSchemas`). */
    private readonly schemas?: string[],
  ) {}

  static async start(options: FeatureStackOptions, shared = false): Promise<Base> {
    const mark = schemaMark();
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
      return new Base(idp, sandbox, transport, runner, gw, shared ? claimSchemas(mark) : undefined);
    } catch (err) {
      // A half-started stack would keep the test process alive: stop what did start.
      for (const part of opened.reverse()) await (part.close ?? part.stop)?.call(part).catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.gw.close();
    await this.runner.stop();
    await this.sandbox.stop();
    await this.idp.close();
    await (this.schemas ? dropSchemas(this.schemas) : dropTestSchemas());
  }
}

/** Bases of the running bundle file, by the options that shape them (FeatureStack.shareAmongSuites). */
let sharedBases: Map<string, Promise<Base>> | undefined;

function sharedBase(options: FeatureStackOptions): Promise<Base> {
  const bases = sharedBases as Map<string, Promise<Base>>;
  const key = JSON.stringify([!!options.unpaced, options.gatewayEnv ?? {}, options.runnerEnv ?? {}, options.sandbox ?? {}]);
  let base = bases.get(key);
  if (!base) bases.set(key, (base = Base.start(options, true)));
  return base;
}
