import { keepConsoleTextOnly } from './silent.logger';
import { WaSandbox } from './wa-sandbox.server';

/** `node dist/cli.js`: a sandbox on a fixed port for trying the gateway offline. */
async function main(): Promise<void> {
  keepConsoleTextOnly();
  const port = Number(process.env.SANDBOX_PORT ?? 7780);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`SANDBOX_PORT must be a TCP port, got ${process.env.SANDBOX_PORT}`);
  const sandbox = await (await WaSandbox.create()).start({ port });
  // One structured line, so scripts can read the URLs and the root key to trust.
  process.stdout.write(`${JSON.stringify({ event: 'wa-sandbox.ready', wsUrl: sandbox.wsUrl, controlUrl: sandbox.controlUrl, rootPublicKey: sandbox.rootPublicKey, mediaBaseUrl: sandbox.mediaBaseUrl, mediaCaFile: sandbox.mediaCaFile })}\n`);
  const shutdown = () => {
    void sandbox.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
