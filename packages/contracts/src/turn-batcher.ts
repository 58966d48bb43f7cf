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
  private open: Batch<I, R> | null = null;

  constructor(
    private readonly many: (items: I[]) => Promise<R[]>,
    private readonly one: (item: I) => Promise<R>,
    private readonly max = Infinity,
  ) {}

  /**
   * `now`: the batch this call joins runs at once instead of after the turn, with whatever the
   * turn gathered so far: for a caller that others wait behind (a lock held until it returns),
   * where a busy event loop would make "after the turn" tens of milliseconds.
   */
  add(item: I, now = false): Promise<R> {
    const answer = new Promise<R>((resolve, reject) => {
      let batch = this.open;
      if (!batch) {
        const fresh: Batch<I, R> = { items: [], ran: false };
        batch = this.open = fresh;
        setImmediate(() => void this.run(fresh));
      }
      batch.items.push({ item, resolve, reject });
      // A full batch takes no more; the next call opens another one.
      if (batch.items.length >= this.max) this.open = null;
    });
    if (now) this.flush();
    return answer;
  }

  /** Runs the open batch now (its turn's end then finds it done). */
  flush(): void {
    const batch = this.open;
    if (!batch) return;
    this.open = null;
    void this.run(batch);
  }

  private async run(fresh: Batch<I, R>): Promise<void> {
    if (fresh.ran) return;
    fresh.ran = true;
    if (this.open === fresh) this.open = null;
    const batch = fresh.items;
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

interface Batch<I, R> {
  items: Pending<I, R>[];
  /** Started: by its turn's end, or earlier by `flush`. */
  ran: boolean;
}

interface Pending<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}
