import type { EventMessage } from './event-source';

/** One message handed over by a source, with what to tell the broker once its fate is known. */
export interface Delivery {
  message: EventMessage;
  /** `onMessage` resolved: the broker may forget the message. */
  ack(): Promise<void> | void;
  /** `onMessage` rejected: have the broker offer the message again after the retry delay. */
  retry(): void;
  /** Never handed to `onMessage` (paused or closing): give the message back to the broker now. */
  release(): void;
}

/**
 * Hands deliveries to `onMessage`, at most `prefetch` at once; deliveries beyond that wait here, in
 * order, for a free slot. Acks, retries or releases each one exactly once. While stopped (paused,
 * closing) it hands nothing over and releases what arrives or waits.
 */
export class MessageDispatcher {
  readonly #onMessage: (message: EventMessage) => Promise<void>;
  readonly #prefetch: number;
  readonly #onError: (error: Error) => void;
  readonly #waiting: Delivery[] = [];
  #inFlight = 0;
  #accepting = true;
  #changed: (() => void)[] = [];

  constructor(args: { onMessage: (message: EventMessage) => Promise<void>; prefetch: number; onError: (error: Error) => void }) {
    this.#onMessage = args.onMessage;
    this.#prefetch = args.prefetch;
    this.#onError = args.onError;
  }

  /** Calls of `onMessage` not yet settled (with their acks). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Slots free for new deliveries: what a pulling source may ask the broker for. */
  get free(): number {
    return this.#accepting ? Math.max(0, this.#prefetch - this.#inFlight - this.#waiting.length) : 0;
  }

  /** Hands `delivery` over now, or once a slot is free; releases it while stopped. */
  dispatch(delivery: Delivery): void {
    if (!this.#accepting) delivery.release();
    else if (this.#inFlight < this.#prefetch && this.#waiting.length === 0) this.#run(delivery);
    else this.#waiting.push(delivery);
  }

  /** Hands nothing over until `start()`; waiting deliveries are released. Calls in flight go on. */
  stop(): void {
    this.#accepting = false;
    for (const delivery of this.#waiting.splice(0)) delivery.release();
    this.#notify();
  }

  start(): void {
    this.#accepting = true;
    this.#notify();
  }

  /** Resolves once a slot is free or the dispatcher is stopped. */
  async whenFree(): Promise<void> {
    while (this.#accepting && this.free === 0) await this.#nextChange();
  }

  /** Resolves `true` once nothing is in flight, or `false` after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#nextChange(), new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
    return true;
  }

  #run(delivery: Delivery): void {
    this.#inFlight += 1;
    void this.#settle(delivery).finally(() => {
      this.#inFlight -= 1;
      while (this.#accepting && this.#inFlight < this.#prefetch) {
        const next = this.#waiting.shift();
        if (!next) break;
        this.#run(next);
      }
      this.#notify();
    });
  }

  /** Never rejects: the outcome goes to the broker, a failure to tell it to `onError`. */
  async #settle(delivery: Delivery): Promise<void> {
    let ok: boolean;
    try {
      await this.#onMessage(delivery.message);
      ok = true;
    } catch {
      // The caller's rejection is its signal to redeliver; it reports its own failures.
      ok = false;
    }
    try {
      if (ok) await delivery.ack();
      else delivery.retry();
    } catch (error) {
      this.#onError(
        new Error(`could not ${ok ? 'ack' : 'return'} message ${delivery.message.id}; the broker will redeliver it`, {
          cause: error,
        }),
      );
    }
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => this.#changed.push(resolve));
  }

  #notify(): void {
    for (const resolve of this.#changed.splice(0)) resolve();
  }
}
