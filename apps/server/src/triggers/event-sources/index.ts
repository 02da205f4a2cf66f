import { subscribeAmqp } from './amqp-event-source';
import type { EventSourceKind, EventSubscription } from './event-source';
import { type CompiledEventSourceOptions, compileEventSourceOptions, type EventSourceOptions } from './event-source-options';
import { forgetMqtt, subscribeMqtt } from './mqtt-event-source';
import { forgetNats, subscribeNats } from './nats-event-source';
import { credentialSecrets, redactError } from './redact-error';

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

/**
 * Removes what a broker keeps for a trigger that is gone for good (its workflow deleted): the JetStream
 * durable consumer, the MQTT persistent session and what it queued. An AMQP queue is left: it may be
 * the tenant's own, read by others. Connects for the purpose; nothing to remove is no error.
 */
export async function forgetEventSource(
  kind: EventSourceKind,
  options: Pick<EventSourceOptions, 'credential' | 'address' | 'durableName'>,
): Promise<void> {
  const compiled = compileEventSourceOptions({ ...options, onMessage: async () => {} });
  try {
    if (kind === 'nats') await forgetNats(compiled);
    else if (kind === 'mqtt') await forgetMqtt(compiled);
  } catch (error) {
    // The broker's error may quote the credential: it is logged by the caller.
    throw redactError(error, { context: `cannot remove the ${kind} durable state "${compiled.durableName}"`, secrets: credentialSecrets(compiled.credential) });
  }
}
