import { OutboxDispatcher } from './outbox.dispatcher';
import type { OutboxRow, OutboxStore } from './outbox.store';
import type { GatewayConfig } from '../config/gateway.config';
import type { EventsService } from '../events/events.service';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { RunnerClient } from '../runner/runner-client';

const SESSION = 'session-1';
const CHAT = '4915112345678@s.whatsapp.net';

const entry = (id: string): OutboxRow => ({
  id,
  orgId: 'org-1',
  sessionId: SESSION,
  chat: CHAT,
  kind: 'send',
  action: JSON.stringify({ kind: 'send', chat: CHAT, content: { type: 'text', text: id } }),
  waMessageId: `wa-${id}`,
  mode: 'async',
  status: 'sending',
  error: null,
  attempts: 1,
  nextAttemptAt: 1,
  claimToken: 'token',
  createdAt: 1,
  updatedAt: 1,
});

/**
 * The store as the dispatcher sees it: claims of a chat's head answer the entries queued here, one
 * per claim, and each hand-over's end waits until the test lets it go.
 */
class FakeStore {
  readonly heads: OutboxRow[] = [];
  claims = 0;
  private release?: () => void;
  ending?: Promise<void>;

  constructor(readonly writesInOrder: boolean) {}

  async claimChatHead(): Promise<OutboxRow | undefined> {
    this.claims++;
    return this.heads.shift();
  }

  flushClaims(): void {}

  async finishHandedOver(): Promise<OutboxRow | undefined> {
    await this.ending;
    return undefined; // no next entry was due when the end's statement ran
  }

  holdEnds(): void {
    this.ending = new Promise((r) => (this.release = r));
  }

  releaseEnds(): void {
    this.release?.();
    this.ending = undefined;
  }
}

/**
 * Lets everything the dispatcher queued run: its kicks go through setImmediate and its steps
 * through promises, so turns of the check phase (never a timer, which a loaded machine fires
 * before immediates queued later) see the chain through, however slow the machine.
 */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
};

function dispatcher(store: FakeStore): { dispatcher: OutboxDispatcher; handedOver: string[] } {
  const handedOver: string[] = [];
  const runner = {
    call: async (_pattern: string, payload: { outboxId: string }) => {
      handedOver.push(payload.outboxId);
      return { status: 'sending' };
    },
  } as unknown as RunnerClient;
  const config = {
    messaging: { dispatcherEnabled: true, claimTtlMs: 30_000, minIntervalMs: 0, jitterMs: 0, syncTimeoutMs: 10_000, retryBaseMs: 100, retryMaxMs: 1000 },
  } as unknown as GatewayConfig;
  const metrics = { handedOver: () => undefined } as unknown as GatewayMetrics;
  const events = { publish: async () => undefined } as unknown as EventsService;
  return { dispatcher: new OutboxDispatcher(store as unknown as OutboxStore, runner, config, metrics, events), handedOver };
}

describe('OutboxDispatcher: the chat after a hand-over ends', () => {
  /** One entry handed over with nothing accepted meanwhile; `claims` counts the looks at its chat. */
  it.each([
    { database: 'PostgreSQL: the end looked for the next entry, so no second look', writesInOrder: false, claims: 1 },
    { database: 'SQLite: the end cannot claim the next entry, so the chat is looked at again', writesInOrder: true, claims: 2 },
  ])('after a single hand-over ($database)', async ({ writesInOrder, claims }) => {
    const store = new FakeStore(writesInOrder);
    const { dispatcher: d, handedOver } = dispatcher(store);
    store.heads.push(entry('e1'));
    d.kickChat(SESSION, CHAT);
    await settle();
    expect(handedOver).toEqual(['e1']);
    expect(store.claims).toBe(claims);
  });

  it('claims again when an entry was accepted while the hand-over ran (its own kick found the chat busy)', async () => {
    const store = new FakeStore(false);
    const { dispatcher: d, handedOver } = dispatcher(store);
    store.heads.push(entry('e1'));
    store.holdEnds();
    d.kickChat(SESSION, CHAT);
    await settle();
    expect(handedOver).toEqual(['e1']);
    // e2 is accepted now: its kick comes while e1's end is in progress, and the end's statement
    // (sent before e2 committed) does not claim it.
    store.heads.push(entry('e2'));
    d.kickChat(SESSION, CHAT);
    await settle();
    expect(store.claims).toBe(1);
    store.releaseEnds();
    await settle();
    expect(handedOver).toEqual(['e1', 'e2']);
    // e1's claim, then e2's after e1's end; e2's end, with nothing accepted meanwhile, adds none.
    expect(store.claims).toBe(2);
  });
});
