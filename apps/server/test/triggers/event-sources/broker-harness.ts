/**
 * The brokers the event-source tests run against, one harness per kind: how to reach it, publish to
 * it and remove what a test created. The brokers are real (RabbitMQ, NATS with JetStream, Mosquitto),
 * on their default local ports unless AIQ_TEST_AMQP_URL, AIQ_TEST_NATS_URL, AIQ_TEST_MQTT_URL say
 * otherwise.
 */
import { randomUUID } from 'node:crypto';
import { type ChannelModel, type ConfirmChannel, connect as connectAmqp } from 'amqplib';
import { connect as connectMqtt, type MqttClient } from 'mqtt';
import { connect as connectNats, headers as natsHeaders, type NatsConnection } from 'nats';
import { streamNameFor } from '../../../src/triggers/event-sources/nats-event-source';
import type { EventSourceKind } from '../../../src/triggers/event-sources';

export interface PublishOptions {
  /** The publisher's message id: AMQP `messageId`, NATS header `Nats-Msg-Id`, MQTT user property `message-id`. */
  id?: string;
}

export interface BrokerHarness {
  kind: EventSourceKind;
  credential: Record<string, unknown>;
  /** The meta field that names the address. */
  addressKey: 'queue' | 'subject' | 'topic';
  /** A fresh queue, subject or topic. */
  newAddress(): string;
  publish(address: string, body: string | Buffer, options?: PublishOptions): Promise<void>;
  /** The id a subscription gives a message published with `publishedId`. */
  expectedId(publishedId: string): string | RegExp;
  /** A credential the broker refuses (or cannot be reached with) that holds `secret`. */
  badCredential(secret: string): Record<string, unknown>;
  /** Removes the queue, stream or session a test made. */
  cleanup(args: { address: string; durableName: string }): Promise<void>;
  /**
   * Whether the broker keeps durable state for `durableName`: the JetStream consumer, the MQTT session
   * (looking ends an MQTT session it finds). Undefined for AMQP, whose queue is not the trigger's.
   */
  keeps?(args: { address: string; durableName: string }): Promise<boolean>;
  close(): Promise<void>;
}

export const AMQP_URL = process.env.AIQ_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env.AIQ_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const MQTT_URL = process.env.AIQ_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

const short = () => randomUUID().slice(0, 8);

/** A durable name no other test uses. */
export function newDurableName(): string {
  return `aiq-test-${randomUUID()}`;
}

/** Opens the harness of `kind`, or says why its broker cannot be reached. */
export async function openHarness(kind: EventSourceKind): Promise<{ harness: BrokerHarness } | { unreachable: string }> {
  try {
    return { harness: await OPENERS[kind]() };
  } catch (error) {
    return { unreachable: `${kind} broker unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The harnesses whose broker is reachable. An unreachable broker skips its tests (saying why), except
 * under CI=true, where it fails the run.
 */
export async function reachableHarnesses(kinds: readonly EventSourceKind[]): Promise<Map<EventSourceKind, BrokerHarness>> {
  const opened = new Map<EventSourceKind, BrokerHarness>();
  for (const kind of kinds) {
    const result = await openHarness(kind);
    if ('harness' in result) opened.set(kind, result.harness);
    else if (process.env.CI === 'true') throw new Error(`${result.unreachable} (CI=true: brokers are required)`);
    else console.warn(`skipping the ${kind} event-source tests: ${result.unreachable}`);
  }
  return opened;
}

const OPENERS: Record<EventSourceKind, () => Promise<BrokerHarness>> = {
  amqp: openAmqp,
  nats: openNats,
  mqtt: openMqtt,
};

async function openAmqp(): Promise<BrokerHarness> {
  const connection: ChannelModel = await connectAmqp(AMQP_URL, { timeout: 3_000 });
  connection.on('error', () => undefined); // Failures show as failed publishes.
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  return {
    kind: 'amqp',
    credential: { url: AMQP_URL },
    addressKey: 'queue',
    newAddress: () => `aiq-test-${short()}`,
    async publish(queue, body, options = {}) {
      channel.sendToQueue(queue, Buffer.from(body), { persistent: true, ...(options.id ? { messageId: options.id } : {}) });
      await channel.waitForConfirms();
    },
    expectedId: (id) => `amqp:message-id:${id}`,
    badCredential: (secret) => {
      const url = new URL(AMQP_URL);
      url.password = secret;
      return { url: url.toString() };
    },
    async cleanup({ address }) {
      await channel.deleteQueue(address);
    },
    close: () => connection.close(),
  };
}

async function openNats(): Promise<BrokerHarness> {
  const connection: NatsConnection = await connectNats({ servers: NATS_URL, timeout: 3_000, maxReconnectAttempts: 0 });
  const jsm = await connection.jetstreamManager();
  const js = connection.jetstream();
  return {
    kind: 'nats',
    credential: { servers: [NATS_URL] },
    addressKey: 'subject',
    newAddress: () => `aiq.test.${short()}`,
    async publish(subject, body, options = {}) {
      const h = natsHeaders();
      if (options.id) h.set('Nats-Msg-Id', options.id);
      await js.publish(subject, typeof body === 'string' ? new TextEncoder().encode(body) : body, { headers: h });
    },
    expectedId: () => /^nats:aiq-aiq_test_[0-9a-f]{8}-[0-9a-f]{8}:\d+$/,
    badCredential: (secret) => ({ servers: [`nats://aiq:${secret}@127.0.0.1:1`], password: secret }),
    async keeps({ address, durableName }) {
      const info = await jsm.consumers.info(streamNameFor(address), durableName).catch((error: unknown) => {
        if (String(error).includes('consumer not found')) return undefined;
        throw error;
      });
      return info !== undefined;
    },
    async cleanup({ address }) {
      // Deleting the stream deletes its consumers.
      await jsm.streams.delete(streamNameFor(address)).catch((error: unknown) => {
        if (!String(error).includes('stream not found')) throw error;
      });
    },
    close: () => connection.close(),
  };
}

async function openMqtt(): Promise<BrokerHarness> {
  const publisher = await mqttClient({ clientId: `aiq-test-pub-${short()}`, clean: true });
  return {
    kind: 'mqtt',
    credential: { url: MQTT_URL },
    addressKey: 'topic',
    newAddress: () => `aiq/test/${short()}`,
    async publish(topic, body, options = {}) {
      await publisher.publishAsync(topic, Buffer.from(body), {
        qos: 1,
        ...(options.id ? { properties: { userProperties: { 'message-id': options.id } } } : {}),
      });
    },
    expectedId: (id) => `mqtt:message-id:${id}`,
    badCredential: (secret) => ({ url: `mqtt://aiq:${secret}@127.0.0.1:1`, username: 'aiq', password: secret }),
    async keeps({ durableName }) {
      // Resuming with clean start off says whether the broker had the session; clean start off with
      // no expiry ends it again when this client leaves.
      const client = connectMqtt(MQTT_URL, { protocolVersion: 5, clientId: durableName, clean: false, reconnectPeriod: 0, connectTimeout: 3_000 });
      const present = await new Promise<boolean>((resolve, reject) => {
        client.once('connect', (connack) => resolve(connack.sessionPresent));
        client.once('error', reject);
      });
      await client.endAsync();
      return present;
    },
    async cleanup({ durableName }) {
      // Taking the session over with clean start and no expiry ends it, and whatever it queued.
      const client = await mqttClient({ clientId: durableName, clean: true });
      await client.endAsync();
    },
    close: () => publisher.endAsync(),
  };
}

function mqttClient(args: { clientId: string; clean: boolean }): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connectMqtt(MQTT_URL, {
      protocolVersion: 5,
      clientId: args.clientId,
      clean: args.clean,
      reconnectPeriod: 0,
      connectTimeout: 3_000,
      properties: { sessionExpiryInterval: 0 },
    });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}
