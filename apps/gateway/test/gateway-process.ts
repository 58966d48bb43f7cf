import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, TEST_KEEPALIVE_ENV, type TransportEnv } from './harness';

const GATEWAY_MAIN = join(__dirname, '../dist/main.js');

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout and stderr so far (its pino log). */
  output: () => string;
  stop: () => Promise<void>;
}

/** Each gateway listens for runner events on its own TCP port; over NATS they share subjects. */
export async function gatewayTransportEnv(transport: TransportEnv): Promise<Record<string, string>> {
  const env: Record<string, string> = { ...(transport as unknown as Record<string, string>) };
  if (transport.TRANSPORT === 'tcp') env.GATEWAY_EVENTS_URL = `tcp://127.0.0.1:${await freePort()}`;
  return env;
}

/**
 * The built gateway as its own process, as `pnpm start` runs it: what it logs is exactly what an
 * operator would see, which is what tests about logged secrets and the bootstrap key need.
 */
export async function spawnGateway(transport: TransportEnv, env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [GATEWAY_MAIN], {
    env: { PATH: process.env.PATH ?? '', ...(await gatewayTransportEnv(transport)), HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...TEST_KEEPALIVE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': the process's output has been read to the end by then.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  // Generous: a deadline for a gateway that cannot start, which a busy machine must not trip.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${out}`);
    const live = await fetch(`${url}/health/live`).then((r) => r.ok, () => false);
    if (live) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
