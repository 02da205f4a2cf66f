/**
 * Whether a subscription is paused or closed, and the queue that runs its pause, resume and close
 * (and any other operation that must not overlap them) one at a time, in call order. An operation
 * that rejects rejects its own call only: the ones queued after it still run.
 */
export class SubscriptionLifecycle {
  #paused = false;
  #closed = false;
  #ops: Promise<void> = Promise.resolve();

  get paused(): boolean {
    return this.#paused;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Neither paused nor closed: messages may be handed over. */
  get running(): boolean {
    return !this.#paused && !this.#closed;
  }

  /** Runs `op` once the operations queued before it have settled. */
  serially(op: () => Promise<void>): Promise<void> {
    const result = this.#ops.then(op);
    this.#ops = result.catch(() => undefined);
    return result;
  }

  /** Queues a pause: when running, marks the subscription paused and runs `op`; else does nothing. */
  pause(op: () => Promise<void>): Promise<void> {
    return this.serially(async () => {
      if (this.#paused || this.#closed) return;
      this.#paused = true;
      await op();
    });
  }

  /** Queues a resume: when paused and not closed, marks the subscription running and runs `op`; else does nothing. */
  resume(op: () => Promise<void>): Promise<void> {
    return this.serially(async () => {
      if (!this.#paused || this.#closed) return;
      this.#paused = false;
      await op();
    });
  }

  /** Queues a close: unless closed already, marks the subscription closed and runs `op`. */
  close(op: () => Promise<void>): Promise<void> {
    return this.serially(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await op();
    });
  }
}
