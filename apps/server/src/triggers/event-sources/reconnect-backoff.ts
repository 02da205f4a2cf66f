/** Waits between reconnection attempts, in ms: the `n`th failure in a row waits the `n`th, the last for ever after. */
const BACKOFF_MS = [500, 1_000, 2_000, 5_000, 10_000, 30_000] as const;

/** The wait after `failures` failed attempts in a row (0 for the first retry), in ms. */
export function reconnectBackoffMs(failures: number): number {
  return BACKOFF_MS[Math.min(Math.max(0, failures), BACKOFF_MS.length - 1)] ?? 30_000;
}

/** A wait that can be cut short, so that `close()` does not sit out a backoff. */
export class Pause {
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  /** Resolves after `ms`, or at once when `interrupt()` is called meanwhile. */
  wait(ms: number): Promise<void> {
    this.interrupt();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => this.interrupt(), ms);
    });
  }

  interrupt(): void {
    clearTimeout(this.#timer);
    const wake = this.#wake;
    this.#timer = undefined;
    this.#wake = undefined;
    wake?.();
  }
}
