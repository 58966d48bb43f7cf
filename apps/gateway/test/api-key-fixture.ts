import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

export interface AuthStack {
  transport: TransportEnv;
  runner: RunnerProcess;
  idp: TestIdentityProvider;
  gw: GatewayHandle;
  /** Stops everything it started and drops the suite's test schemas. */
  close: () => Promise<void>;
}

/**
 * A runner, a test identity provider and an in-process gateway for suites that authenticate
 * against the real stack. Many deliberate failures in those suites come from one address, so
 * the failed-auth limit is off; it has its own test.
 */
export async function startAuthStack(): Promise<AuthStack> {
  const transport = await transportEnv();
  const runner = await startRunner(transport);
  let idp: TestIdentityProvider | undefined;
  try {
    idp = await TestIdentityProvider.start();
    const gw = await startGateway(transport, { ...idp.env, RATE_LIMIT_FAILED_AUTH: 'off' });
    const started = idp;
    return {
      transport,
      runner,
      idp,
      gw,
      close: async () => {
        await gw.close();
        await started.close();
        await runner.stop();
        await dropTestSchemas();
      },
    };
  } catch (err) {
    await idp?.close();
    await runner.stop();
    throw err;
  }
}
