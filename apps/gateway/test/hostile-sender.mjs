// Sends JSON bodies of `[` x N + `]` x N to the gateway from its own process, so that the test
// measuring /health/live meanwhile measures the gateway and not its own busy event loop.
// Usage: node hostile-sender.mjs <port> <bearer token, or - for none>...; prints `sending` once every
// connection is open, then a JSON array with one answer per request.
import { connect } from 'node:net';

const [port, ...tokens] = process.argv.slice(2);
const body = Buffer.concat([Buffer.alloc(10_000_000, '['), Buffer.alloc(10_000_000, ']')]);

function send(token, connected) {
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    let sent = 0;
    const auth = token ? `authorization: Bearer ${token}\r\n` : '';
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      const [headText, payload = ''] = received.split('\r\n\r\n');
      const [statusLine = '', ...lines] = (headText ?? '').split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: payload ? JSON.parse(payload) : undefined });
    });
    socket.once('connect', () => {
      socket.write(`POST /api/v1/sessions HTTP/1.1\r\nhost: localhost\r\n${auth}content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
      // Keeps sending after the answer, as a hostile client would, until the gateway closes.
      const more = () => {
        while (sent < body.length && socket.writable) {
          const slice = body.subarray(sent, sent + 64 * 1024);
          sent += slice.length;
          if (!socket.write(slice)) return void socket.once('drain', more);
        }
      };
      more();
      connected();
    });
  });
}

const connections = [];
const answers = Promise.all(tokens.map((t) => send(t === '-' ? '' : t, () => connections.push(1) === tokens.length && process.stdout.write('sending\n'))));
process.stdout.write(JSON.stringify(await answers));
