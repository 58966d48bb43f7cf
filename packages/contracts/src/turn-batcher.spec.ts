import { TurnBatcher } from './turn-batcher';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A batcher that answers each number with itself and records the batches it ran (a lone call: a batch of one). */
function recording(max?: number): { batches: number[][]; batcher: TurnBatcher<number, number> } {
  const batches: number[][] = [];
  const batcher = new TurnBatcher<number, number>(
    async (items) => {
      batches.push(items);
      return items;
    },
    async (n) => {
      batches.push([n]);
      return n;
    },
    max,
  );
  return { batches, batcher };
}

describe('TurnBatcher', () => {
  it('runs the calls of one turn as one batch, each caller getting its own result', async () => {
    const batches: number[][] = [];
    const one = jest.fn(async (n: number) => n * 10);
    const batcher = new TurnBatcher<number, number>(async (items) => {
      batches.push(items);
      return items.map((n) => n * 2);
    }, one);

    const first = Promise.all([batcher.add(1), batcher.add(2), batcher.add(3)]);
    await expect(first).resolves.toEqual([2, 4, 6]);
    // A later turn opens a batch of its own.
    await expect(Promise.all([batcher.add(4), batcher.add(5)])).resolves.toEqual([8, 10]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(one).not.toHaveBeenCalled();
  });

  it('runs a lone call with `one`', async () => {
    const many = jest.fn(async (items: string[]) => items);
    const batcher = new TurnBatcher<string, string>(many, async (s) => `alone ${s}`);
    await expect(batcher.add('x')).resolves.toBe('alone x');
    expect(many).not.toHaveBeenCalled();
  });

  it('closes a full batch and opens the next one in the same turn', async () => {
    const { batches, batcher } = recording(2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('when the batch fails, runs each call alone in order, so one bad item fails only its caller', async () => {
    const order: number[] = [];
    const batcher = new TurnBatcher<number, number>(
      async () => {
        throw new Error('the shared statement failed');
      },
      async (n) => {
        order.push(n);
        if (n === 2) throw new Error(`item ${n} is bad`);
        return n;
      },
    );
    const settled = await Promise.allSettled([batcher.add(1), batcher.add(2), batcher.add(3)]);
    expect(settled).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: new Error('item 2 is bad') },
      { status: 'fulfilled', value: 3 },
    ]);
    expect(order).toEqual([1, 2, 3]);
  });

  it('does not run a batch before the turn in which its calls were made has ended', async () => {
    let ran = 0;
    const batcher = new TurnBatcher<number, number>(
      async (items) => {
        ran += items.length;
        return items;
      },
      async (n) => {
        ran += 1;
        return n;
      },
    );
    const pending = [batcher.add(1), batcher.add(2)];
    await Promise.resolve();
    expect(ran).toBe(0);
    await nextTurn();
    await Promise.all(pending);
    expect(ran).toBe(2);
  });

  it('runs the open batch at once for a call made `now`, with the calls of the turn before it', async () => {
    const { batches, batcher } = recording();
    const early = batcher.add(1);
    const urgent = batcher.add(2, true);
    // Started in the caller's turn, before any other callback: the turn's end finds it done.
    expect(batches).toEqual([[1, 2]]);
    const later = batcher.add(3);
    await expect(Promise.all([early, urgent, later])).resolves.toEqual([1, 2, 3]);
    await nextTurn();
    // The call after the urgent one went to a batch of its own, which its turn's end ran once.
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('runs an urgent call alone with `one` when nothing else waits, and only once', async () => {
    const many = jest.fn(async (items: number[]) => items);
    const one = jest.fn(async (n: number) => n + 100);
    const batcher = new TurnBatcher<number, number>(many, one);
    await expect(batcher.add(1, true)).resolves.toBe(101);
    await nextTurn();
    expect(one).toHaveBeenCalledTimes(1);
    expect(many).not.toHaveBeenCalled();
  });
});
