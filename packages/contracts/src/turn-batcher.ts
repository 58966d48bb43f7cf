/**
 * Gathers the calls made within one turn of the event loop (at most `max` of them) and runs them
 * as one batch right after it: one statement, round trip or commit for many requests where each
 * would have paid its own. Each caller still hears back only once the batch (or its own part of
 * it) is done, with its own result.
 *
 * When the batch fails, every item runs alone with `one`, in the order the calls came, so a bad
 * item fails only its own caller; a batch of a single item runs with `one` from the start.
 */
export class TurnBatcher<I, R> {
  private open: Pending<I, R>[] | null = null;

  constructor(
    private readonly many: (items: I[]) => Promise<R[]>,
    private readonly one: (item: I) => Promise<R>,
    private readonly max = Infinity,
  ) {}

  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let batch = this.open;
      if (!batch) {
        const fresh: Pending<I, R>[] = [];
        batch = this.open = fresh;
        setImmediate(() => void this.run(fresh));
      }
      batch.push({ item, resolve, reject });
      // A full batch takes no more; the next call opens another one.
      if (batch.length >= this.max) this.open = null;
    });
  }

  private async run(batch: Pending<I, R>[]): Promise<void> {
    if (this.open === batch) this.open = null;
    if (batch.length > 1) {
      let results: R[] | undefined;
      try {
        results = await this.many(batch.map((p) => p.item));
      } catch {
        // Each alone, below.
      }
      if (results) {
        batch.forEach((p, i) => p.resolve(results[i] as R));
        return;
      }
    }
    for (const p of batch) await this.one(p.item).then(p.resolve, p.reject);
  }
}

interface Pending<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}
