import type { EventMessage } from '../../../src/triggers/event-sources';

/**
 * An `onMessage` that records what it is handed and what is in flight. `handle` decides each call's
 * outcome (default: resolve at once).
 */
export class Inbox {
  readonly received: EventMessage[] = [];
  readonly errors: Error[] = [];
  handle: (message: EventMessage) => Promise<void> = async () => undefined;
  inFlight = 0;
  maxInFlight = 0;
  #listeners: (() => void)[] = [];

  readonly onMessage = async (message: EventMessage): Promise<void> => {
    this.received.push(message);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    for (const listener of this.#listeners.splice(0)) listener();
    try {
      await this.handle(message);
    } finally {
      this.inFlight -= 1;
    }
  };

  readonly onError = (error: Error): void => {
    this.errors.push(error);
  };

  /** The bodies received, in order. */
  bodies(): unknown[] {
    return this.received.map((m) => m.body);
  }

  /** Resolves once `predicate` holds of what was received; rejects after `timeoutMs`. */
  async waitFor(what: string, predicate: (received: EventMessage[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received.map((m) => m.body))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once `count` messages were received. */
  waitForCount(count: number, timeoutMs?: number): Promise<void> {
    return this.waitFor(`${count} message(s)`, (received) => received.length >= count, timeoutMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
