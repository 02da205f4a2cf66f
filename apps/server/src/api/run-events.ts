import { RunStatus } from '@automateiq/core';
import pg from 'pg';
import type { Logger } from 'pino';
import { RUN_CHANGES_CHANNEL } from '../store/queries/notify-run-changes';

/** One run named by an announcement on `aiq_runs` (see store/queries/notify-run-changes.ts). */
export interface RunChange {
  runId: string;
  /** Known when the run itself changed. */
  workflowId: string | null;
  /** The run's status when the run itself changed; null when only its steps did. */
  status: RunStatus | null;
  revision: number | null;
}

/** A subscriber to one tenant's run changes. */
export interface RunChangeListener {
  /** Runs of the tenant changed (committed). */
  changes(changes: readonly RunChange[]): void;
  /** Announcements may have been missed (the connection was lost and made again): read afresh. */
  resync(): void;
}

export interface RunEventsOptions {
  /** Connection string of the database the engine announces on. */
  connectionString: string | undefined;
  logger: Logger;
  /** Wait before connecting again after the connection is lost. Default: 1s. */
  reconnectMs?: number;
}

/**
 * The API process's one LISTEN connection to `aiq_runs`, fanned out in memory to the subscribers of
 * each tenant: an announcement reaches only the subscribers of the tenant it names, and they read what
 * they show through row-level security themselves. Connects on the first subscription; after a lost
 * connection it connects again and tells every subscriber to resync.
 */
export class RunEvents {
  private readonly byTenant = new Map<string, Set<RunChangeListener>>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: RunEventsOptions) {}

  /**
   * Subscribes to the changes of one tenant's runs. Resolves once LISTEN is in effect, so a change
   * committed after that reaches the listener; returns the unsubscribe function.
   */
  async subscribe(tenantId: string, listener: RunChangeListener): Promise<() => void> {
    if (this.closed) throw new Error('run events are closed');
    const listeners = this.byTenant.get(tenantId) ?? new Set<RunChangeListener>();
    this.byTenant.set(tenantId, listeners);
    listeners.add(listener);
    const unsubscribe = (): void => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.byTenant.get(tenantId) === listeners) this.byTenant.delete(tenantId);
    };
    try {
      await this.connected();
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  /** Subscribers now, over all tenants. */
  get subscribers(): number {
    let n = 0;
    for (const listeners of this.byTenant.values()) n += listeners.size;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.byTenant.clear();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connected(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: 'automateiq-run-events',
    });
    client.on('notification', (message) => {
      if (message.channel === RUN_CHANGES_CHANNEL && message.payload) this.dispatch(message.payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the LISTEN connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${RUN_CHANGES_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new Error('listening for run changes failed', { cause: error });
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('run events are closed');
    }
    this.client = client;
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.options.logger.warn({ err: error }, 'the run events LISTEN connection was lost; connecting again');
    this.reconnect();
  }

  private reconnect(): void {
    if (this.closed || this.byTenant.size === 0) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.connected().then(
        () => {
          for (const listeners of this.byTenant.values()) for (const listener of listeners) listener.resync();
        },
        (error: unknown) => {
          this.options.logger.warn({ err: error }, 'connecting for run events failed; trying again');
          this.reconnect();
        },
      );
    }, this.options.reconnectMs ?? 1_000);
    this.reconnectTimer.unref();
  }

  private dispatch(payload: string): void {
    const parsed = parseAnnouncement(payload);
    if (!parsed) {
      this.options.logger.warn({ payload: payload.slice(0, 200) }, 'an announcement on aiq_runs was not understood');
      return;
    }
    const listeners = this.byTenant.get(parsed.tenantId);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener.changes(parsed.changes);
      } catch (error) {
        this.options.logger.error({ err: error, tenantId: parsed.tenantId }, 'a run change subscriber failed');
      }
    }
  }
}

const STATUSES: ReadonlySet<unknown> = new Set(Object.values(RunStatus));
const isRunStatus = (value: unknown): value is RunStatus => STATUSES.has(value);

/** `{ t: tenantId, r: [[runId, workflowId, status, revision], ...] }`, or undefined when malformed. */
export function parseAnnouncement(payload: string): { tenantId: string; changes: RunChange[] } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { t, r } = value as { t?: unknown; r?: unknown };
  if (typeof t !== 'string' || !Array.isArray(r)) return undefined;
  const changes: RunChange[] = [];
  for (const entry of r) {
    if (!Array.isArray(entry)) return undefined;
    const [runId, workflowId, status, revision] = entry as unknown[];
    if (typeof runId !== 'string') return undefined;
    changes.push({
      runId,
      workflowId: typeof workflowId === 'string' ? workflowId : null,
      status: isRunStatus(status) ? status : null,
      revision: typeof revision === 'number' ? revision : null,
    });
  }
  return { tenantId: t, changes };
}
