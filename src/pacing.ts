/**
 * For long work on one request (a CSV import of 10,000 rows): await the returned function between
 * small steps. Once `ms` of work have passed since the last turn it waits for the event loop's next
 * turn (setImmediate: after the I/O that is waiting), so that provisioning answers and SIP requests
 * wait about `ms` per turn behind it, not the whole import.
 */
export function timeSlices(ms = 4): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < ms) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/**
 * Runs the work handed to it one piece after the other. Device additions take it in the admin
 * server: two imports of 10,000 rows at once would put twice their work into each turn of the
 * event loop, and their create scripts (all or nothing, so one each) back to back into Redis.
 */
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const done = this.tail.then(work);
    this.tail = done.catch(() => undefined);
    return done;
  }
}
