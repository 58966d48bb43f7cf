// The soak's webhook endpoint: verifies every delivery with the standardwebhooks library and
// counts, per webhook id, how often it was accepted (a 2xx that actually reached the gateway).
// It can be told to be slow (answers after seconds, still within the gateway's timeout) or down
// (the port refuses connections), as real receivers are now and then.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { Webhook } = createRequire(join(root, 'apps/gateway/package.json'))('standardwebhooks');

export class SoakReceiver {
  /** webhook id -> the envelope and the times it was accepted */
  accepted = new Map();
  requests = 0;
  refusedSignatures = 0;
  /** deliveries answered 2xx on a connection the gateway had already dropped (it will retry) */
  answeredTooLate = 0;
  mode = 'ok';
  #server;
  #port = 0;
  #verifier;
  #random;

  /** @param {() => number} random in [0, 1), the soak's seeded generator */
  constructor(random) {
    this.#random = random;
  }

  get url() {
    return `http://127.0.0.1:${this.#port}/hook`;
  }

  /** @param {string} secret the endpoint's whsec_ secret, known once the webhook exists */
  setSecret(secret) {
    this.#verifier = new Webhook(secret);
  }

  async start() {
    await this.#listen();
    return this;
  }

  /**
   * `ok`: 204 at once; `slow`: half of the deliveries wait 1-5 s first (under the gateway's 15 s
   * timeout, so they are successes, just late); `down`: nothing listens (connection refused).
   * @param {'ok' | 'slow' | 'down'} mode
   */
  async setMode(mode) {
    if (mode === this.mode) return;
    if (mode === 'down') {
      const server = this.#server;
      this.#server = undefined;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    } else if (this.mode === 'down') {
      await this.#listen();
    }
    this.mode = mode;
  }

  async close() {
    await this.setMode('down');
  }

  #listen() {
    const server = createServer((req, res) => this.#handle(req, res));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        this.#port = server.address().port;
        resolve();
      });
    });
  }

  #handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      const raw = Buffer.concat(chunks).toString('utf8');
      let envelope;
      try {
        envelope = this.#verifier.verify(raw, req.headers);
      } catch {
        this.refusedSignatures++;
        res.writeHead(401).end('bad signature');
        return;
      }
      const answer = () => {
        // A gateway killed while we were slow never sees this 2xx and delivers again: that
        // is its at-least-once promise, not a duplicate, so it is not counted as accepted.
        if (res.destroyed || req.socket.destroyed) {
          this.answeredTooLate++;
          return;
        }
        res.writeHead(204).end(() => {
          const id = req.headers['webhook-id'];
          const entry = this.accepted.get(id) ?? { envelope, at: [] };
          entry.at.push(Date.now());
          this.accepted.set(id, entry);
        });
      };
      if (this.mode === 'slow' && this.#random() < 0.5) setTimeout(answer, 1_000 + Math.floor(this.#random() * 4_000));
      else answer();
    });
  }
}
