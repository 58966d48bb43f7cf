import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { HANG_MS } from './deadlines';

export interface Received {
  id: string;
  body: Record<string, unknown> & { id: string; type: string; sequence: number; sessionId: string | null; data: Record<string, unknown> };
  headers: Record<string, string>;
  verifiedWith: number[];
}

/** Answers a delivery: a status, optional headers and body. */
export type Behaviour = (req: IncomingMessage, attempt: number) => { status: number; headers?: Record<string, string>; body?: string };

/**
 * A webhook receiver on loopback that verifies every delivery with the `standardwebhooks`
 * library against each of its secrets and counts TCP connections (for the SSRF suite).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly rejected: string[] = [];
  connections = 0;
  requests = 0;
  secrets: string[] = [];
  behaviour: Behaviour = () => ({ status: 204 });
  private readonly attempts = new Map<string, number>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(host = '127.0.0.1'): Promise<WebhookReceiver> {
    let receiver!: WebhookReceiver;
    const server = createServer((req, res) => receiver.handle(req, res));
    server.on('connection', () => receiver.connections++);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    receiver = new WebhookReceiver(server, (server.address() as { port: number }).port);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  ids(): string[] {
    return this.received.map((r) => r.id);
  }

  /** Bodies of the events of `type` received so far, of one session when given. */
  events(type: string, session?: string): Received['body'][] {
    return this.received.map((r) => r.body).filter((b) => b.type === type && (session === undefined || b.sessionId === session));
  }

  /** The first event of `type` (of `session`, when given) whose data matches; fails naming the last ones received. */
  async eventFor(session: string | undefined, type: string, pred: (data: Record<string, unknown>) => boolean, timeoutMs = HANG_MS): Promise<Received['body']> {
    let hit: Received['body'] | undefined;
    await this.waitFor(() => !!(hit = this.events(type, session).find((b) => pred(b.data))), timeoutMs).catch(() => {
      throw new Error(`no ${type}${session ? ` for ${session}` : ''}; got ${JSON.stringify(this.received.map((r) => [r.body.sessionId, r.body.type, r.body.data]).slice(-12))}`);
    });
    return hit as Received['body'];
  }

  async waitFor(predicate: () => boolean, timeoutMs = HANG_MS): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > until) throw new Error(`timed out; received ${this.received.length}, requests ${this.requests}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const id = headers['webhook-id'];
      const attempt = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.set(id, attempt);
      const answer = this.behaviour(req, attempt);
      if (answer.status >= 200 && answer.status < 300) {
        const verifiedWith = this.secrets.flatMap((secret, i) => {
          try {
            new Webhook(secret).verify(raw, headers);
            return [i];
          } catch {
            return [];
          }
        });
        if (verifiedWith.length === 0) {
          this.rejected.push(id);
          res.writeHead(401).end('bad signature');
          return;
        }
        this.received.push({ id, body: JSON.parse(raw) as Received['body'], headers, verifiedWith });
      }
      res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
    });
  }
}
