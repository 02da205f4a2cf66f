import { parseDuration } from '@automateiq/core';
import type { EventMessage } from './event-source';
import { EventSourceConfigError } from './event-source-config-error';

/** How a trigger subscribes to its source. */
export interface EventSourceOptions {
  /**
   * The decrypted credential's fields: `{ url }` for amqp; `{ servers, token?, username?, password? }`
   * for nats (`servers` a list or one string); `{ url, username?, password? }` for mqtt.
   */
  credential: Readonly<Record<string, unknown>>;
  /** The queue (amqp), subject (nats) or topic filter (mqtt). */
  address: string;
  /**
   * A name unique to this trigger and stable across restarts (e.g. `aiq-<workflowId>-<n>`), of letters,
   * digits, `-` and `_`: the JetStream durable consumer, the MQTT client id, the AMQP connection name.
   */
  durableName: string;
  /**
   * Called once per delivery. Resolve once the run is durably recorded: the message is acked.
   * Reject on a transient failure (the database is down): the message is offered again after
   * `retryDelay`. A message that can never start a run should resolve (recording the failure), or it
   * comes back for ever.
   */
  onMessage(message: EventMessage): Promise<void>;
  /** Calls of `onMessage` in flight at most. Default: 16. MQTT hands over one message at a time whatever this says. */
  prefetch?: number;
  /** How long a rejected message waits before it is offered again. Default: `1s`. */
  retryDelay?: string;
  /**
   * How long JetStream waits for the ack of a delivered message before it redelivers it (the consumer's
   * `ack_wait`; a slow `onMessage` is kept alive meanwhile). Default: `30s`. NATS only.
   */
  ackWait?: string;
  /** How long `close()` waits for calls in flight to settle before closing anyway. Default: `10s`. */
  drainTimeout?: string;
  /** Connection errors, losses and reconnects, lost acks. Messages never contain secrets. Default: ignore. */
  onError?(error: Error): void;
}

/** `EventSourceOptions` with defaults filled in and durations in milliseconds. */
export interface CompiledEventSourceOptions {
  credential: Readonly<Record<string, unknown>>;
  address: string;
  durableName: string;
  onMessage(message: EventMessage): Promise<void>;
  prefetch: number;
  retryDelayMs: number;
  ackWaitMs: number;
  drainTimeoutMs: number;
  onError(error: Error): void;
}

const DURABLE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_PREFETCH = 1_000;

/** Fills defaults and checks the options; throws `EventSourceConfigError`. Credentials are checked by each source. */
export function compileEventSourceOptions(options: EventSourceOptions): CompiledEventSourceOptions {
  if (options.address.trim() === '' || options.address !== options.address.trim())
    throw new EventSourceConfigError('the queue, subject or topic must be non-empty, without surrounding spaces');
  if (!DURABLE_NAME.test(options.durableName))
    throw new EventSourceConfigError('the durable name must be 1 to 128 letters, digits, "-" or "_"');
  const prefetch = options.prefetch ?? 16;
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > MAX_PREFETCH)
    throw new EventSourceConfigError(`prefetch must be a whole number from 1 to ${MAX_PREFETCH}`);
  const ackWaitMs = duration('ackWait', options.ackWait ?? '30s');
  if (ackWaitMs < 1_000) throw new EventSourceConfigError('ackWait must be at least 1s');
  const onError = options.onError;
  return {
    credential: options.credential,
    address: options.address,
    durableName: options.durableName,
    onMessage: options.onMessage,
    prefetch,
    retryDelayMs: duration('retryDelay', options.retryDelay ?? '1s'),
    ackWaitMs,
    drainTimeoutMs: duration('drainTimeout', options.drainTimeout ?? '10s'),
    onError: onError ? (error) => onError(error) : () => undefined,
  };
}

function duration(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new EventSourceConfigError(`${name} "${text}" is not a duration (e.g. 250ms, 30s, 5m)`);
  return ms;
}
