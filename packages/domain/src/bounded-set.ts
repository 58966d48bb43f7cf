/**
 * A set that keeps at most `max` values, forgetting the oldest added first: what a process
 * remembers "lately" (receipts recorded, acks seen, ids sent) without growing for ever.
 */
export class BoundedSet<T> extends Set<T> {
  constructor(private readonly max: number) {
    super();
  }

  override add(value: T): this {
    super.add(value);
    if (this.size > this.max) this.delete(this.values().next().value as T);
    return this;
  }
}
