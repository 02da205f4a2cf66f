import { connect, connectAsync, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { ErrorReporter } from './error-reporter';
import type { EventMessage, EventSubscription } from './event-source';
import { EventSourceConfigError } from './event-source-config-error';
import type { CompiledEventSourceOptions } from './event-source-options';
import { toJsonValue } from './json-value';
import { decodeMessageBody } from './message-body';
import { type Delivery, MessageDispatcher } from './message-dispatcher';
import { contentHashId } from './message-id';
import { Pause, reconnectBackoffMs } from './reconnect-backoff';
import { SubscriptionLifecycle } from './subscription-lifecycle';

/** MQTT 5 session expiry meaning "never": the broker keeps the session (and queues for it) while we are away. */
const SESSION_NEVER_EXPIRES = 0xffffffff;
/** MQTT 5 reason codes of 128 and above refuse. */
const FIRST_FAILURE_REASON = 0x80;

/**
 * Subscribes to an MQTT topic filter over MQTT 5 with a persistent session: client id `durableName`,
 * clean start off, a session that never expires and a QoS 1 subscription, so that the broker queues
 * messages while the subscription is closed or paused (up to its own limits, e.g. Mosquitto's
 * `max_queued_messages`). Retained messages are not sent on subscribing (retain handling 2): a trigger
 * sees what is published after it, as with NATS.
 *
 * The PUBACK of a message is sent only once `onMessage` resolves (MQTT.js `customHandleAcks`). MQTT
 * has no negative ack, and a broker resends an unacked message only when the client reconnects: so a
 * rejection ends the connection without the PUBACK, `retryDelay` later, and reconnects; the broker
 * then resends it with DUP set. MQTT.js handles incoming packets one at a time and holds the next
 * until the current one is acked, so one message is in flight at a time whatever `prefetch` says
 * (`prefetch` is sent as the Receive Maximum); keep `onMessage` well under 1.5 x keepalive (90s).
 * Pause stops handing messages over and disconnects once the calls in flight are acked (unsubscribing
 * would make the broker drop, not keep, what is published meanwhile); resume reconnects to the session.
 *
 * QoS 0 publications arrive at QoS 0: they are handed over, but cannot be redelivered (a rejected or
 * paused one is lost, and brokers do not queue them for an absent session). A session belongs to one
 * connection: two processes subscribing with the same `durableName` take it from each other.
 */
export async function subscribeMqtt(options: CompiledEventSourceOptions): Promise<EventSubscription> {
  const subscription = new MqttSubscription(options);
  await subscription.open();
  return subscription;
}

/** The connection of an mqtt credential: `{ url, username?, password? }`. */
/**
 * Ends the trigger's persistent session (client id `durableName`) and what the broker queued for it:
 * takes the session over with a clean start and no expiry, and disconnects. A holder still connected
 * is disconnected by the broker.
 */
export async function forgetMqtt(options: { credential: Readonly<Record<string, unknown>>; durableName: string }): Promise<void> {
  const { url, username, password } = mqttConnection(options.credential);
  const client = await connectAsync(url, {
    protocolVersion: 5,
    clientId: options.durableName,
    clean: true,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    properties: { sessionExpiryInterval: 0 },
  });
  await client.endAsync();
}

function mqttConnection(credential: Readonly<Record<string, unknown>>): { url: string; username?: string; password?: string } {
  const { url, username, password } = credential;
  if (typeof url !== 'string' || !/^(mqtts?|wss?):\/\//i.test(url))
    throw new EventSourceConfigError('an mqtt credential needs a url starting mqtt://, mqtts://, ws:// or wss://');
  const connection: { url: string; username?: string; password?: string } = { url };
  for (const [field, value] of [
    ['username', username],
    ['password', password],
  ] as const) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new EventSourceConfigError(`the ${field} of an mqtt credential must be text`);
    connection[field] = value;
  }
  return connection;
}

/** One connection to the broker. */
interface Link {
  client: MqttClient;
  /** Connected and not given up: acks may be sent on it. */
  alive: boolean;
  /** Messages it delivered whose fate is not yet known. */
  pending: number;
  /** To be disconnected once `pending` is 0 (paused). */
  retiring: boolean;
}

class MqttSubscription implements EventSubscription {
  readonly #options: CompiledEventSourceOptions;
  readonly #connection: ReturnType<typeof mqttConnection>;
  readonly #errors: ErrorReporter;
  readonly #dispatcher: MessageDispatcher;
  /** Every link not yet ended. */
  readonly #links = new Set<Link>();
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  readonly #backoff = new Pause();
  /** The link messages come from, when connected and running. */
  #link: Link | undefined;
  #connecting: Promise<void> | undefined;
  readonly #lifecycle = new SubscriptionLifecycle();

  constructor(options: CompiledEventSourceOptions) {
    this.#options = options;
    this.#connection = mqttConnection(options.credential);
    this.#errors = new ErrorReporter(options);
    this.#dispatcher = new MessageDispatcher(options);
  }

  async open(): Promise<void> {
    this.#link = await this.#connect();
  }

  pause(): Promise<void> {
    return this.#lifecycle.pause(async () => {
      this.#dispatcher.stop();
      this.#backoff.interrupt();
      const link = this.#link;
      this.#link = undefined;
      if (link) this.#retire(link);
    });
  }

  resume(): Promise<void> {
    return this.#lifecycle.resume(async () => {
      this.#dispatcher.start();
      this.#reconnect(0);
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      this.#dispatcher.stop();
      this.#backoff.interrupt();
      await this.#connecting;
      await this.#dispatcher.drain(this.#options.drainTimeoutMs);
      for (const timer of this.#retryTimers) clearTimeout(timer);
      this.#retryTimers.clear();
      this.#link = undefined;
      // Unacked messages stay in the session: the broker resends them on the next connection.
      await Promise.all([...this.#links].map((link) => this.#end(link)));
    });
  }

  /** Connects, resumes (or starts) the session and subscribes. */
  async #connect(): Promise<Link> {
    const { url, username, password } = this.#connection;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: this.#options.durableName,
      clean: false,
      username,
      password,
      // Reconnection is ours: a message must never be acked on a later connection than its own.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      resubscribe: false,
      properties: { sessionExpiryInterval: SESSION_NEVER_EXPIRES, receiveMaximum: this.#options.prefetch },
      customHandleAcks: (topic: string, payload: Buffer, packet: IPublishPacket, done: (code: number) => void) =>
        this.#onPublish(link, { topic, payload, packet, done }),
    };
    const client = connect(url, options);
    const link: Link = { client, alive: false, pending: 0, retiring: false };
    client.handleMessage = (packet, callback) => this.#onQos0(packet, callback);
    client.on('close', () => this.#onClose(link));
    client.on('error', (error) => {
      // Errors before the broker accepted the connection reject the connect below.
      if (link.alive) this.#errors.report(error, 'mqtt connection error');
    });
    client.on('disconnect', (packet) =>
      this.#errors.report(new Error(`reason code ${packet.reasonCode ?? 0}`), 'mqtt broker disconnected us'),
    );
    this.#links.add(link);
    try {
      await new Promise<void>((resolve, reject) => {
        const onConnect = () => {
          // Set before any message of the session is handled.
          link.alive = true;
          settle(resolve);
        };
        const onError = (error: Error) => settle(() => reject(error));
        const onClose = () => settle(() => reject(new Error('the connection closed before the broker accepted it')));
        const settle = (then: () => void) => {
          client.off('connect', onConnect).off('error', onError).off('close', onClose);
          then();
        };
        client.on('connect', onConnect).on('error', onError).on('close', onClose);
      });
      const [granted] = await client.subscribeAsync(this.#options.address, { qos: 1, rh: 2 });
      if (!granted || granted.qos >= FIRST_FAILURE_REASON)
        throw new EventSourceConfigError(
          `the broker refused the subscription to "${this.#options.address}" (reason code ${granted?.qos ?? 'none'})`,
        );
      return link;
    } catch (error) {
      await this.#end(link, { drop: true });
      if (error instanceof EventSourceConfigError) throw error;
      throw this.#errors.redact(error, `cannot subscribe to mqtt topic "${this.#options.address}"`);
    }
  }

  #onPublish(link: Link, publish: { topic: string; payload: Buffer; packet: IPublishPacket; done: (code: number) => void }): void {
    link.pending += 1;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      link.pending -= 1;
      if (link.retiring && link.pending === 0) void this.#end(link);
    };
    const delivery: Delivery = {
      message: toEventMessage(publish.topic, publish.payload, publish.packet),
      ack: () => {
        // An ack sent on a later connection could ack another message with the same packet id.
        if (!link.alive || !link.client.connected) {
          settle();
          throw new Error('the connection closed before the ack');
        }
        publish.done(0);
        settle();
      },
      retry: () => {
        const timer = setTimeout(() => {
          this.#retryTimers.delete(timer);
          this.#redeliver(link);
          settle();
        }, this.#options.retryDelayMs);
        this.#retryTimers.add(timer);
      },
      // Left unacked on a connection about to end: the broker keeps it for the session.
      release: settle,
    };
    this.#dispatcher.dispatch(delivery);
  }

  /** QoS 0 messages (QoS 1 ones are handled, and acked, by `#onPublish`). */
  #onQos0(packet: IPublishPacket, callback: () => void): void {
    if (packet.qos !== 0) {
      callback();
      return;
    }
    const message = toEventMessage(packet.topic, packet.payload, packet);
    this.#dispatcher.dispatch({
      message,
      ack: callback,
      retry: () => {
        this.#errors.report(new Error(`message ${message.id} was rejected`), 'mqtt QoS 0 message lost (QoS 0 has no redelivery)');
        callback();
      },
      release: callback,
    });
  }

  /**
   * Ends `link` without acking its message, so that the broker resends it on the next connection.
   * A DISCONNECT rather than a dropped socket: acks of earlier messages still in the socket's buffer
   * must reach the broker.
   */
  #redeliver(link: Link): void {
    if (link === this.#link) this.#link = undefined;
    void this.#end(link);
    if (this.#lifecycle.running) this.#reconnect(0);
  }

  #retire(link: Link): void {
    link.retiring = true;
    if (link.pending === 0) void this.#end(link);
  }

  #onClose(link: Link): void {
    link.alive = false;
    if (link !== this.#link) return;
    this.#link = undefined;
    if (!this.#lifecycle.running) return;
    this.#errors.report(new Error('the connection closed'), 'mqtt connection lost, reconnecting');
    this.#reconnect(reconnectBackoffMs(0));
  }

  /** Connects again (after `firstDelayMs`, then with backoff) until connected, paused or closed. */
  #reconnect(firstDelayMs: number): void {
    if (this.#connecting || this.#link) return;
    this.#connecting = (async () => {
      let delay = firstDelayMs;
      for (let failures = 0; this.#lifecycle.running && !this.#link; failures += 1) {
        if (delay > 0) await this.#backoff.wait(delay);
        if (!this.#lifecycle.running) break;
        try {
          const link = await this.#connect();
          if (this.#lifecycle.running) this.#link = link;
          else this.#retire(link);
        } catch (error) {
          this.#errors.report(error, 'mqtt reconnection failed');
          delay = reconnectBackoffMs(failures);
        }
      }
    })().finally(() => (this.#connecting = undefined));
  }

  /**
   * Disconnects `link` with a DISCONNECT, after the acks already written (the session, and the
   * messages not acked, stay with the broker); or, with `drop`, at once, discarding unsent data.
   */
  async #end(link: Link, options: { drop: boolean } = { drop: false }): Promise<void> {
    link.alive = false;
    if (!this.#links.delete(link)) return;
    await link.client.endAsync(options.drop).catch((error: unknown) => this.#errors.report(error, 'mqtt disconnect failed'));
  }
}

function toEventMessage(topic: string, payload: Buffer | string, packet: IPublishPacket): EventMessage {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const { body, encoding } = decodeMessageBody(bytes);
  const properties = packet.properties ?? {};
  const meta: Record<string, unknown> = {
    source: 'mqtt',
    topic,
    qos: packet.qos,
    retain: packet.retain,
    redelivered: packet.dup,
    encoding,
  };
  const optional: [string, unknown][] = [
    ['contentType', properties.contentType],
    ['responseTopic', properties.responseTopic],
    ['correlationData', properties.correlationData],
    ['messageExpiryInterval', properties.messageExpiryInterval],
    ['payloadFormatIndicator', properties.payloadFormatIndicator],
    ['userProperties', properties.userProperties],
  ];
  for (const [key, value] of optional) {
    const json = toJsonValue(value);
    if (json !== undefined && json !== null) meta[key] = json;
  }
  const declared = properties.userProperties?.['message-id'];
  const messageId = Array.isArray(declared) ? declared[0] : declared;
  const correlation = properties.correlationData;
  return {
    id:
      messageId !== undefined && messageId !== ''
        ? `mqtt:message-id:${messageId}`
        : correlation && correlation.length > 0
          ? `mqtt:correlation-data:${correlation.toString('base64')}`
          : // Without an id of the publisher's, equal messages on a topic are one message.
            contentHashId('mqtt', [topic, bytes]),
    body,
    meta,
  };
}
