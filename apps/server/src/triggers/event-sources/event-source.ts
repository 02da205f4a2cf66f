/**
 * The message-system side of `type: event` triggers.
 *
 * - **source**: a broker and what a trigger listens to on it: an AMQP queue, a NATS JetStream subject,
 *   an MQTT topic (`EventSourceKind`).
 * - **subscription**: one trigger's live consumer of a source; it hands messages to `onMessage`
 *   and can be paused, resumed and closed.
 * - **delivery**: one hand-over of a message. A message is delivered at least once: again after a
 *   rejection, a crash or a lost connection, always with the same `id`.
 * - **ack**: telling the broker a message is done with. Sent only after `onMessage` resolves, i.e. once
 *   the run it starts is durably recorded; until then the broker keeps the message.
 * - **in flight**: a message handed to `onMessage` whose promise has not settled. At most `prefetch`.
 */

/** The brokers an event trigger can listen to. */
export const EventSourceKind = { amqp: 'amqp', nats: 'nats', mqtt: 'mqtt' } as const;
export type EventSourceKind = (typeof EventSourceKind)[keyof typeof EventSourceKind];

/** One message from a broker. Ack it (resolve `onMessage`) only after the run it starts is durably recorded. */
export interface EventMessage {
  /**
   * Stable across redeliveries of the same message; the run's idempotency key is built from it.
   * Prefixed by the source kind, so ids of different sources or derivations never clash:
   * `amqp:message-id:<messageId>` or `amqp:sha256:<hex>`; `nats:<stream>:<stream sequence>`;
   * `mqtt:message-id:<user property>`, `mqtt:correlation-data:<base64>` or `mqtt:sha256:<hex>`.
   */
  id: string;
  /**
   * The run's input: `null` for an empty body; the body parsed as JSON when it is JSON; else its
   * UTF-8 text; else (not valid UTF-8) `{ base64 }`, as for webhooks. `meta.encoding` says which.
   */
  body: unknown;
  /**
   * Broker metadata for the trigger context, JSON values only: `source`, the queue/subject/topic,
   * headers or properties, `redelivered`, a timestamp where the broker has one, and `encoding`
   * (`empty` | `json` | `text` | `base64`).
   */
  meta: Record<string, unknown>;
}

/** A live consumer of one source. */
export interface EventSubscription {
  /**
   * Stops handing new messages to `onMessage` (backpressure: e.g. the tenant is at its concurrency
   * quota). Calls in flight go on and are acked; messages not yet handed over stay with the broker.
   * Safe to call from inside `onMessage`: it does not wait for calls in flight.
   */
  pause(): Promise<void>;
  /** Hands messages to `onMessage` again after `pause()`. */
  resume(): Promise<void>;
  /**
   * Stops delivery, waits up to `drainTimeout` for calls in flight to settle (and acks them), then
   * closes the connection. Messages not acked by then are redelivered later, to this or another
   * process. Durable state (the queue, the JetStream consumer, the MQTT session) is kept.
   */
  close(): Promise<void>;
}
