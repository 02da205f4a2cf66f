/**
 * `npm run bench -- triggers`: the figures of the triggers (issue 4) on this machine. Onboards one
 * tenant as the API bench does, serves the API in this process on 127.0.0.1, creates and activates
 * its workflows through the API, and loads it with wrk (else autocannon, see api-load.ts). Prints, each
 * measured after a warm-up:
 *  1. the baseline: a bare `node:http` server (in this process) that INSERTs each request's body as
 *     one row through a `pg` pool and answers 200 after the commit;
 *  2. `POST /hooks/:tenant/*` to a `respond: async` webhook of a 3-transform workflow, no worker
 *     running (accepting only): 202s/s, latency, and then the durability check: the runs recorded
 *     against the 202 answers and the requests the server received; its ratio to the baseline;
 *  3. the same to a `respond: sync` webhook of transform, transform, flow.return, with a worker in
 *     this process (the run's pure steps run in its start, see docs/triggers.md, so the worker is
 *     there for what is not pure): 200s/s, latency, and the 202s of sync waits that ran out, counted apart;
 *  4. an every-second cron trigger fired by a Scheduler with that worker, no HTTP load: per tick,
 *     run recorded and first step started after the scheduled second (p50, p99, max);
 * with requests/s, p50/p90/p99/max latency, errors, non-2xx answers and this process's CPU, then a
 * line against the targets (webhook async >= 3,000/s with p99 < 20 ms; sync >= 800/s with p99 <
 * 50 ms; cron started within 100 ms of its second).
 * Options: --duration S (default 10), --connections C (default 50), --ticks N (cron ticks measured,
 * default 10), --concurrency N (the worker's, default the server's: 16), --unlimited (the tenant on
 * the unlimited plan: no quota compared), --keep (keep the database).
 * The load generator shares the machine's cores with the server, its worker and PostgreSQL.
 */
import { cpus } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createApiDeps } from '../apps/server/src/api/api-deps';
import { createApiServer } from '../apps/server/src/api/server';
import { loadConfig } from '../apps/server/src/config';
import { Engine, type Worker } from '../apps/server/src/engine';
import { MasterKey } from '../apps/server/src/security/master-key';
import type { Database } from '../apps/server/src/store/database';
import { generateLoad, type LoadRequest, type LoadResult, loadGenerator } from './api-load';
import { onboardBenchTenants, settle } from './api-seed';
import { createBenchDatabase, percentile, untilPoolIdle } from './bench-database';
import { fixed, int, print } from './bench-output';
import { readFlags, wholeNumber } from './bench-flags';
import { type PlainInsertServer, startPlainInsertServer } from './triggers-baseline';
import { type CronMeasurement, measureCron } from './triggers-cron';
import { RequestTally } from './triggers-request-tally';
import {
  asyncOrderIntake,
  createActiveWorkflow,
  deactivateWorkflow,
  EVERY_SECOND,
  HOOK_PATHS,
  orderBody,
  SYNC_ORDER_CHECK,
  syncAnswerFor,
} from './triggers-workflows';

/** The issue's targets. */
const TARGETS = { asyncPerSecond: 3_000, asyncP99Ms: 20, syncPerSecond: 800, syncP99Ms: 50, cronStartMs: 100 } as const;
/** Load before each measurement that is not counted: JIT, caches, pool connections. */
const WARMUP_SECONDS = 2;
/** The tenant pool of `aiq start`, and the baseline's pool. */
const POOL_SIZE = 24;
/** Distinct request bodies, sent round-robin: the order id (and what follows from it) varies per request. */
const BODIES = 1_000;

export interface TriggersBenchOptions {
  /** Measured seconds per HTTP figure. Default: 10. */
  durationSeconds: number;
  /** Concurrent HTTP connections. Default: 50. */
  connections: number;
  /** Cron ticks measured. Default: 10. */
  ticks: number;
  /** Steps the worker runs at once. Default: the server's (AIQ_WORKER_CONCURRENCY's default, 16). */
  concurrency: number;
  /** The tenant on the unlimited plan instead of enterprise with bench quotas. Default: false. */
  unlimited: boolean;
  /** Keep the database. Default: false. */
  keep: boolean;
}

export function compileTriggersBenchOptions(args: readonly string[]): TriggersBenchOptions {
  const options: TriggersBenchOptions = {
    durationSeconds: 10,
    connections: 50,
    ticks: 10,
    concurrency: loadConfig({ AIQ_DATA_DIR: '/nonexistent' }).workerConcurrency,
    unlimited: false,
    keep: false,
  };
  readFlags({
    args,
    usage: '--duration S --connections C --ticks N --concurrency N --unlimited --keep',
    handlers: {
      '--duration': ({ flag, value }) => (options.durationSeconds = wholeNumber(flag, value())),
      '--connections': ({ flag, value }) => (options.connections = wholeNumber(flag, value())),
      '--ticks': ({ flag, value }) => (options.ticks = wholeNumber(flag, value())),
      '--concurrency': ({ flag, value }) => (options.concurrency = wholeNumber(flag, value())),
      '--unlimited': () => (options.unlimited = true),
      '--keep': () => (options.keep = true),
    },
  });
  return options;
}

/** The HTTP figures, in the order they are measured. */
type FigureKind = 'baseline' | 'async' | 'sync';

interface Figure {
  kind: FigureKind;
  label: string;
  /** The status a request is answered with when all goes well. */
  okStatus: number;
  load: LoadResult;
  /** This process's CPU time over the measured part, as a share of one core. */
  serverCpu: number;
}

/** The async figure's durability check: runs recorded against answers given and requests received. */
interface Durability {
  /** Runs of the measured webhook's workflow in the database. */
  runs: number;
  /** 202 answers the load generator read. */
  answered: number;
  /** Requests the server received on the path. */
  received: number;
  /** Requests it answered, to the end, with another status. */
  refused: number;
}

export async function run(args: string[]): Promise<void> {
  const options = compileTriggersBenchOptions(args);
  const config = loadConfig({ AIQ_DATA_DIR: '/nonexistent' });
  const bench = await createBenchDatabase(POOL_SIZE);
  const { db } = bench;
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const figures: Figure[] = [];
  let app: FastifyInstance | undefined;
  let baseline: PlainInsertServer | undefined;
  let worker: Worker | undefined;
  let durability: Durability | undefined;
  let cron: CronMeasurement | undefined;
  try {
    const engine = new Engine({
      db,
      databaseUrl: bench.url,
      connectors: createConnectorRegistry(builtInConnectors),
      logger,
    });
    const deps = createApiDeps({ config, db, engine, connectors: engine.connectors, logger, masterKey: MasterKey.generate() });
    app = await createApiServer({ deps, metrics: new Registry(), ready: async () => true });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('the API server has no TCP address');
    const origin = `http://127.0.0.1:${address.port}`;
    const [tenant] = await onboardBenchTenants(db, { first: 0, count: 1, unlimited: options.unlimited });
    if (!tenant) throw new Error('no tenant was onboarded');
    const { apiKey } = tenant;
    const hookPath = (path: string): string => `/hooks/${tenant.slug}/${path}`;

    print(
      `triggers benchmark — ${bench.describe}, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}); ` +
        `${options.connections} connections, ${options.durationSeconds} s per HTTP figure after ${WARMUP_SECONDS} s of warm-up; ` +
        `RLS on, one tenant (${tenant.slug}, onboarded) on the ${options.unlimited ? 'unlimited plan' : 'enterprise plan with bench quotas (limiter, runsPerDay, concurrency slots live)'}; ` +
        `worker concurrency ${options.concurrency}, sync wait ${config.webhookSyncTimeoutMs / 1_000} s`,
    );
    print(
      `the load generator (${loadGenerator}) is a child process on the same ${cpus().length} cores as this server (API, worker, scheduler) and PostgreSQL; ` +
        `POST bodies of ~${orderBody(0).length} bytes of JSON, ${int(BODIES)} distinct (the order varies per request), round-robin`,
    );
    print(`\n${header()}`);

    const bodies = Array.from({ length: BODIES }, (_, i) => orderBody(i));
    const posts = (path: string): LoadRequest[] =>
      bodies.map((body) => ({ path, headers: { 'content-type': 'application/json' }, body }));

    /** Measures one figure; `warmup`: a load of its own before it instead of the same requests' (then not counted by the server's tally). */
    const measure = async (
      figure: Omit<Figure, 'load' | 'serverCpu'> & { origin: string; requests: readonly LoadRequest[]; warmup?: readonly LoadRequest[] },
    ): Promise<Figure> => {
      const spec = { origin: figure.origin, method: 'POST' as const, connections: options.connections };
      if (figure.warmup) await generateLoad({ ...spec, durationSeconds: WARMUP_SECONDS, warmupSeconds: 0, requests: figure.warmup });
      let cpuAtStart = process.cpuUsage();
      let wallAtStart = performance.now();
      const load = await generateLoad(
        {
          ...spec,
          durationSeconds: options.durationSeconds,
          warmupSeconds: figure.warmup ? 0 : WARMUP_SECONDS,
          requests: figure.requests,
        },
        () => {
          cpuAtStart = process.cpuUsage();
          wallAtStart = performance.now();
        },
      );
      const cpu = process.cpuUsage(cpuAtStart);
      const measured: Figure = {
        kind: figure.kind,
        label: figure.label,
        okStatus: figure.okStatus,
        load,
        serverCpu: (cpu.user + cpu.system) / 1_000 / (performance.now() - wallAtStart),
      };
      figures.push(measured);
      print(row(measured));
      return measured;
    };

    // 1. The baseline.
    baseline = await startPlainInsertServer({ url: bench.url, poolSize: POOL_SIZE });
    await expectAnswer({ url: `${baseline.origin}/`, body: orderBody(0), status: 200 });
    await measure({
      kind: 'baseline',
      label: 'baseline: node:http + pg, 1 INSERT/request',
      okStatus: 200,
      origin: baseline.origin,
      requests: posts('/'),
    });
    await baseline.close();
    baseline = undefined;

    // 2. respond: async, no worker: accepting only.
    const asyncWorkflow = await createActiveWorkflow({ origin, apiKey, definition: asyncOrderIntake(HOOK_PATHS.async) });
    const warmupWorkflow = await createActiveWorkflow({ origin, apiKey, definition: asyncOrderIntake(HOOK_PATHS.asyncWarmup) });
    const queued = await expectAnswer({ url: `${origin}${hookPath(HOOK_PATHS.asyncWarmup)}`, body: orderBody(0), status: 202 });
    if ((queued as { status?: unknown }).status !== 'queued') throw new Error(`the async webhook answered ${JSON.stringify(queued)}`);
    const tally = new RequestTally({ server: app.server, path: hookPath(HOOK_PATHS.async), accepted: 202 });
    const accepted = await measure({
      kind: 'async',
      label: 'webhook respond: async (202), no worker',
      okStatus: 202,
      origin,
      requests: posts(hookPath(HOOK_PATHS.async)),
      warmup: posts(hookPath(HOOK_PATHS.asyncWarmup)),
    });
    // The load generator hangs up with requests in flight; their handlers still run to the end.
    await untilPoolIdle(db);
    durability = {
      runs: await countRuns(db, { tenantId: tenant.tenantId, workflowId: asyncWorkflow }),
      answered: accepted.load.statusCodes['202'] ?? 0,
      received: tally.received,
      refused: tally.refused,
    };

    // The accepted runs would otherwise be drained by the worker during the sync figure.
    let started = performance.now();
    const removed = await removeRuns(bench.url, { tenantId: tenant.tenantId, workflowIds: [asyncWorkflow, warmupWorkflow] });
    const settled = await settle(bench.url);
    const clearing = `${int(removed)} async runs deleted before the worker started, VACUUM ANALYZE + CHECKPOINT: ${((performance.now() - started) / 1_000).toFixed(1)} s`;

    // 3. respond: sync, with a worker in this process.
    worker = engine.createWorker({ workerId: 'bench-triggers', concurrency: options.concurrency });
    await worker.start();
    await createActiveWorkflow({ origin, apiKey, definition: SYNC_ORDER_CHECK });
    const answer = await expectAnswer({ url: `${origin}${hookPath(HOOK_PATHS.sync)}`, body: orderBody(7), status: 200 });
    if (!isDeepStrictEqual(answer, syncAnswerFor(7)))
      throw new Error(`the sync webhook answered ${JSON.stringify(answer)}, not ${JSON.stringify(syncAnswerFor(7))}`);
    await measure({
      kind: 'sync',
      label: `webhook respond: sync (200), worker of ${options.concurrency}`,
      okStatus: 200,
      origin,
      requests: posts(hookPath(HOOK_PATHS.sync)),
    });
    await untilPoolIdle(db);

    // 4. Cron, with the worker and no HTTP load.
    const cronWorkflow = await createActiveWorkflow({ origin, apiKey, definition: EVERY_SECOND });
    started = performance.now();
    cron = await measureCron({ db, engine, logger, tenantId: tenant.tenantId, workflowId: cronWorkflow, ticks: options.ticks });
    const cronSeconds = (performance.now() - started) / 1_000;
    await deactivateWorkflow({ origin, apiKey, workflowId: cronWorkflow });

    print('');
    print(`durability (async): ${durabilityLine(durability)}`);
    print(`  ${clearing}`);
    if (settled.note) print(`  note: ${settled.note}`);
    print(ratioLine(figures));
    print('');
    print(cronTable(cron, cronSeconds, options.ticks));
    print('');
    print(summary({ figures, durability, cron, options }));
  } finally {
    await baseline?.close();
    await worker?.stop();
    if (app) {
      await app.close();
      await untilPoolIdle(db);
    }
    if (options.keep) {
      await db.close();
      print(`kept the database: ${bench.url}`);
    } else {
      await bench.drop();
    }
  }
}

/** One request outside the load, to prove the measured requests are answered as they should be; returns the answer's JSON. */
async function expectAnswer(args: { url: string; body: string; status: number }): Promise<unknown> {
  const response = await fetch(args.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: args.body });
  const text = await response.text();
  if (response.status !== args.status) throw new Error(`POST ${args.url} answered ${response.status}, not ${args.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

async function countRuns(db: Database, args: { tenantId: string; workflowId: string }): Promise<number> {
  const { rows } = await db.systemQuery<{ n: number }>(
    'bench: count the runs of a webhook',
    'SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND workflow_id = $2',
    [args.tenantId, args.workflowId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Deletes the runs of `workflowIds` (their steps and jobs go with them) as the database owner, and
 * gives back the tenant's concurrency slots, which only those runs held. Returns the runs deleted.
 */
async function removeRuns(ownerUrl: string, args: { tenantId: string; workflowIds: readonly string[] }): Promise<number> {
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    const { rowCount } = await owner.query('DELETE FROM runs WHERE tenant_id = $1 AND workflow_id = ANY ($2::uuid[])', [
      args.tenantId,
      args.workflowIds,
    ]);
    await owner.query('UPDATE concurrency_slots SET active = 0 WHERE tenant_id = $1', [args.tenantId]);
    return rowCount ?? 0;
  } finally {
    await owner.end();
  }
}

function header(): string {
  return `${'figure'.padEnd(44)}${['req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx', 'srv CPU'].map((h) => h.padStart(9)).join('')}`;
}

/** Answers with the figure's status per second. */
function okPerSecond(figure: Figure): number {
  return (figure.load.statusCodes[String(figure.okStatus)] ?? 0) / figure.load.seconds;
}

function row(figure: Figure): string {
  const { label, load, serverCpu } = figure;
  const { latencyMs: l } = load;
  const cells = [
    int(okPerSecond(figure)),
    fixed(l.p50),
    fixed(l.p90),
    fixed(l.p99),
    fixed(l.max, 1),
    String(load.errors),
    String(load.non2xx),
    `${Math.round(serverCpu * 100)}%`,
  ];
  const notes: string[] = [];
  if (figure.kind === 'sync') notes.push(`202 (sync wait ran out): ${load.statusCodes['202'] ?? 0}`);
  const others = Object.keys(load.statusCodes).some((code) => code !== String(figure.okStatus));
  if (others) notes.push(`status codes ${JSON.stringify(load.statusCodes)}`);
  return `${label.padEnd(44)}${cells.map((c) => c.padStart(9)).join('')}${notes.map((n) => `  ${n}`).join('')}`;
}

/** Every request received has its run, but those refused with an answer; every 202 read has its run. */
function durable(d: Durability): boolean {
  return d.runs === d.received - d.refused && d.answered <= d.runs;
}

function durabilityLine(d: Durability): string {
  const inFlight = d.received - d.refused - d.answered;
  const received = `requests the server received ${int(d.received)}${d.refused > 0 ? ` - refused with an answer ${int(d.refused)}` : ''}`;
  return (
    `runs recorded ${int(d.runs)} ${durable(d) ? '=' : '!='} ${received} ` +
    `(202 answers read by the load generator ${int(d.answered)}, in flight when it hung up at the end ${int(inFlight)}): ` +
    (durable(d) ? 'VERIFIED' : 'FAILED')
  );
}

function ratioLine(figures: readonly Figure[]): string {
  const base = figures.find((f) => f.kind === 'baseline');
  const parts = figures
    .filter((f) => f.kind !== 'baseline')
    .map((f) => `${f.kind} x${base ? (okPerSecond(f) / okPerSecond(base)).toFixed(2) : '?'}`);
  return `vs the baseline (req/s): ${parts.join(', ')}; req/s counts the answers with the figure's status (200, 202, 200)`;
}

function cronTable(cron: CronMeasurement, seconds: number, wanted: number): string {
  const lines = [
    `cron * * * * * * with the worker, no HTTP load: ${cron.ticks.length} ticks measured (${cron.warmupTicks} warm-up tick not counted) in ${seconds.toFixed(1)} s` +
      (cron.ticks.length < wanted ? ` — only ${cron.ticks.length} of ${wanted} ticks fired in time` : ''),
    `${'after the scheduled second'.padEnd(44)}${['p50 ms', 'p99 ms', 'max ms', 'ticks'].map((h) => h.padStart(9)).join('')}`,
  ];
  const stat = (label: string, values: number[]): string => {
    const sorted = [...values].sort((a, b) => a - b);
    const cells = [percentile(sorted, 50), percentile(sorted, 99), sorted.at(-1) ?? Number.NaN].map((v) => v.toFixed(1));
    return `${label.padEnd(44)}${[...cells, String(values.length)].map((c) => c.padStart(9)).join('')}`;
  };
  lines.push(stat('run recorded (runs.created_at)', cron.ticks.map((t) => t.recordedMs)));
  const started = cron.ticks.flatMap((t) => (t.startedMs === undefined ? [] : [t.startedMs]));
  lines.push(stat('first step started (runs.started_at)', started));
  const unstarted = cron.ticks.length - started.length;
  if (unstarted > 0) lines.push(`  ${unstarted} runs not started by the worker when the wait ended`);
  return lines.join('\n');
}

function summary(args: {
  figures: readonly Figure[];
  durability: Durability;
  cron: CronMeasurement;
  options: TriggersBenchOptions;
}): string {
  const verdict = (ok: boolean): string => (ok ? 'MET' : 'MISSED');
  const parts: string[] = [];
  const webhook = (kind: FigureKind, perSecond: number, p99Ms: number): void => {
    const figure = args.figures.find((f) => f.kind === kind);
    if (!figure) return;
    const rate = okPerSecond(figure);
    const p99 = figure.load.latencyMs.p99;
    parts.push(
      `webhook ${kind} ${int(rate)}/s, p99 ${p99.toFixed(2)} ms (>= ${int(perSecond)}/s with p99 < ${p99Ms} ms: ${verdict(rate >= perSecond && p99 < p99Ms)})`,
    );
  };
  webhook('async', TARGETS.asyncPerSecond, TARGETS.asyncP99Ms);
  webhook('sync', TARGETS.syncPerSecond, TARGETS.syncP99Ms);
  const starts = args.cron.ticks.map((t) => t.startedMs ?? Number.POSITIVE_INFINITY);
  const latest = starts.length > 0 ? Math.max(...starts) : Number.NaN;
  const allStarted = args.cron.ticks.length >= args.options.ticks && Number.isFinite(latest);
  parts.push(
    `cron started at most ${Number.isFinite(latest) ? latest.toFixed(1) : '∞'} ms after the second over ${args.cron.ticks.length} ticks ` +
      `(< ${TARGETS.cronStartMs} ms: ${verdict(allStarted && latest < TARGETS.cronStartMs)})`,
  );
  parts.push(`durability ${durable(args.durability) ? 'VERIFIED' : 'FAILED'}`);
  const failures = args.figures.reduce((n, f) => n + f.load.errors + f.load.non2xx, 0);
  parts.push(`errors + non-2xx: ${failures}${failures === 0 ? '' : ' (MUST be 0)'}`);
  return `targets (${args.options.connections} connections): ${parts.join(' | ')}`;
}
