import type { RunnerEvent } from '@wa/contracts';
import { OutboxEvents } from './outbox.events';
import type { OutboxDispatcher } from './outbox.dispatcher';
import type { AdvanceResult, OutboxStore, StatusToApply } from './outbox.store';

type Status = StatusToApply['status'];

/** A store that records the statuses asked for, one call at a time, and fails the calls it is told to. */
class RecordingStore {
  readonly calls: string[][] = [];
  readonly woken: string[] = [];
  failing?: string;

  async advanceMany(statuses: StatusToApply[]): Promise<AdvanceResult[]> {
    const call = statuses.map((st) => `${st.waMessageId}:${st.status}`);
    this.calls.push(call);
    await new Promise((r) => setImmediate(r));
    if (this.failing && call.includes(this.failing)) throw new Error(`cannot write ${this.failing}`);
    return statuses.map((st) =>
      st.waMessageId.startsWith('theirs') ? { moved: [] } : { moved: st.status === 'read' ? [] : [`entry-${st.waMessageId}`], entry: `entry-${st.waMessageId}` },
    );
  }

  async wakeSession(sessionId: string): Promise<void> {
    this.woken.push(sessionId);
  }
}

describe('OutboxEvents.apply', () => {
  let store: RecordingStore;
  let settled: string[][];
  let kicks: number;
  let outbox: OutboxEvents;

  beforeEach(() => {
    store = new RecordingStore();
    settled = [];
    kicks = 0;
    const dispatcher = { settled: (ids: string[]) => settled.push(ids), kick: () => kicks++ } as unknown as OutboxDispatcher;
    outbox = new OutboxEvents(store as unknown as OutboxStore, dispatcher);
  });

  const status = (id: string, messageId: string, s: Status): RunnerEvent =>
    ({ id, orgId: 'org', sessionId: 's1', type: 'message.status', data: { messageId, status: s }, occurredAt: 1 }) as unknown as RunnerEvent;

  it("applies every message's first status in one call, then the second, keeping each message's order", async () => {
    const many = Array.from({ length: 20 }, (_, i) => status(`x${i}`, `many-${i}`, 'delivered'));
    const ids = await outbox.apply([status('e1', 'm1', 'sent'), ...many.slice(0, 10), status('e2', 'm1', 'delivered'), ...many.slice(10), status('e3', 'm1', 'read')]);
    expect(store.calls).toEqual([['m1:sent', ...many.map((_, i) => `many-${i}:delivered`)], ['m1:delivered'], ['m1:read']]);
    // Every status names its entry, moved or not; what moved is settled once.
    expect(ids.get('e3')).toBe('entry-m1');
    expect(ids.get('x19')).toBe('entry-many-19');
    expect(ids.size).toBe(23);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toHaveLength(22);
    expect(kicks).toBe(0);
  });

  it('names no entry for a message that did not go out through the API, and wakes a session that connected', async () => {
    const ids = await outbox.apply([
      status('t1', 'theirs-1', 'delivered'),
      { id: 'c1', orgId: 'org', sessionId: 's2', type: 'session.status', data: { status: 'connected' }, occurredAt: 1 } as unknown as RunnerEvent,
    ]);
    expect(ids.size).toBe(0);
    expect(store.woken).toEqual(['s2']);
    expect(kicks).toBe(1);
  });

  it('fails the batch when a round cannot be written, and applies no later status of it', async () => {
    store.failing = 'bad:delivered';
    await expect(outbox.apply([status('f1', 'bad', 'delivered'), status('f2', 'bad', 'read'), status('g1', 'good', 'delivered')])).rejects.toThrow('cannot write bad:delivered');
    expect(store.calls).toEqual([['bad:delivered', 'good:delivered']]);
    expect(settled).toEqual([]);
  });
});
