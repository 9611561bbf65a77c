/**
 * A single-consumer async queue between the reading loop (which runs whether or not anyone
 * iterates, so `done` always settles) and a `for await` loop.
 */
export class DeltaQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #head = 0;
  #waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  #closed = false;
  #error: { readonly value: unknown } | undefined;
  #taken = false;
  #detached = false;

  /** Queues an item for the consumer (dropped if the consumer has left). */
  push(item: T): void {
    if (this.#closed || this.#detached) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.#items.push(item);
  }

  /** Ends iteration after the queued items. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#settleWaiter();
  }

  /** Ends iteration with `error`, after the queued items when `drain`, at once otherwise. */
  fail(error: unknown, drain: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = { value: error };
    if (!drain) this.#items = [];
    this.#settleWaiter();
  }

  /** The one iterator; a second call throws, because items are handed out once. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#taken) throw new TypeError("This stream is already being iterated");
    this.#taken = true;
    return {
      next: () => this.#next(),
      return: () => {
        // Leaving the loop stops delivery only; the caller aborts explicitly if it wants that.
        this.#detached = true;
        this.#items = [];
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head] as T;
      this.#head++;
      // Compact now and then so a long stream does not keep every consumed delta alive.
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) return this.#ending();
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #ending(): Promise<IteratorResult<T>> {
    const error = this.#error;
    if (error === undefined || this.#detached) return Promise.resolve({ value: undefined, done: true });
    // Throw once; a later next() just reports the end, like a finished generator.
    this.#error = undefined;
    this.#detached = true;
    return Promise.reject(error.value);
  }

  #settleWaiter(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    this.#ending().then(waiter.resolve, waiter.reject);
  }
}
