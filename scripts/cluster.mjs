// Try scale-out on one machine: the WhatsApp sandbox, 2 gateways and 3 session runners on
// PostgreSQL + NATS (fresh schemas and a NATS subject prefix of their own), with an API key.
// Prints one ready line; Ctrl-C stops everything and drops the run's schemas.
import { parseArgs } from 'node:util';
import { startCluster } from './lib/cluster.mjs';
import { ensureServices } from './services.mjs';
import { takenPort } from './lib/supervise.mjs';

const USAGE = 'usage: pnpm cluster [--gateways 2] [--runners 3] [--port 3000] [--sandbox-port 7780] [--keep-data]';
let args;
try {
  args = parseArgs({
    options: {
      gateways: { type: 'string', default: '2' },
      runners: { type: 'string', default: '3' },
      port: { type: 'string', default: '3000' },
      'sandbox-port': { type: 'string', default: '7780' },
      'keep-data': { type: 'boolean', default: false },
    },
  }).values;
} catch (err) {
  process.stderr.write(`${err.message}\n${USAGE}\n`);
  process.exit(2);
}
const count = (name, max) => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    process.stderr.write(`--${name} must be a whole number from 1 to ${max}\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
};
const gateways = count('gateways', 10);
const runners = count('runners', 10);
const port = count('port', 65535 - gateways);
const sandboxPort = count('sandbox-port', 65535);

const taken = await takenPort([
  { app: 'sandbox', host: '127.0.0.1', port: sandboxPort, variable: '--sandbox-port' },
  ...Array.from({ length: gateways }, (_, i) => ({ app: `gateway-${i + 1}`, host: '127.0.0.1', port: port + i, variable: '--port' })),
]);
if (taken) {
  process.stderr.write(`${taken}\n`);
  process.exit(1);
}
await ensureServices();

process.stdout.write(`Starting the sandbox, ${runners} session runners and ${gateways} gateways on PostgreSQL + NATS; waiting until every gateway is ready...\n`);
let cluster;
try {
  cluster = await startCluster({
    gateways,
    runners,
    gatewayPort: port,
    sandboxPort,
    keepData: args['keep-data'],
    // A process that dies by itself (or that you kill -9 to watch the failover) is started again.
    onExit: (name, how) => process.stderr.write(`${how}; starting it again\n`),
  });
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('Stopping the gateways, the runners and the sandbox...\n');
  cluster.stop().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const local = (url) => url.replace('127.0.0.1', 'localhost');
process.stdout.write(
  `Cluster ready: gateways ${cluster.gatewayUrls.map(local).join(' ')}  API key ${cluster.apiKey} (org "${cluster.org}", send,manage)  sandbox control ${local(cluster.sandboxUrl)}  logs ${cluster.logDir}\n`,
);
process.stdout.write(`Processes: ${cluster.names().map((n) => `${n} ${cluster.pid(n)}`).join(', ')}. Ctrl-C stops everything.\n`);
