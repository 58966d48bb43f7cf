import type { RunnerEvent } from '@wa/contracts';
import { OutboxEvents } from './outbox.events';
import type { OutboxDispatcher } from './outbox.dispatcher';
import type { OutboxStore } from './outbox.store';

type Status = 'sent' | 'delivered' | 'read' | 'failed';

/** A store whose `advance` answers when the test says so, recording what was asked and in which order. */
class HeldStore {
  readonly asked: string[] = [];
  readonly inFlight = new Set<string>();
  maxInFlight = 0;
  private readonly waiting: { call: string; release: (fail?: boolean) => void }[] = [];
  woken: string[] = [];

  advance(orgId: string, sessionId: string, messageId: string, status: Status): Promise<{ moved: string[]; entry?: string }> {
    const call = `${messageId}:${status}`;
    this.asked.push(call);
    this.inFlight.add(call);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
    return new Promise((resolve, reject) => {
      this.waiting.push({
        call,
        release: (fail) => {
          this.inFlight.delete(call);
          if (fail) reject(new Error(`cannot write ${call}`));
          else resolve(messageId.startsWith('theirs') ? { moved: [] } : { moved: status === 'read' ? [] : [`entry-${messageId}`], entry: `entry-${messageId}` });
        },
      });
    });
  }

  async wakeSession(sessionId: string): Promise<void> {
    this.woken.push(sessionId);
  }

  /** Answers every call asked so far (failing those named), then lets the awaits run. */
  async releaseAll(failing: string[] = []): Promise<void> {
    for (const w of this.waiting.splice(0)) w.release(failing.includes(w.call));
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }

  async drain(failing: string[] = []): Promise<void> {
    for (let i = 0; i < 50 && (this.waiting.length || i === 0); i++) {
      await new Promise((r) => setImmediate(r));
      await this.releaseAll(failing);
    }
  }
}

describe('OutboxEvents.apply', () => {
  let store: HeldStore;
  let settled: string[][];
  let kicks: number;
  let outbox: OutboxEvents;

  beforeEach(() => {
    store = new HeldStore();
    settled = [];
    kicks = 0;
    const dispatcher = { settled: (ids: string[]) => settled.push(ids), kick: () => kicks++ } as unknown as OutboxDispatcher;
    outbox = new OutboxEvents(store as unknown as OutboxStore, dispatcher);
  });

  const status = (id: string, messageId: string, s: Status): RunnerEvent =>
    ({ id, orgId: 'org', sessionId: 's1', type: 'message.status', data: { messageId, status: s }, occurredAt: 1 }) as unknown as RunnerEvent;

  it("applies one message's statuses in order and different messages' at once, a few at a time", async () => {
    const events = [
      status('e1', 'm1', 'sent'),
      status('e2', 'm1', 'delivered'),
      status('e3', 'm1', 'read'),
      ...Array.from({ length: 20 }, (_, i) => status(`x${i}`, `many-${i}`, 'delivered')),
    ];
    const applied = outbox.apply(events);
    await new Promise((r) => setImmediate(r));
    // m1's first status and seven other messages' are in flight; m1's next waits for its first.
    expect(store.asked).toEqual(['m1:sent', ...Array.from({ length: 7 }, (_, i) => `many-${i}:delivered`)]);
    await store.releaseAll();
    expect(store.asked).toContain('m1:delivered');
    expect(store.asked).not.toContain('m1:read');
    await store.drain();
    const ids = await applied;
    expect(store.maxInFlight).toBe(8);
    const m1 = store.asked.filter((c) => c.startsWith('m1:'));
    expect(m1).toEqual(['m1:sent', 'm1:delivered', 'm1:read']);
    expect(store.asked).toHaveLength(23);
    // Every status names its entry, moved or not; what moved is settled once.
    expect(ids.get('e3')).toBe('entry-m1');
    expect(ids.get('x19')).toBe('entry-many-19');
    expect(ids.size).toBe(23);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toHaveLength(22);
    expect(kicks).toBe(0);
  });

  it('names no entry for a message that did not go out through the API, and wakes a session that connected', async () => {
    const applied = outbox.apply([
      status('t1', 'theirs-1', 'delivered'),
      { id: 'c1', orgId: 'org', sessionId: 's2', type: 'session.status', data: { status: 'connected' }, occurredAt: 1 } as unknown as RunnerEvent,
    ]);
    await store.drain();
    expect((await applied).size).toBe(0);
    expect(store.woken).toEqual(['s2']);
    expect(kicks).toBe(1);
  });

  it("fails the batch when a status cannot be written, after the other messages' statuses ended", async () => {
    const applied = outbox.apply([status('f1', 'bad', 'delivered'), status('f2', 'bad', 'read'), status('g1', 'good', 'delivered')]);
    const outcome = applied.then(
      () => 'recorded',
      (err: Error) => err.message,
    );
    await store.drain(['bad:delivered']);
    expect(await outcome).toBe('cannot write bad:delivered');
    // The failed message's later status was not applied out of order; the other message's was.
    expect(store.asked).toEqual(['bad:delivered', 'good:delivered']);
    expect(store.inFlight.size).toBe(0);
    expect(settled).toEqual([]);
  });
});
