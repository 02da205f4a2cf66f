import { type Channel, type ChannelModel, type ConsumeMessage, connect, type RecoveringChannelModel } from 'amqplib';
import { ErrorReporter } from './error-reporter';
import type { EventMessage, EventSubscription } from './event-source';
import { EventSourceConfigError } from './event-source-config-error';
import type { CompiledEventSourceOptions } from './event-source-options';
import { isoTime, toJsonValue } from './json-value';
import { decodeMessageBody } from './message-body';
import { type Delivery, MessageDispatcher } from './message-dispatcher';
import { contentHashId } from './message-id';
import { SubscriptionLifecycle } from './subscription-lifecycle';

/**
 * Subscribes to an AMQP 0-9-1 queue (RabbitMQ). The queue is used as it is when it exists (whatever its
 * type and arguments); when it does not, it is declared durable, so that a trigger can be armed before
 * its publisher. Manual acks: ack once `onMessage` resolves; `nack` with requeue `retryDelay` after it
 * rejects. The channel's prefetch is `prefetch`. A lost connection is re-established with backoff;
 * unacked messages go back to the queue at once. Pause cancels the consumer, resume consumes again.
 */
export async function subscribeAmqp(options: CompiledEventSourceOptions): Promise<EventSubscription> {
  const subscription = new AmqpSubscription(options);
  await subscription.open();
  return subscription;
}

/** The credential of an amqp source: `{ url }` (amqp: or amqps:, user and password in it). */
function amqpUrl(credential: Readonly<Record<string, unknown>>): string {
  const url = credential.url;
  if (typeof url !== 'string' || !/^amqps?:\/\//i.test(url))
    throw new EventSourceConfigError('an amqp credential needs a url starting amqp:// or amqps://');
  return url;
}

/** One connection's channel and, while consuming, its consumer. */
interface Link {
  model: ChannelModel;
  channel: Channel;
  open: boolean;
  consumerTag: string | undefined;
}

class AmqpSubscription implements EventSubscription {
  readonly #options: CompiledEventSourceOptions;
  readonly #url: string;
  readonly #errors: ErrorReporter;
  readonly #dispatcher: MessageDispatcher;
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  #connection: RecoveringChannelModel | undefined;
  #link: Link | undefined;
  /** Pause, resume, close and consumer starts, one at a time. */
  readonly #lifecycle = new SubscriptionLifecycle();

  constructor(options: CompiledEventSourceOptions) {
    this.#options = options;
    this.#url = amqpUrl(options.credential);
    this.#errors = new ErrorReporter(options);
    this.#dispatcher = new MessageDispatcher(options);
  }

  async open(): Promise<void> {
    try {
      this.#connection = await connect(this.#url, {
        clientProperties: { connection_name: this.#options.durableName },
        recovery: {
          // The first connection fails fast (bad URL, credentials, queue); later ones retry for ever.
          initialMaxRetries: 0,
          maxRetries: Infinity,
          initialDelay: 500,
          maxDelay: 30_000,
          setup: (model: ChannelModel) => this.#setup(model),
        },
      });
    } catch (error) {
      if (error instanceof EventSourceConfigError) throw error;
      throw this.#errors.redact(error, `cannot subscribe to amqp queue "${this.#options.address}"`);
    }
    this.#connection.on('disconnect', (error: Error) => this.#errors.report(error, 'amqp connection lost, reconnecting'));
    this.#connection.on('connect-failed', (error: Error) => this.#errors.report(error, 'amqp reconnection failed'));
    this.#connection.on('error', (error: Error) => this.#errors.report(error, 'amqp connection error'));
  }

  pause(): Promise<void> {
    return this.#lifecycle.pause(async () => {
      this.#dispatcher.stop();
      await this.#cancelConsumer();
    });
  }

  resume(): Promise<void> {
    return this.#lifecycle.resume(async () => {
      this.#dispatcher.start();
      const link = this.#link;
      if (link?.open && link.consumerTag === undefined) await this.#consume(link);
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      this.#dispatcher.stop();
      await this.#cancelConsumer().catch((error: unknown) => this.#errors.report(error, 'amqp consumer cancel failed'));
      await this.#dispatcher.drain(this.#options.drainTimeoutMs);
      // Rejected messages waiting to be requeued are requeued by the broker when the connection closes.
      for (const timer of this.#retryTimers) clearTimeout(timer);
      this.#retryTimers.clear();
      const link = this.#link;
      this.#link = undefined;
      // Closing the channel first makes the broker take its acks: amqplib may write a connection's
      // close before another channel's pending frames, which would lose the acks just sent.
      if (link?.open)
        await link.channel.close().catch((error: unknown) => this.#errors.report(error, 'amqp channel close failed'));
      await this.#connection?.close();
    });
  }

  /** Runs on every (re)connection, before it counts as established. */
  async #setup(model: ChannelModel): Promise<void> {
    // Until recovery adopts the model (after this setup), an error event would have no listener and
    // crash the process; such errors also fail the setup, which is how they are reported.
    model.on('error', () => undefined);
    await ensureQueue(model, this.#options.address);
    const channel = await model.createChannel();
    const link: Link = { model, channel, open: true, consumerTag: undefined };
    channel.on('error', (error: Error) => this.#errors.report(error, 'amqp channel error'));
    channel.on('close', () => {
      link.open = false;
      link.consumerTag = undefined;
      // A channel closed on a live connection (an ack the broker refused, say) is replaced by
      // reconnecting; closing the connection hands that to recovery. When the whole connection
      // closed, its own 'close' (after this one) has cleared the link and recovery is under way.
      setImmediate(() => {
        if (this.#link === link && !this.#lifecycle.closed) this.#restartConnection(link);
      });
    });
    model.on('close', () => {
      if (this.#link === link) this.#link = undefined;
    });
    await channel.prefetch(this.#options.prefetch);
    this.#link = link;
    await this.#lifecycle.serially(async () => {
      if (this.#lifecycle.running && this.#link === link) await this.#consume(link);
    });
  }

  #restartConnection(link: Link): void {
    this.#link = undefined;
    this.#errors.report(new Error('the channel closed'), 'amqp channel lost, reconnecting');
    link.model.close().catch((error: unknown) => this.#errors.report(error, 'amqp connection close failed'));
  }

  async #consume(link: Link): Promise<void> {
    const { consumerTag } = await link.channel.consume(this.#options.address, (message) => this.#onDelivery(link, message), {
      noAck: false,
    });
    link.consumerTag = consumerTag;
  }

  async #cancelConsumer(): Promise<void> {
    const link = this.#link;
    const tag = link?.consumerTag;
    if (!link?.open || tag === undefined) return;
    link.consumerTag = undefined;
    await link.channel.cancel(tag);
  }

  #onDelivery(link: Link, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer: the queue was deleted, or its node went away.
      link.consumerTag = undefined;
      if (this.#link === link && !this.#lifecycle.closed) {
        this.#errors.report(
          new Error(`the broker cancelled the consumer of queue "${this.#options.address}"`),
          'amqp consumer lost',
        );
        this.#restartConnection(link);
      }
      return;
    }
    this.#dispatcher.dispatch(this.#delivery(link, message));
  }

  #delivery(link: Link, message: ConsumeMessage): Delivery {
    const requeue = () => {
      // On a closed channel the broker has requeued the message already.
      if (link.open) link.channel.nack(message, false, true);
    };
    return {
      message: toEventMessage(this.#options.address, message),
      ack: () => {
        if (!link.open) throw new Error('the channel closed before the ack');
        link.channel.ack(message);
      },
      retry: () => {
        const timer = setTimeout(() => {
          this.#retryTimers.delete(timer);
          requeue();
        }, this.#options.retryDelayMs);
        this.#retryTimers.add(timer);
      },
      release: requeue,
    };
  }
}

/**
 * Uses the queue when it exists, whatever its arguments; declares it durable when it does not.
 * (Declaring an existing queue with other arguments would fail, and a failed check closes its
 * channel, hence a channel of its own.)
 */
async function ensureQueue(model: ChannelModel, queue: string): Promise<void> {
  const probe = await model.createChannel();
  let closed = false;
  probe.on('error', () => undefined); // A failed check rejects checkQueue below ("not found" is expected).
  probe.on('close', () => (closed = true));
  try {
    await probe.checkQueue(queue);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  } finally {
    if (!closed) await probe.close();
  }
  const declaring = await model.createChannel();
  let declaringClosed = false;
  declaring.on('error', () => undefined); // A refused declaration rejects assertQueue below.
  declaring.on('close', () => (declaringClosed = true));
  try {
    await declaring.assertQueue(queue, { durable: true });
  } finally {
    if (!declaringClosed) await declaring.close();
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 404;
}

function toEventMessage(queue: string, message: ConsumeMessage): EventMessage {
  const { fields, properties, content } = message;
  const messageId: unknown = properties.messageId;
  const { body, encoding } = decodeMessageBody(content);
  const timestamp: unknown = properties.timestamp;
  const meta: Record<string, unknown> = {
    source: 'amqp',
    queue,
    exchange: fields.exchange,
    routingKey: fields.routingKey,
    redelivered: fields.redelivered,
    encoding,
  };
  const props: [string, unknown][] = [
    ['messageId', messageId],
    ['correlationId', properties.correlationId],
    ['replyTo', properties.replyTo],
    ['contentType', properties.contentType],
    ['contentEncoding', properties.contentEncoding],
    ['type', properties.type],
    ['appId', properties.appId],
    ['userId', properties.userId],
    ['priority', properties.priority],
    ['expiration', properties.expiration],
    ['headers', properties.headers],
    // AMQP timestamps are seconds since the epoch.
    ['timestamp', typeof timestamp === 'number' ? isoTime(timestamp * 1_000) : undefined],
  ];
  for (const [key, value] of props) {
    const json = toJsonValue(value);
    if (json !== undefined && json !== null) meta[key] = json;
  }
  return {
    id:
      typeof messageId === 'string' && messageId !== ''
        ? `amqp:message-id:${messageId}`
        : // Stable across redeliveries: exchange and routing key are those of the publish. Headers are
          // left out: brokers add some on redelivery (x-delivery-count).
          contentHashId('amqp', [fields.exchange, fields.routingKey, content]),
    body,
    meta,
  };
}
