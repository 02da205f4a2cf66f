/**
 * `npm run bench -- api`: the HTTP API's figures with row-level security on and a multi-tenant
 * history in the database. Onboards tenants (each with a 3-node transform workflow and a history of
 * finished runs, 3 step rows each, seeded with SQL), serves the API in this process on 127.0.0.1 (no
 * worker: started runs stay queued) and loads it with wrk (else autocannon, see api-load.ts). Prints, each
 * measured after a warm-up:
 *  - GET /v1/runs/:id of one tenant, round-robin over all its runs, with 1 tenant in the database
 *    and again with N (the same tenant, the same runs);
 *  - POST /v1/workflows/:id/runs, all to that tenant, then spread over every tenant;
 * with requests/s, p50/p90/p99/max latency, errors, non-2xx answers and this process's CPU, then a
 * line against the targets (GET p99 < 10 ms, >= 5,000 GET/s, POST p99 < 20 ms at 50 connections).
 * Options: --tenants N (default 100), --runs-per-tenant N (default 10000), --duration S (default 10),
 * --connections C (default 50), --no-baseline (skip the 1-tenant GET), --unlimited (tenants on the
 * unlimited plan: no quota compared), --only get|post (one path, e.g. to profile it), --keep (keep
 * the database).
 * The load generator shares the machine's cores with the server and PostgreSQL.
 */
import { availableParallelism, cpus } from 'node:os';
import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createApiDeps } from '../apps/server/src/api/api-deps';
import { createApiServer } from '../apps/server/src/api/server';
import { loadConfig } from '../apps/server/src/config';
import { Engine } from '../apps/server/src/engine';
import { MasterKey } from '../apps/server/src/security/master-key';
import { generateLoad, type LoadRequest, type LoadResult, loadGenerator } from './api-load';
import { type BenchTenant, BENCH_NODES, onboardBenchTenants, runIdsOf, seedRuns, settle } from './api-seed';
import { createBenchDatabase, untilPoolIdle } from './bench-database';
import { fixed, int, print } from './bench-output';
import { readFlags, wholeNumber } from './bench-flags';

/** The targets. */
const TARGETS = { getP99Ms: 10, getPerSecond: 5_000, postP99Ms: 20 } as const;
/** Load before each measurement that is not counted: JIT, caches, pool connections. */
const WARMUP_SECONDS = 2;
/** The tenant pool of `aiq start`. */
const POOL_SIZE = 24;

export interface ApiBenchOptions {
  /** Tenants in the database for the main figures. Default: 100. */
  tenants: number;
  /** Finished runs seeded per tenant. Default: 10,000. */
  runsPerTenant: number;
  /** Measured seconds per figure. Default: 10. */
  durationSeconds: number;
  /** Concurrent HTTP connections. Default: 50. */
  connections: number;
  /** Measure the GET with 1 tenant first. Default: true. */
  baseline: boolean;
  /** Tenants on the unlimited plan instead of enterprise with bench quotas. Default: false. */
  unlimited: boolean;
  /** Keep the database. Default: false. */
  keep: boolean;
  /** Measure only the reads or only the starts (e.g. to profile one path). Default: both. */
  only: 'get' | 'post' | undefined;
}

export function compileApiBenchOptions(args: readonly string[]): ApiBenchOptions {
  const options: ApiBenchOptions = {
    tenants: 100,
    runsPerTenant: 10_000,
    durationSeconds: 10,
    connections: 50,
    baseline: true,
    unlimited: false,
    keep: false,
    only: undefined,
  };
  readFlags({
    args,
    usage: '--tenants N --runs-per-tenant N --duration S --connections C --no-baseline --unlimited --only get|post --keep',
    handlers: {
      '--tenants': ({ flag, value }) => (options.tenants = wholeNumber(flag, value())),
      '--runs-per-tenant': ({ flag, value }) => (options.runsPerTenant = wholeNumber(flag, value())),
      '--duration': ({ flag, value }) => (options.durationSeconds = wholeNumber(flag, value())),
      '--connections': ({ flag, value }) => (options.connections = wholeNumber(flag, value())),
      '--no-baseline': () => (options.baseline = false),
      '--unlimited': () => (options.unlimited = true),
      '--keep': () => (options.keep = true),
      '--only': ({ value }) => {
        const what = value();
        if (what !== 'get' && what !== 'post') throw new Error('--only takes get or post');
        options.only = what;
      },
    },
  });
  return options;
}

interface Figure {
  label: string;
  load: LoadResult;
  /** This process's CPU time over the measured part, as a share of one core. */
  serverCpu: number;
}

export async function run(args: string[]): Promise<void> {
  const options = compileApiBenchOptions(args);
  const bench = await createBenchDatabase(POOL_SIZE);
  const { db } = bench;
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const figures: Figure[] = [];
  const tenants: BenchTenant[] = [];
  let app: FastifyInstance | undefined;
  try {
    const engine = new Engine({
      db,
      databaseUrl: bench.url,
      connectors: createConnectorRegistry(builtInConnectors),
      logger,
    });
    const deps = createApiDeps({
      config: loadConfig({ AIQ_DATA_DIR: '/nonexistent' }),
      db,
      engine,
      connectors: engine.connectors,
      logger,
      masterKey: MasterKey.generate(),
    });
    app = await createApiServer({ deps, metrics: new Registry(), ready: async () => true });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('the API server has no TCP address');
    const origin = `http://127.0.0.1:${address.port}`;

    print(
      `api benchmark — ${bench.describe}, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}); ` +
        `${options.connections} connections, ${options.durationSeconds} s per figure after ${WARMUP_SECONDS} s of warm-up; ` +
        `RLS on, ${options.unlimited ? 'unlimited plan' : 'enterprise plan with bench quotas (limiter, runsPerDay, concurrency slots live)'}`,
    );
    print(`the load generator (${loadGenerator}) is a child process on the same cores as this server and PostgreSQL`);

    const measure = async (label: string, method: 'GET' | 'POST', requests: readonly LoadRequest[]): Promise<Figure> => {
      let cpuAtStart = process.cpuUsage();
      let wallAtStart = performance.now();
      const load = await generateLoad(
        {
          origin,
          method,
          connections: options.connections,
          durationSeconds: options.durationSeconds,
          warmupSeconds: WARMUP_SECONDS,
          requests,
        },
        () => {
          cpuAtStart = process.cpuUsage();
          wallAtStart = performance.now();
        },
      );
      const cpu = process.cpuUsage(cpuAtStart);
      const figure = { label, load, serverCpu: (cpu.user + cpu.system) / 1_000 / (performance.now() - wallAtStart) };
      figures.push(figure);
      print(row(figure));
      return figure;
    };

    const stages =
      options.baseline && options.only !== 'post' && options.tenants > 1 ? [1, options.tenants] : [options.tenants];
    for (const stage of stages) {
      await addTenants(stage);
      const first = tenants[0];
      if (!first) throw new Error('no tenant was seeded');
      if (stage === stages[0]) print(`\n${header()}`);
      if (options.only === 'post') continue;
      const ids = await runIdsOf(db, first.tenantId);
      await expectStatus(origin, 'GET', `/v1/runs/${ids[0]}`, first.apiKey, undefined, 200);
      await measure(
        `GET /v1/runs/:id, ${plural(stage, 'tenant')}`,
        'GET',
        ids.map((id) => ({ path: `/v1/runs/${id}`, headers: { authorization: `Bearer ${first.apiKey}` } })),
      );
    }

    const body = JSON.stringify({
      input: {
        orderId: 'ord-00000042',
        customer: { id: 'cus_5f2b8c1e9a3d47', email: 'buyer42@example.com', tier: 'gold' },
        items: [
          { sku: 'SKU-42', qty: 3, price: 19.5 },
          { sku: 'SKU-7', qty: 1, price: 9.99 },
        ],
        currency: 'EUR',
      },
    });
    const start = (tenant: BenchTenant): LoadRequest => ({
      path: `/v1/workflows/${tenant.workflowId}/runs`,
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
      body,
    });
    const [first] = tenants;
    if (!first) throw new Error('no tenant was seeded');
    if (options.only !== 'get') {
      for (const tenant of tenants) await expectStatus(origin, 'POST', start(tenant).path, tenant.apiKey, body, 202);
      await measure('POST /v1/workflows/:id/runs, one tenant', 'POST', [start(first)]);
      if (tenants.length > 1) {
        await measure(`POST /v1/workflows/:id/runs, over ${plural(tenants.length, 'tenant')}`, 'POST', tenants.map(start));
      }
    }

    print('');
    print(summary(figures, options));
  } finally {
    if (app) {
      // The load generator hangs up with requests in flight; their handlers still run to the end.
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

  /** Onboards and seeds tenants until there are `count`, then settles the tables. */
  async function addTenants(count: number): Promise<void> {
    const adding = count - tenants.length;
    if (adding <= 0) return;
    let started = performance.now();
    const added = await onboardBenchTenants(db, { first: tenants.length, count: adding, unlimited: options.unlimited });
    tenants.push(...added);
    const onboardSeconds = (performance.now() - started) / 1_000;
    started = performance.now();
    const seeded = await seedRuns(db, {
      ownerUrl: bench.url,
      tenants: added,
      runsPerTenant: options.runsPerTenant,
      parallel: Math.min(4, availableParallelism()),
      onTenant: (done) => {
        if (done % 10 === 0 && done < adding) process.stderr.write(`  seeding: ${done} of ${adding} tenants\n`);
      },
    });
    const seedSeconds = (performance.now() - started) / 1_000;
    started = performance.now();
    const settled = await settle(bench.url);
    const settleSeconds = (performance.now() - started) / 1_000;
    print(
      `seeded ${plural(adding, 'tenant')} (${tenants.length} in all): onboarding ${onboardSeconds.toFixed(1)} s; ` +
        `${int(seeded.runs)} runs and ${int(seeded.steps)} step rows in ${seedSeconds.toFixed(1)} s ` +
        `(${int(seeded.runs / seedSeconds)} runs/s); VACUUM ANALYZE + CHECKPOINT ${settleSeconds.toFixed(1)} s`,
    );
    if (settled.note) print(`  note: ${settled.note}`);
  }
}

/** One request outside the load, to prove the measured requests are answered as they should be. */
async function expectStatus(
  origin: string,
  method: 'GET' | 'POST',
  path: string,
  apiKey: string,
  body: string | undefined,
  status: number,
): Promise<void> {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body } : {}),
  });
  const text = await response.text();
  if (response.status !== status) throw new Error(`${method} ${path} answered ${response.status}, not ${status}: ${text}`);
  if (method === 'GET') {
    const steps = (JSON.parse(text) as { steps?: unknown[] }).steps?.length;
    if (steps !== BENCH_NODES.length) throw new Error(`${path} has ${steps} steps, not ${BENCH_NODES.length}`);
  }
}

function plural(n: number, noun: string): string {
  return `${int(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function header(): string {
  return `${'figure'.padEnd(48)}${['req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx', 'srv CPU'].map((h) => h.padStart(9)).join('')}`;
}

function row({ label, load, serverCpu }: Figure): string {
  const { latencyMs: l } = load;
  const cells = [
    int(load.requestsPerSecond),
    fixed(l.p50),
    fixed(l.p90),
    fixed(l.p99),
    fixed(l.max, 1),
    String(load.errors),
    String(load.non2xx),
    `${Math.round(serverCpu * 100)}%`,
  ];
  const codes = load.non2xx > 0 ? `  status codes ${JSON.stringify(load.statusCodes)}` : '';
  return `${label.padEnd(48)}${cells.map((c) => c.padStart(9)).join('')}${codes}`;
}

function summary(figures: readonly Figure[], options: ApiBenchOptions): string {
  const getFigures = figures.filter((f) => f.label.startsWith('GET'));
  const get = getFigures.at(-1);
  const baseline = getFigures.length > 1 ? getFigures[0] : undefined;
  const post = figures.find((f) => f.label.startsWith('POST'));
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const parts: string[] = [];
  if (get) {
    parts.push(
      `GET p99 ${get.load.latencyMs.p99.toFixed(2)} ms (< ${TARGETS.getP99Ms}: ${verdict(get.load.latencyMs.p99 < TARGETS.getP99Ms)})`,
      `GET ${int(get.load.requestsPerSecond)}/s (>= ${int(TARGETS.getPerSecond)}: ${verdict(get.load.requestsPerSecond >= TARGETS.getPerSecond)})`,
    );
  }
  if (post) {
    parts.push(
      `POST p99 ${post.load.latencyMs.p99.toFixed(2)} ms, one tenant (< ${TARGETS.postP99Ms}: ${verdict(post.load.latencyMs.p99 < TARGETS.postP99Ms)})`,
    );
  }
  if (get && baseline) {
    parts.push(
      `GET with ${options.tenants} tenants vs 1: p99 x${(get.load.latencyMs.p99 / baseline.load.latencyMs.p99).toFixed(2)}, ` +
        `req/s x${(get.load.requestsPerSecond / baseline.load.requestsPerSecond).toFixed(2)}`,
    );
  }
  const failures = figures.reduce((n, f) => n + f.load.errors + f.load.non2xx, 0);
  parts.push(`errors + non-2xx: ${failures}${failures === 0 ? '' : ' (MUST be 0)'}`);
  return `targets (${options.connections} connections): ${parts.join(' | ')}`;
}
