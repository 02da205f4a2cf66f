import { createHash } from 'node:crypto';
import {
  AckPolicy,
  type ConnectionOptions,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  NatsError,
  RetentionPolicy,
  StorageType,
  connect,
  millis,
  nanos,
} from 'nats';
import { ErrorReporter } from './error-reporter';
import type { EventMessage, EventSubscription } from './event-source';
import { EventSourceConfigError } from './event-source-config-error';
import type { CompiledEventSourceOptions } from './event-source-options';
import { isoTime } from './json-value';
import { decodeMessageBody } from './message-body';
import { type Delivery, MessageDispatcher } from './message-dispatcher';
import { Pause, reconnectBackoffMs } from './reconnect-backoff';
import { SubscriptionLifecycle } from './subscription-lifecycle';

/** How long one pull request waits for messages, in ms. */
const PULL_EXPIRES_MS = 10_000;
/** JetStream API error codes. */
const CONSUMER_NOT_FOUND = 10014;
const STREAM_NAME_IN_USE = 10058;

/**
 * Subscribes to a NATS JetStream subject through a durable pull consumer named `durableName`
 * (explicit acks, `ack_wait` = `ackWait`, `max_ack_pending` = `prefetch`, filtered on the subject, new
 * messages only: a new trigger does not replay the stream's history). The stream is the one JetStream
 * names for the subject (whose subjects match it); when there is none, a file stream
 * `aiq-<subject>-<hash>` is created for the subject alone, with interest retention (a message is kept
 * until every trigger consuming it has acked it); when several match, subscribing fails. It pulls
 * only as many messages as it has free slots; acks with a confirmed ack (`ackAck`) once `onMessage`
 * resolves; `nak(retryDelay)` when it rejects; signals progress while a call is slow. Pause stops
 * pulling (what was already pulled is nak'ed back); unacked messages of a closed or crashed
 * subscription are redelivered once `ackWait` has passed.
 */
export async function subscribeNats(options: CompiledEventSourceOptions): Promise<EventSubscription> {
  const subscription = new NatsSubscription(options);
  await subscription.open();
  return subscription;
}

/** The connection options of a nats credential: `{ servers, token?, username?, password? }`. */
function natsConnectionOptions(credential: Readonly<Record<string, unknown>>): ConnectionOptions {
  const raw = credential.servers;
  const servers = (Array.isArray(raw) ? raw : [raw]).filter((s): s is string => typeof s === 'string' && s.trim() !== '');
  if (servers.length === 0 || servers.length !== (Array.isArray(raw) ? raw.length : 1))
    throw new EventSourceConfigError('a nats credential needs servers: a list of server URLs');
  const options: ConnectionOptions = { servers };
  for (const [field, option] of [
    ['token', 'token'],
    ['username', 'user'],
    ['password', 'pass'],
  ] as const) {
    const value = credential[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new EventSourceConfigError(`the ${field} of a nats credential must be text`);
    options[option] = value;
  }
  return options;
}

class NatsSubscription implements EventSubscription {
  readonly #options: CompiledEventSourceOptions;
  readonly #connectionOptions: ConnectionOptions;
  readonly #errors: ErrorReporter;
  readonly #dispatcher: MessageDispatcher;
  #connection: NatsConnection | undefined;
  #stream = '';
  #consumer: Consumer | undefined;
  #batch: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  readonly #lifecycle = new SubscriptionLifecycle();
  /** Progress signals of deliveries not yet settled. */
  readonly #progress = new Set<NodeJS.Timeout>();
  /** The wait of the pull loop after a failure; pause and close cut it short. */
  readonly #backoff = new Pause();

  constructor(options: CompiledEventSourceOptions) {
    this.#options = options;
    this.#connectionOptions = natsConnectionOptions(options.credential);
    this.#errors = new ErrorReporter(options);
    this.#dispatcher = new MessageDispatcher(options);
  }

  async open(): Promise<void> {
    const subject = this.#options.address;
    try {
      this.#connection = await connect({
        ...this.#connectionOptions,
        name: this.#options.durableName,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
      });
    } catch (error) {
      throw this.#errors.redact(error, `cannot connect to nats for subject "${subject}"`);
    }
    try {
      await this.#ensureConsumer();
    } catch (error) {
      await this.#connection.close();
      if (error instanceof EventSourceConfigError) throw error;
      throw this.#errors.redact(error, `cannot consume nats subject "${subject}"`);
    }
    this.#watchStatus(this.#connection).catch((error: unknown) => this.#errors.report(error, 'nats status watch failed'));
    this.#loop = this.#pull();
  }

  pause(): Promise<void> {
    return this.#lifecycle.pause(() => this.#stopPulling());
  }

  resume(): Promise<void> {
    return this.#lifecycle.resume(async () => {
      this.#dispatcher.start();
      this.#loop = this.#pull();
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      await this.#stopPulling();
      await this.#dispatcher.drain(this.#options.drainTimeoutMs);
      // Calls still in flight lose their messages to ack_wait expiry, hence redelivery.
      for (const progress of this.#progress) clearInterval(progress);
      this.#progress.clear();
      await this.#connection?.close();
    });
  }

  async #stopPulling(): Promise<void> {
    this.#dispatcher.stop();
    this.#backoff.interrupt();
    // Messages this pull already received are still yielded, and released (nak'ed) by the dispatcher.
    this.#batch?.stop();
    await this.#loop;
    this.#loop = undefined;
  }

  /** Finds or creates the stream and the durable consumer, and keeps the consumer's settings current. */
  async #ensureConsumer(): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    const jsm = await connection.jetstreamManager();
    this.#stream = await ensureStream(jsm, this.#options.address);
    const { durableName: durable, address: subject, prefetch, ackWaitMs } = this.#options;
    const wanted = {
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: prefetch,
    };
    const info = await jsm.consumers.info(this.#stream, durable).catch((error: unknown) => {
      if (apiErrorCode(error) === CONSUMER_NOT_FOUND) return undefined;
      throw error;
    });
    if (info && (info.config.filter_subject ?? '') !== subject) {
      // The durable name was given to another subject: a trigger whose subject changed starts afresh.
      await jsm.consumers.delete(this.#stream, durable);
    } else if (info) {
      if (info.config.ack_policy !== AckPolicy.Explicit || info.config.deliver_subject)
        throw new EventSourceConfigError(`the JetStream consumer "${durable}" exists but is not an explicit-ack pull consumer`);
      if (info.config.ack_wait !== wanted.ack_wait || info.config.max_ack_pending !== wanted.max_ack_pending)
        await jsm.consumers.update(this.#stream, durable, wanted);
      this.#consumer = await connection.jetstream().consumers.get(this.#stream, durable);
      return;
    }
    await jsm.consumers.add(this.#stream, {
      ...wanted,
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject: subject,
      max_deliver: -1,
    });
    this.#consumer = await connection.jetstream().consumers.get(this.#stream, durable);
  }

  /** Pulls as many messages as there are free slots, until paused or closed; never rejects. */
  async #pull(): Promise<void> {
    let failures = 0;
    while (this.#lifecycle.running) {
      try {
        await this.#dispatcher.whenFree();
        const consumer = this.#consumer;
        const free = this.#dispatcher.free;
        if (!this.#lifecycle.running) break;
        if (!consumer) throw new Error('no consumer');
        if (free === 0) continue;
        const batch = await consumer.fetch({ max_messages: free, expires: PULL_EXPIRES_MS });
        this.#batch = batch;
        for await (const message of batch) {
          this.#dispatcher.dispatch(this.#delivery(message));
          failures = 0;
        }
      } catch (error) {
        if (!this.#lifecycle.running) break;
        this.#errors.report(error, `nats pull from "${this.#options.address}" failed, retrying`);
        await this.#backoff.wait(reconnectBackoffMs(failures));
        failures += 1;
        if (!this.#lifecycle.running) break;
        // The consumer (or stream) may have been deleted: make them again.
        await this.#ensureConsumer().catch((cause: unknown) => this.#errors.report(cause, 'nats consumer setup failed'));
      } finally {
        this.#batch = undefined;
      }
    }
  }

  #delivery(message: JsMsg): Delivery {
    // A slow onMessage (or a long wait for a slot) must not let ack_wait expire meanwhile.
    const progress = setInterval(
      () => {
        try {
          message.working();
        } catch (error) {
          this.#errors.report(error, `nats progress signal for message ${message.seq} failed`);
        }
      },
      Math.max(500, Math.floor(this.#options.ackWaitMs / 2)),
    );
    this.#progress.add(progress);
    const done = () => {
      clearInterval(progress);
      this.#progress.delete(progress);
    };
    return {
      message: toEventMessage(message),
      ack: async () => {
        done();
        await message.ackAck();
      },
      retry: () => {
        done();
        message.nak(this.#options.retryDelayMs);
      },
      release: () => {
        done();
        if (!this.#connection?.isClosed()) message.nak();
      },
    };
  }

  async #watchStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error')
        this.#errors.report(new Error(String(status.data)), `nats ${status.type}`);
    }
  }
}

/**
 * Deletes the trigger's durable consumer (`durableName`) from the streams that cover `address`: what
 * was kept for it goes. Nothing to delete is no error. The stream stays (others may read it).
 */
export async function forgetNats(options: { credential: Readonly<Record<string, unknown>>; address: string; durableName: string }): Promise<void> {
  const connection = await connect({ ...natsConnectionOptions(options.credential), name: options.durableName, maxReconnectAttempts: 0 });
  try {
    const jsm = await connection.jetstreamManager();
    for await (const stream of jsm.streams.names(options.address)) {
      await jsm.consumers.delete(stream, options.durableName).catch((error: unknown) => {
        if (apiErrorCode(error) !== CONSUMER_NOT_FOUND) throw error;
      });
    }
  } finally {
    await connection.close();
  }
}

/** The stream whose subjects cover `subject`, created when there is none. */
async function ensureStream(jsm: JetStreamManager, subject: string): Promise<string> {
  const names: string[] = [];
  for await (const name of jsm.streams.names(subject)) names.push(name);
  const [only, ...others] = names;
  if (only !== undefined && others.length === 0) return only;
  if (only !== undefined)
    throw new EventSourceConfigError(
      `the nats subject "${subject}" is covered by several streams (${names.join(', ')}): name a narrower one`,
    );
  const name = streamNameFor(subject);
  try {
    await jsm.streams.add({ name, subjects: [subject], retention: RetentionPolicy.Interest, storage: StorageType.File });
  } catch (error) {
    // Another process created it in the meantime.
    if (apiErrorCode(error) !== STREAM_NAME_IN_USE) throw error;
  }
  return name;
}

/** `aiq-<subject with . * > as _>-<8 hex of the subject's sha256>`: a valid stream name, unique per subject. */
export function streamNameFor(subject: string): string {
  const readable = subject.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  return `aiq-${readable}-${createHash('sha256').update(subject).digest('hex').slice(0, 8)}`;
}

function apiErrorCode(error: unknown): number | undefined {
  return error instanceof NatsError ? error.api_error?.err_code : undefined;
}

function toEventMessage(message: JsMsg): EventMessage {
  const { info } = message;
  const { body, encoding } = decodeMessageBody(message.data);
  const meta: Record<string, unknown> = {
    source: 'nats',
    subject: message.subject,
    stream: info.stream,
    streamSequence: info.streamSequence,
    redelivered: message.redelivered,
    deliveryCount: info.deliveryCount,
    encoding,
  };
  const timestamp = isoTime(millis(info.timestampNanos));
  if (timestamp) meta.timestamp = timestamp;
  if (message.headers) {
    const headers: Record<string, string | string[]> = {};
    for (const [key, values] of message.headers) headers[key] = values.length === 1 && values[0] !== undefined ? values[0] : values;
    meta.headers = headers;
  }
  return { id: `nats:${info.stream}:${info.streamSequence}`, body, meta };
}
