import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { closeCodeSandboxPool, startCodeSandboxPool } from '@automateiq/connectors';
import type { Config } from '../config';
import type { Worker } from '../engine';
import { createApiDeps } from '../api/api-deps';
import { createApiServer } from '../api/server';
import { createHealthServer } from '../http/health-server';
import { onShutdown } from '../lifecycle/on-shutdown';
import { createLogger } from '../observability/logger';
import { createMetrics } from '../observability/metrics';
import { openPlatform, type Platform } from '../platform';
import { type BootstrapResult, bootstrapPlatform } from '../tenancy/bootstrap-platform';
import { EventTriggerRunner } from '../triggers/event-trigger-runner';
import { Scheduler } from '../triggers/scheduler';

/** The example workflows that a first start loads into the demo tenant. */
const EXAMPLES_DIR = fileURLToPath(new URL('../../../../examples', import.meta.url));

/** What a first start made, printed once: the admin's password is not shown again. */
function printBootstrap(boot: BootstrapResult): void {
  if (boot.admin) {
    process.stderr.write(
      boot.admin.password === undefined
        ? `Platform admin: ${boot.admin.email} (password from AIQ_ADMIN_PASSWORD)\n`
        : `Platform admin created: ${boot.admin.email}  password: ${boot.admin.password}\n  (shown once; set AIQ_ADMIN_EMAIL/AIQ_ADMIN_PASSWORD to choose them)\n`,
    );
  }
  if (boot.demo) {
    process.stderr.write(
      `Demo tenant "${boot.demo.slug}" with ${boot.demo.workflows} example workflows; its API key (shown once): ${boot.demo.apiKey}\n`,
    );
  }
}

export const Role = { all: 'all', api: 'api', worker: 'worker', scheduler: 'scheduler' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/**
 * `aiq start`: opens the platform (embedded PostgreSQL unless DATABASE_URL), serves `/healthz`,
 * `/readyz` and `/metrics`, and runs a worker, the cron scheduler and the event-trigger consumers when the role includes them. Stops cleanly on SIGINT and
 * SIGTERM: the worker finishes its steps, the database (if embedded) shuts down.
 */
export async function startCommand(
  args: { role: Role; port?: number | undefined },
  config: Config,
): Promise<void> {
  const logger = createLogger(config.logLevel);
  // The metrics read the queue through the platform's database, which opens after they exist.
  const opened: { platform?: Platform } = {};
  const metrics = createMetrics({ db: () => opened.platform?.db });
  const platform = await openPlatform({
    config,
    logger,
    observer: metrics.observer,
    maxConnections: 24,
  });
  opened.platform = platform;
  const open = platform;
  let worker: Worker | undefined;
  if (args.role === 'all' || args.role === 'worker') {
    await startCodeSandboxPool();
    worker = open.engine.createWorker({
      workerId: `${hostname()}-${process.pid}`,
      concurrency: config.workerConcurrency,
    });
    await worker.start();
  }
  // The scheduler fires cron ticks; any number may run against one database.
  const scheduler =
    args.role === 'all' || args.role === 'scheduler'
      ? new Scheduler({ db: open.db, engine: open.engine, logger })
      : undefined;
  scheduler?.start();
  // Event triggers' consumers run beside the scheduler: AMQP and NATS share work between processes.
  const events =
    args.role === 'all' || args.role === 'scheduler'
      ? new EventTriggerRunner({ db: open.db, databaseUrl: open.databaseUrl, engine: open.engine, vault: open.vault, logger })
      : undefined;
  await events?.start();
  const ready = async () => (await open.db.systemQuery('readiness', 'SELECT 1')).rowCount === 1;
  const serves = args.role === 'all' || args.role === 'api';
  if (serves) {
    const boot = await bootstrapPlatform({
      db: open.db,
      connectors: open.connectors,
      logger,
      adminEmail: config.adminEmail,
      adminPassword: config.adminPassword,
      demoTenant: config.demoTenant,
      examplesDir: EXAMPLES_DIR,
    });
    printBootstrap(boot);
  }
  const server = serves
    ? await createApiServer({
        deps: createApiDeps({ ...open, config, logger }),
        metrics: metrics.registry,
        ready,
      })
    : createHealthServer({ metrics: metrics.registry, ready });
  const port = args.port ?? config.port;
  await server.listen({ host: config.host, port });
  logger.info(
    {
      url: `http://${config.host}:${port}`,
      role: args.role,
      database: config.databaseUrl ? 'DATABASE_URL' : 'embedded',
    },
    'AutomateIQ is up',
  );
  process.stderr.write(`AutomateIQ is up on http://${config.host}:${port} (role ${args.role})\n`);

  onShutdown(async (signal) => {
    logger.info({ signal }, 'stopping');
    await Promise.all([server.close(), worker?.stop(), scheduler?.stop(), events?.stop()]);
    await closeCodeSandboxPool();
    await open.close();
  });
}
