// How much the gateway's HTTP stack costs over bare node:http, measured in one run:
//   node bench/http-baseline.mjs [--connections 50] [--duration 10]
// Prints req/s, p50 and p99 for both and the gateway's share of the bare server's throughput.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, parseArgs, printTable, startServer } from './lib/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { connections, duration } = parseArgs({ connections: 50, duration: 10 });

const rows = [];
for (const [title, file, path] of [
  ['bare node:http GET', 'lib/bare-http.mjs', '/'],
  ['gateway (Nest + Fastify) GET /health/live', 'lib/gateway-server.mjs', '/health/live'],
]) {
  const server = await startServer(join(here, file));
  try {
    await load({ url: `http://127.0.0.1:${server.port}${path}`, connections, duration: 2, title: `${title} (warm-up)` });
    rows.push(await load({ url: `http://127.0.0.1:${server.port}${path}`, connections, duration, title }));
  } finally {
    await server.stop();
  }
}
printTable(rows, rows[0]);
