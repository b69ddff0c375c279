/**
 * Serialises async work per key: operations on one key run one after another, different keys run in parallel.
 * The disk store uses it so a get that quarantines a bad file can never move a record a concurrent put just
 * renamed into place.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of `key` has settled; resolves or rejects like `task`. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Number of keys with queued or running work. */
  get size(): number {
    return this.tails.size;
  }
}
