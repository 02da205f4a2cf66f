import { createHash } from 'node:crypto';
import { EVENT_ADDRESS_FIELD } from '@automateiq/core';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Engine } from '../engine';
import type { AuditActor } from '../security/principal';
import type { Vault } from '../security/vault';
import type { Database } from '../store/database';
import { findDeletedWorkflows } from '../store/queries/find-deleted-workflows';
import { getTenantActiveRuns } from '../store/queries/get-tenant-active-runs';
import { type ArmedEventTrigger, listArmedEventTriggers } from '../store/queries/list-armed-event-triggers';
import { RunsPerDayExceededError } from '../tenancy/runs-per-day';
import { type EventMessage, type EventSubscription, EventSourceKind, forgetEventSource, subscribeEventSource } from './event-sources';

export interface EventTriggerRunnerOptions {
  db: Database;
  /** Connection string for LISTEN aiq_triggers (and the MQTT session locks). */
  databaseUrl: string;
  engine: Engine;
  vault: Vault;
  logger: Logger;
  /** Look at the armed triggers again at least this often (a lost notification, a broker that was down). Default: 10s. */
  resyncMs?: number;
  /** How often a paused subscription looks whether its tenant has a free slot again. Default: 500ms. */
  backpressureCheckMs?: number;
  /** In-flight messages per subscription. Default: 16. */
  prefetch?: number;
}

/** The consumer as the audit trail names it. */
const CONSUMER: AuditActor = { type: 'system', id: null, label: 'event trigger' };

interface Consumer {
  trigger: ArmedEventTrigger;
  /** The broker credential it consumes with (kept to remove the durable state if its workflow is deleted). */
  credential: Record<string, unknown>;
  durableName: string;
  subscription: EventSubscription;
  paused: boolean;
  timer?: NodeJS.Timeout | undefined;
}

/**
 * Consumes the message systems of armed `type: event` triggers: one subscription per trigger of an
 * active tenant, with the tenant's credential. Each message starts one run through the engine with
 * the idempotency key `event:<message id>` and is acknowledged only once the run is recorded, so a
 * crash loses no message and a redelivery starts no second run. A tenant at its concurrentRuns quota
 * stops being consumed until a slot frees. Follows arming, disarming and suspension through
 * `aiq_triggers` announcements. Several processes may run it: AMQP and NATS consumers share the work;
 * an MQTT session is held by one process at a time (a PostgreSQL advisory lock).
 */
export class EventTriggerRunner {
  private readonly consumers = new Map<string, Consumer>();
  private listener: pg.Client | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly options: EventTriggerRunnerOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.listen();
    await this.sync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.resyncTimer);
    await this.syncing;
    await Promise.all([...this.consumers.keys()].map((key) => this.drop(key)));
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Triggers consumed now (tests, metrics). */
  get subscriptions(): number {
    return this.consumers.size;
  }

  /** Whether this process consumes a trigger of the workflow now. */
  consumes(workflowId: string): boolean {
    return [...this.consumers.values()].some((c) => c.trigger.workflowId === workflowId);
  }

  /** Reads the armed triggers and makes the subscriptions match; overlapping calls run once more after. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = this.reconcile()
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'event triggers: reading the armed triggers failed'))
      .finally(() => {
        this.syncing = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          void this.sync();
        } else {
          clearTimeout(this.resyncTimer);
          this.resyncTimer = setTimeout(() => void this.sync(), this.options.resyncMs ?? 10_000);
        }
      });
    return this.syncing;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'automateiq-events' });
    client.on('error', (error) => {
      this.options.logger.warn({ err: error }, 'event triggers: the LISTEN connection failed; reconnecting');
      this.listener = undefined;
      // Its MQTT locks went with it: those consumers stop and are taken again by whoever gets the lock.
      for (const [key, consumer] of this.consumers) if (consumer.trigger.config.source === 'mqtt') void this.drop(key);
      if (!this.stopped) setTimeout(() => void this.listen().then(() => this.sync()).catch(() => undefined), 1_000);
    });
    client.on('notification', () => void this.sync());
    await client.connect();
    await client.query('LISTEN aiq_triggers');
    this.listener = client;
  }

  private async reconcile(): Promise<void> {
    const armed = await listArmedEventTriggers(this.options.db.system);
    const wanted = new Map(armed.map((trigger) => [keyOf(trigger), trigger]));
    const gone = [...this.consumers].filter(([key]) => !wanted.has(key));
    const deleted = await findDeletedWorkflows(this.options.db.system, { workflowIds: gone.map(([, c]) => c.trigger.workflowId) });
    for (const [key, consumer] of gone) {
      await this.drop(key);
      // A deleted workflow's trigger is gone for good: what the broker keeps for it goes too.
      if (deleted.has(consumer.trigger.workflowId)) await this.forget(consumer);
    }
    for (const [key, trigger] of wanted) {
      if (this.stopped) return;
      if (this.consumers.has(key)) continue;
      await this.consume(key, trigger).catch((error: unknown) =>
        this.options.logger.warn(
          { err: error, tenantId: trigger.tenantId, workflowId: trigger.workflowId, trigger: trigger.position },
          'event triggers: subscribing failed; trying again at the next resync',
        ),
      );
    }
  }

  private async consume(key: string, trigger: ArmedEventTrigger): Promise<void> {
    const { config } = trigger;
    const source = config.source as EventSourceKind;
    const address = String(config[EVENT_ADDRESS_FIELD[source]]);
    const durableName = `aiq-${trigger.workflowId}-${trigger.position}`;
    if (source === EventSourceKind.mqtt && !(await this.lockSession(durableName))) return;
    const credential = await this.options.vault.read({
      tenantId: trigger.tenantId,
      name: String(config.credential),
      actor: CONSUMER,
      details: { workflowId: trigger.workflowId, trigger: trigger.position },
    });
    if (!credential) throw new Error(`the credential "${String(config.credential)}" of the trigger does not exist`);
    const consumer: Consumer = {
      trigger,
      credential: credential.value as Record<string, unknown>,
      durableName,
      subscription: undefined as unknown as EventSubscription,
      paused: false,
    };
    consumer.subscription = await subscribeEventSource(source, {
      credential: credential.value as Record<string, unknown>,
      address,
      durableName,
      prefetch: this.options.prefetch ?? 16,
      onMessage: (message) => this.onMessage(consumer, message),
      onError: (error) =>
        this.options.logger.warn({ err: error, tenantId: trigger.tenantId, workflowId: trigger.workflowId }, 'event trigger source error'),
    });
    if (this.stopped) {
      await consumer.subscription.close();
      return;
    }
    this.consumers.set(key, consumer);
  }

  private async drop(key: string): Promise<void> {
    const consumer = this.consumers.get(key);
    if (!consumer) return;
    this.consumers.delete(key);
    clearTimeout(consumer.timer);
    await consumer.subscription
      .close()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'event triggers: closing a subscription failed'));
    if (consumer.trigger.config.source === EventSourceKind.mqtt) await this.unlockSession(consumer.durableName);
  }

  /** Removes the durable consumer or session of a deleted workflow's trigger (see `forgetEventSource`). */
  private async forget(consumer: Consumer): Promise<void> {
    const { trigger } = consumer;
    const source = trigger.config.source as EventSourceKind;
    await forgetEventSource(source, {
      credential: consumer.credential,
      address: String(trigger.config[EVENT_ADDRESS_FIELD[source]]),
      durableName: consumer.durableName,
    }).catch((error: unknown) =>
      this.options.logger.warn(
        { err: error, tenantId: trigger.tenantId, workflowId: trigger.workflowId },
        'event triggers: removing what the broker kept for a deleted workflow failed',
      ),
    );
  }

  /** Starts the message's run; resolving acknowledges the message, throwing has it redelivered. */
  private async onMessage(consumer: Consumer, message: EventMessage): Promise<void> {
    const { trigger } = consumer;
    const source = String(trigger.config.source);
    try {
      await this.options.engine.startRun({
        tenantId: trigger.tenantId,
        workflowId: trigger.workflowId,
        version: trigger.version,
        tenantConcurrencyQuota: trigger.quotas.concurrentRuns,
        input: message.body,
        trigger: { type: 'event', source, messageId: message.id, meta: message.meta, input: message.body },
        idempotencyKey: `event:${message.id}`,
        runsPerDay: { limit: trigger.quotas.runsPerDay },
        audit: ({ runId, version }) => ({
          actor: CONSUMER,
          action: 'run.start',
          target: { type: 'run', id: runId },
          details: { workflowId: trigger.workflowId, version, trigger: 'event', source, messageId: message.id },
        }),
      });
    } catch (error) {
      // Out of runs for the day: the message waits with the broker; consumption stops for a while.
      if (error instanceof RunsPerDayExceededError) await this.pause(consumer, 60_000);
      throw error;
    }
    await this.holdBackIfFull(consumer);
  }

  /** Pauses the subscription while the tenant's concurrent runs fill its quota. */
  private async holdBackIfFull(consumer: Consumer): Promise<void> {
    const limit = consumer.trigger.quotas.concurrentRuns;
    if (limit === null || consumer.paused) return;
    const { tenantId } = consumer.trigger;
    const active = await this.options.db.withTenant(tenantId, (tx) => getTenantActiveRuns(tx, { tenantId }));
    if (active >= limit) await this.pause(consumer, this.options.backpressureCheckMs ?? 500);
  }

  /** Pauses, then looks again every `checkMs` until the tenant has room (and the quota of the day). */
  private async pause(consumer: Consumer, checkMs: number): Promise<void> {
    if (consumer.paused) return;
    consumer.paused = true;
    await consumer.subscription.pause();
    const check = async (): Promise<void> => {
      if (!this.consumers.has(keyOf(consumer.trigger))) return;
      const { tenantId } = consumer.trigger;
      const limit = consumer.trigger.quotas.concurrentRuns;
      const active = limit === null ? 0 : await this.options.db.withTenant(tenantId, (tx) => getTenantActiveRuns(tx, { tenantId }));
      if (limit !== null && active >= limit) {
        consumer.timer = setTimeout(() => void check().catch(() => undefined), this.options.backpressureCheckMs ?? 500);
        return;
      }
      consumer.paused = false;
      await consumer.subscription.resume();
    };
    consumer.timer = setTimeout(() => void check().catch(() => undefined), checkMs);
  }

  private async lockSession(durableName: string): Promise<boolean> {
    if (!this.listener) return false;
    const { rows } = await this.listener.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
      `aiq-mqtt:${durableName}`,
    ]);
    return rows[0]?.locked === true;
  }

  private async unlockSession(durableName: string): Promise<void> {
    await this.listener?.query('SELECT pg_advisory_unlock(hashtext($1))', [`aiq-mqtt:${durableName}`]).catch(() => undefined);
  }
}

/** A trigger's identity as consumed: a change of its definition or quotas makes it a new consumer. */
function keyOf(trigger: ArmedEventTrigger): string {
  const digest = createHash('sha256').update(JSON.stringify([trigger.version, trigger.config, trigger.quotas])).digest('hex').slice(0, 16);
  return `${trigger.tenantId}:${trigger.workflowId}:${trigger.position}:${digest}`;
}
