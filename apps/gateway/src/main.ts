import 'reflect-metadata';
import { ConfigError } from '@wa/domain';
import { createGatewayApp } from './app.factory';
import { loadGatewayConfig, type GatewayConfig } from './config/gateway.config';

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gateway: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const app = await createGatewayApp(config);
  await app.listen({ port: config.port, host: config.host });
  // Nest closes the server on SIGTERM/SIGINT; a stuck close must not keep the process forever.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => setTimeout(() => process.exit(1), config.shutdownGraceMs).unref());
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
