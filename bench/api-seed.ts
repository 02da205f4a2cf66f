/**
 * The API bench's tenants and history: tenants onboarded as a platform admin would, each with one
 * small transform workflow, and a bulk history of finished runs written with one SQL statement per
 * tenant on the system path (no per-row round trips), as the engine would have left them.
 */
import { PLAN_QUOTAS, type Quotas } from '@automateiq/contracts';
import type { WorkflowDefinition } from '@automateiq/core';
import pg from 'pg';
import { SYSTEM_ACTOR } from '../apps/server/src/security/principal';
import type { Database } from '../apps/server/src/store/database';
import { updateTenant } from '../apps/server/src/store/queries/update-tenant';
import { onboardTenant } from '../apps/server/src/tenancy/onboard-tenant';
import { saveWorkflowByName } from '../apps/server/src/workflows/save-workflow-by-name';

export interface BenchTenant {
  tenantId: string;
  slug: string;
  /** The onboarding API key (every scope). */
  apiKey: string;
  workflowId: string;
  version: number;
}

/** Node ids of the bench workflow; every seeded run has one step row per node. */
export const BENCH_NODES = ['n0', 'n1', 'n2'] as const;

/** Three transforms in a chain: what an order-intake workflow that reshapes its input looks like. */
export const BENCH_WORKFLOW: WorkflowDefinition = {
  name: 'order intake',
  nodes: [
    { id: 'n0', type: 'transform', params: { value: { orderId: '{{ input.orderId }}', lines: '{{ $count(input.items) }}' } } },
    { id: 'n1', type: 'transform', params: { value: { orderId: '{{ steps.n0.output.orderId }}', checked: true } } },
    { id: 'n2', type: 'transform', params: { value: { orderId: '{{ steps.n1.output.orderId }}', status: 'accepted' } } },
  ],
  edges: [
    { from: 'n0', to: 'n1' },
    { from: 'n1', to: 'n2' },
  ],
};

/**
 * Quotas that never refuse a bench request but keep every quota path live: the per-tenant rate
 * limiter compares against a limit, starts count against runsPerDay and take a concurrency slot.
 */
const BENCH_QUOTAS: Quotas = {
  ...PLAN_QUOTAS.enterprise,
  apiRequestsPerMinute: 10_000_000,
  runsPerDay: 1_000_000_000,
  concurrentRuns: 1_000_000,
};

/**
 * Onboards tenants `bench-<first>` … `bench-<first + count - 1>`, each with the bench workflow.
 * `unlimited`: the unlimited plan (no quotas: no limit compared, no concurrency slot) instead of
 * enterprise with the bench quotas.
 */
export async function onboardBenchTenants(
  db: Database,
  args: { first: number; count: number; unlimited: boolean },
): Promise<BenchTenant[]> {
  const tenants: BenchTenant[] = [];
  for (let i = args.first; i < args.first + args.count; i++) {
    const slug = `bench-${i}`;
    const onboarded = await onboardTenant(db, {
      name: `Bench ${i}`,
      slug,
      ownerEmail: `owner@${slug}.example.com`,
      plan: args.unlimited ? 'unlimited' : 'enterprise',
      actor: SYSTEM_ACTOR,
    });
    const tenantId = onboarded.tenant.id;
    if (!args.unlimited) {
      await db.withSystem('bench: raise the quotas', (tx) => updateTenant(tx, { tenantId, quotas: BENCH_QUOTAS }));
    }
    const workflow = await saveWorkflowByName(db, { tenantId, definition: BENCH_WORKFLOW });
    tenants.push({ tenantId, slug, apiKey: onboarded.apiKey.key, ...workflow });
  }
  return tenants;
}

/** A UUIDv7 for the instant `at` (a timestamptz expression): 48 bits of epoch ms, then random bits. */
function uuidV7Sql(at: string): string {
  // gen_random_uuid() is a v4; its first 6 bytes become the time and the version nibble 0100 becomes 0111.
  return `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
            PLACING substring(int8send(floor(extract(epoch FROM ${at}) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
            52, 1), 53, 1), 'hex')::uuid`;
}

/**
 * One tenant's history in one statement: `runs` finished runs created over the last 90 days (ids
 * time-ordered with created_at), 94% succeeded, 4% failed at the last node, 2% cancelled there, each
 * with a ~200-byte input and output and one step row per node. The steps are computed from the same
 * rows as their runs rather than from the runs' RETURNING, which would cost more than the inserts.
 * $1 tenant, $2 workflow, $3 version, $4 runs.
 */
const SEED_RUNS = `
WITH spread AS MATERIALIZED (
  SELECT n, at, ${uuidV7Sql('at')} AS id,
         CASE WHEN n % 25 = 0 THEN 'failed' WHEN n % 50 = 1 THEN 'cancelled' ELSE 'succeeded' END AS status,
         'ord-' || lpad(n::text, 8, '0') AS order_id,
         jsonb_build_object('id', 'cus_' || left(md5(n::text), 14), 'email', 'buyer' || n || '@example.com',
                            'tier', (ARRAY['free', 'pro', 'gold'])[1 + n % 3]) AS customer,
         round((n % 10000) / 100.0, 2) AS price
    FROM generate_series(1, $4::int) AS n,
         LATERAL (SELECT now() - make_interval(secs => ($4::int - n + random()) * (90 * 86400.0 / $4::int)) AS at) AS t
), run_rows AS (
  INSERT INTO runs (tenant_id, id, workflow_id, version, status, priority, trigger, input, output, error,
                    created_at, started_at, finished_at, revision)
  SELECT $1, id, $2, $3, status, 1,
         jsonb_build_object('type', 'api', 'by', 'onboarding key', 'firedAt', at),
         jsonb_build_object(
           'orderId', order_id, 'customer', customer,
           'items', jsonb_build_array(
             jsonb_build_object('sku', 'SKU-' || (n % 977), 'qty', 1 + n % 4, 'price', price),
             jsonb_build_object('sku', 'SKU-' || (n % 613), 'qty', 1, 'price', 9.99)),
           'currency', 'EUR'),
         CASE WHEN status = 'succeeded' THEN jsonb_build_object(
           'orderId', order_id, 'status', 'accepted', 'lines', 2, 'total', price + 9.99,
           'reference', md5(order_id), 'acceptedAt', at + interval '40 ms') END,
         CASE status
           WHEN 'failed' THEN '{"code":"EXPRESSION_FAILED","message":"steps.n1.output.orderId is undefined","retryable":false}'::jsonb
           WHEN 'cancelled' THEN '{"code":"RUN_CANCELLED","message":"the run was cancelled","retryable":false}'::jsonb
         END,
         at, at + interval '3 ms', at + interval '30 ms' + random() * interval '40 ms', 6
    FROM spread
)
INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status, port, output, error,
                   created_at, started_at, finished_at)
SELECT $1, r.id, '', 'n' || k, 1, s.status, NULL,
       CASE WHEN s.status = 'succeeded' THEN jsonb_build_object(
         'orderId', r.order_id, 'node', 'n' || k, 'lines', 2, 'checked', k > 0,
         'customer', r.customer, 'total', r.price + 9.99) END,
       CASE WHEN s.status = 'failed' THEN
         '{"code":"EXPRESSION_FAILED","message":"steps.n1.output.orderId is undefined","retryable":false}'::jsonb END,
       r.at + k * interval '10 ms', r.at + k * interval '10 ms' + interval '3 ms', r.at + k * interval '10 ms' + interval '9 ms'
  FROM spread r
 CROSS JOIN generate_series(0, ${BENCH_NODES.length - 1}) AS k
 CROSS JOIN LATERAL (SELECT CASE WHEN k < ${BENCH_NODES.length - 1} OR r.status = 'succeeded' THEN 'succeeded'
                                 ELSE r.status END AS status) AS s`;

/**
 * Writes `runsPerTenant` finished runs (and their step rows) for every tenant, `parallel` tenants at
 * a time, each tenant in one transaction on the system path. Returns the rows written.
 *
 * The foreign keys of runs and steps are dropped for the load and added back after it, validated in
 * one pass, as pg_restore does (as the database owner, `ownerUrl`). Checked row by row instead, each
 * check is planned on statistics that predate the rows being written, and PostgreSQL then picks any
 * index that leads with tenant_id and filters the tenant's whole history for the run id: seen, 840 µs
 * a step row and 18 minutes for 1M runs.
 */
export async function seedRuns(
  db: Database,
  args: {
    ownerUrl: string;
    tenants: readonly BenchTenant[];
    runsPerTenant: number;
    parallel: number;
    /** Called after each tenant with the number of tenants done. */
    onTenant?: (done: number) => void;
  },
): Promise<{ runs: number; steps: number }> {
  let next = 0;
  let done = 0;
  let steps = 0;
  await withoutForeignKeys(args.ownerUrl, ['runs', 'steps'], () =>
    Promise.all(
      Array.from({ length: Math.max(1, args.parallel) }, async () => {
        for (let tenant = args.tenants[next++]; tenant; tenant = args.tenants[next++]) {
          const { rowCount } = await db.withSystem('bench: seed a tenant history', (tx) =>
            tx.query(SEED_RUNS, [tenant.tenantId, tenant.workflowId, tenant.version, args.runsPerTenant]),
          );
          steps += rowCount ?? 0;
          args.onTenant?.(++done);
        }
      }),
    ),
  );
  return { runs: args.tenants.length * args.runsPerTenant, steps };
}

/** Runs `fn` with the foreign keys of `tables` dropped, and adds them back (validated) after it. */
async function withoutForeignKeys<T>(ownerUrl: string, tables: readonly string[], fn: () => Promise<T>): Promise<T> {
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    const { rows: keys } = await owner.query<{ drop: string; add: string }>(
      `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
              format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS add
         FROM pg_constraint
        WHERE contype = 'f' AND conrelid = ANY ($1::regclass[])`,
      [tables],
    );
    for (const key of keys) await owner.query(key.drop);
    try {
      return await fn();
    } finally {
      for (const key of keys) await owner.query(key.add);
    }
  } finally {
    await owner.end();
  }
}

/**
 * Leaves the tables as a long-lived database would have them, so that nothing runs behind the
 * measurement: VACUUM (visibility map, hint bits) and ANALYZE, then a CHECKPOINT. As the database
 * owner; a CHECKPOINT refused for want of privilege is reported, not fatal.
 */
export async function settle(ownerUrl: string): Promise<{ note?: string }> {
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    await owner.query('VACUUM (ANALYZE) runs, steps, jobs, tenants, api_keys, workflows, workflow_versions');
    try {
      await owner.query('CHECKPOINT');
      return {};
    } catch (error) {
      if ((error as { code?: string }).code !== '42501') throw error;
      return { note: 'CHECKPOINT not allowed for this user: a checkpoint may fall inside a measurement' };
    }
  } finally {
    await owner.end();
  }
}

/** Every run id of a tenant, shuffled (the GET bench reads them in this order, round-robin). */
export async function runIdsOf(db: Database, tenantId: string): Promise<string[]> {
  const { rows } = await db.systemQuery<{ id: string }>('bench: the run ids to read', 'SELECT id FROM runs WHERE tenant_id = $1', [
    tenantId,
  ]);
  const ids = rows.map((r) => r.id);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [ids[i], ids[j]] = [ids[j] as string, ids[i] as string];
  }
  return ids;
}
