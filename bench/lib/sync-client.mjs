// The send bench's client for sync sends: the bench times what the gateway and the runner add,
// not its own client. Two things of the client's used to count: the bench's process also runs the
// sandbox, whose virtual contact decrypts and acknowledges each message just as the gateway
// answers, and undici's fetch costs more per request than node:http. A per-hop trace of 200 sends
// put 1.7 ms of the p50 outside the gateway with fetch in the bench's process, 1.0 ms with this
// client. The bare socket it is compared with is timed in a process of its own too.
// Driven over IPC by the bench:
//   parent -> {url, headers, body, count, warmUp}
//   child -> {warm: true}           after the warm-up sends (the parent starts its CPU window)
//   child -> {latencies, early}     ms per send after the warm-up, in order; `early`: the first
//                                   `count` after the first ten, when the warm-up holds them
import { Agent, request } from 'node:http';

const { url, headers, body, count, warmUp } = await new Promise((resolve) => process.once('message', resolve));
// node:http on one kept-alive connection: the leanest client, so that the figure is the server's.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const post = () =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, result: JSON.parse(Buffer.concat(chunks).toString()) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
const latencies = [];
const early = [];
for (let i = 0; i < count + warmUp; i++) {
  if (i === warmUp) await new Promise((resolve) => process.send({ warm: true }, resolve));
  const started = performance.now();
  const { status, result } = await post();
  if (status !== 200 || result.status !== 'sent') throw new Error(`sync send answered ${status} ${JSON.stringify(result)}`);
  const ms = performance.now() - started;
  if (i >= warmUp) latencies.push(ms);
  else if (i >= 10 && i < 10 + count) early.push(ms);
}
process.send({ latencies, early });
agent.destroy();
process.disconnect();
