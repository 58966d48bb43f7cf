import { AsyncLocalStorage } from 'node:async_hooks';
import queueJob from 'libsignal/src/queue_job.js';

/**
 * libsignal serialises the session work of one remote device through a module-wide queue, and the
 * first caller's executor runs every job queued behind it. Baileys keeps an account's key-store
 * transaction in an AsyncLocalStorage, so a job of account B that ran inside account A's executor
 * saw A's transaction: B's encryption read and wrote A's cached session records, B's own writes
 * were never committed, and B later encrypted again from an older state (the contact's phone then
 * refused the message as "Key used already", and asked for it again). It took two accounts of one
 * runner writing to the same contact at the same time, so a multi-tenant gateway meets it often.
 */
describe("libsignal's job queue (patched)", () => {
  const blocker = () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    return { gate, release };
  };

  it('runs each job in the async context of the code that queued it', async () => {
    const als = new AsyncLocalStorage<string>();
    const { gate, release } = blocker();
    const first = als.run('account A', () =>
      queueJob('15550001111.0', async () => {
        await gate;
        return als.getStore();
      }),
    );
    // Queued while A's job holds the executor: before the patch it ran in A's context.
    const second = als.run('account B', () => queueJob('15550001111.0', async () => als.getStore()));
    release();
    await expect(Promise.all([first, second])).resolves.toEqual(['account A', 'account B']);
  });

  it('keeps one queue per owner and device: one account does not wait for another', async () => {
    const accountA = {};
    const accountB = {};
    const { gate, release } = blocker();
    const order: string[] = [];
    const a1 = queueJob(
      '15550002222.0',
      async () => {
        await gate;
        order.push('a1');
      },
      accountA,
    );
    const a2 = queueJob('15550002222.0', async () => void order.push('a2'), accountA);
    await queueJob('15550002222.0', async () => void order.push('b1'), accountB);
    // B's job ran while A's first job still held A's queue; A's second waits for A's first.
    expect(order).toEqual(['b1']);
    release();
    await Promise.all([a1, a2]);
    expect(order).toEqual(['b1', 'a1', 'a2']);
  });
});
