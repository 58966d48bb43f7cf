import type { WaSandbox } from '@wa/wa-sandbox';
import type { TestIdentityProvider } from './auth-fixture';
import { HANG_MS } from './deadlines';

export interface SessionBody {
  id: string;
  status: string;
  statusReason: string | null;
  me: { jid: string; lid?: string; pushName?: string } | null;
  updatedAt: string;
}

export interface ApiCall {
  method?: string;
  body?: unknown;
  org?: string;
  role?: string;
  accept?: string;
  headers?: Record<string, string>;
}

/**
 * The status of a sync SendResult once the runner handed the message to WhatsApp: `sent` when
 * WhatsApp's ack came within SEND_ACK_WAIT_MS, `delivered` or `read` when the contact's receipt
 * came back before the answer was read, and `sending` when the ack came later than that (on a
 * loaded machine: a CI run answered `sending` for a group send). The proof that it left is its
 * arrival at the contact, which every caller waits for.
 */
export const handedOver = (): unknown => expect.stringMatching(/^(sending|sent|delivered|read)$/);

/** An answer with its status and its JSON body (`{}` when empty): an error envelope or a resource. */
export interface Envelope {
  status: number;
  body: { error?: { code: string; message: string }; data?: Array<Record<string, unknown>> } & Record<string, unknown>;
}

/** A person of `org` calling the gateway's API over real HTTP with a login JWT. */
export class ApiClient {
  constructor(
    private readonly baseUrl: () => string,
    private readonly idp: TestIdentityProvider,
    readonly org: string,
  ) {}

  call(path: string, init: ApiCall = {}): Promise<Response> {
    return fetch(`${this.baseUrl()}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { ...this.idp.headers(init.org ?? this.org, init.role ?? 'owner'), ...(init.accept ? { accept: init.accept } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  /** The status and parsed body of a call, for asserting on errors as much as on results. */
  async envelope(path: string, init: ApiCall = {}): Promise<Envelope> {
    const res = await this.call(path, init);
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Envelope['body']) : {} };
  }

  async json<T>(path: string, init: ApiCall = {}): Promise<T> {
    return (await (await this.call(path, init)).json()) as T;
  }

  /** The session once it is in one of `wanted`; with `changedAfter`, only a state entered after that `updatedAt`. */
  async waitForStatus(id: string, wanted: string[], timeoutMs = HANG_MS, changedAfter?: string): Promise<SessionBody> {
    const deadline = Date.now() + timeoutMs;
    let last: SessionBody | undefined;
    while (Date.now() < deadline) {
      last = await this.json<SessionBody>(`/sessions/${id}`);
      if (wanted.includes(last.status) && (changedAfter === undefined || last.updatedAt > changedAfter)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`session ${id} stayed ${last?.status} (${last?.statusReason}), wanted ${wanted.join('|')}`);
  }

  async waitForQr(id: string): Promise<string> {
    await this.waitForStatus(id, ['qr']);
    const res = await this.call(`/sessions/${id}/qr`, { accept: 'application/json' });
    if (res.status !== 200) throw new Error(`GET qr answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { qr: string }).qr;
  }

  /** Creates a session and links it by QR to the sandbox phone `phone` (created if new). */
  async linkSession(sandbox: WaSandbox, phone: string, name = `session of ${phone}`): Promise<{ id: string; phone: string; deviceJid: string }> {
    if (!sandbox.listPhones().some((p) => p.phone === phone)) await sandbox.createPhone(phone);
    const created = await this.json<SessionBody>('/sessions', { method: 'POST', body: { name } });
    const started = await this.call(`/sessions/${created.id}/start`, { method: 'POST' });
    if (started.status !== 200) throw new Error(`start answered ${started.status}: ${await started.text()}`);
    const { deviceJid } = await sandbox.scanQr(phone, await this.waitForQr(created.id));
    await this.waitForStatus(created.id, ['connected']);
    return { id: created.id, phone, deviceJid };
  }
}
