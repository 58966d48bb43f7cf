// A webhook receiver for the delivery benchmark: answers 204, counts deliveries and records the
// event-to-delivery latency (arrival time minus the envelope's `timestamp`, set at publish) and
// when the first and the last delivery arrived, so that the delivery rate is measured where the
// deliveries land. GET /stats returns {count, latencies, first, last}, GET /count just the count (cheap enough
// to poll while the gateway under test shares this machine); POST /reset clears them.
import { createServer } from 'node:http';

let latencies = [];
let first = null;
let last = null;
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: latencies.length, latencies, first, last }));
    return;
  }
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: latencies.length }));
    return;
  }
  if (req.url === '/reset') {
    latencies = [];
    first = last = null;
    res.writeHead(204).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      if (typeof body.timestamp === 'number' && req.headers['webhook-signature']) {
        latencies.push(now - body.timestamp);
        first ??= now;
        last = now;
      }
    } catch {
      // not a delivery
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
