import { subscribeAmqp } from './amqp-event-source';
import type { EventSourceKind, EventSubscription } from './event-source';
import { type CompiledEventSourceOptions, compileEventSourceOptions, type EventSourceOptions } from './event-source-options';
import { subscribeMqtt } from './mqtt-event-source';
import { subscribeNats } from './nats-event-source';

export type { EventMessage, EventSubscription } from './event-source';
export { EventSourceKind } from './event-source';
export { EventSourceConfigError } from './event-source-config-error';
export type { EventSourceOptions } from './event-source-options';

const SOURCES: Record<EventSourceKind, (options: CompiledEventSourceOptions) => Promise<EventSubscription>> = {
  amqp: subscribeAmqp,
  nats: subscribeNats,
  mqtt: subscribeMqtt,
};

/**
 * Starts consuming a trigger's source. Resolves once the consumer is set up and messages flow;
 * rejects when the broker cannot be reached or refuses (a first connection is not retried: the caller
 * decides when to try again), with `EventSourceConfigError` when the options or credential are at
 * fault. Once subscribed, lost connections are re-established by the subscription itself.
 */
export async function subscribeEventSource(kind: EventSourceKind, options: EventSourceOptions): Promise<EventSubscription> {
  return SOURCES[kind](compileEventSourceOptions(options));
}
