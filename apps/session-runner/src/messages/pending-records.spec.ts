import { PendingRecords } from './pending-records';

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('PendingRecords', () => {
  it("waits for every record of the session pending when asked, and for no other session's", async () => {
    const records = new PendingRecords();
    const [a, b, other] = [gate(), gate(), gate()];
    records.track('s1', a.promise);
    records.track('s1', b.promise);
    records.track('s2', other.promise);
    let settled = false;
    void records.settled('s1')!.then(() => (settled = true));
    a.open();
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    b.open();
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(true);
    // Written records are forgotten: nothing to wait for.
    expect(records.settled('s1')).toBeUndefined();
    expect(records.settled('s3')).toBeUndefined();
    expect(records.settled('s2')).toBeDefined();
    other.open();
  });

  it('holds a shutdown until every pending record is written', async () => {
    const records = new PendingRecords();
    const pending = gate();
    records.track('s1', pending.promise);
    let down = false;
    const shutdown = records.beforeApplicationShutdown().then(() => (down = true));
    await new Promise((r) => setImmediate(r));
    expect(down).toBe(false);
    pending.open();
    await shutdown;
    expect(down).toBe(true);
  });
});
