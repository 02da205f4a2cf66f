import { CronSchedule } from '@automateiq/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/store/database';
import { Scheduler } from '../../src/triggers/scheduler';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';

const logger = pino({ level: process.env.AIQ_TEST_LOG ?? 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Cron triggers: exactly one run per tick across schedulers, restarts, misfires, daylight saving. */
describe('the cron scheduler', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  beforeAll(async () => {
    h = await startApiHarness();
    acme = await h.tenant('acme');
  });
  afterAll(() => h?.close());

  async function cronWorkflow(name: string, trigger: Record<string, unknown>, tenant = acme): Promise<string> {
    const created = await h.call({
      method: 'POST',
      url: '/v1/workflows',
      token: tenant.key,
      body: { definition: { name, triggers: [{ type: 'cron', ...trigger }], nodes: [{ id: 'n', type: 'transform', params: { value: 1 } }] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const activated = await h.call({ method: 'POST', url: `/v1/workflows/${created.body.id}/activate`, token: tenant.key });
    expect(activated.status).toBe(200);
    return created.body.id as string;
  }

  /** The ticks of a workflow's runs (their scheduledAt), in order, as ISO strings. */
  async function ticksOf(workflowId: string, tenant = acme): Promise<string[]> {
    const rows = await h.t.db.withTenant(tenant.tenant.id, async (tx) => {
      const { rows } = await tx.query<{ at: string }>(
        "SELECT trigger->>'scheduledAt' AS at FROM runs WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY 1",
        [tenant.tenant.id, workflowId],
      );
      return rows;
    });
    return rows.map((r) => r.at);
  }

  /** Sets a trigger's next tick, as arming at `armedAt` would have. */
  async function armAt(workflowId: string, schedule: string, timezone: string | undefined, armedAt: Date): Promise<void> {
    const next = CronSchedule.parse(schedule, timezone).next(armedAt);
    await h.t.db.withTenant(acme.tenant.id, (tx) =>
      tx.query('UPDATE triggers SET next_fire_at = $3 WHERE tenant_id = $1 AND workflow_id = $2', [acme.tenant.id, workflowId, next]),
    );
  }

  async function deactivate(...workflowIds: string[]): Promise<void> {
    for (const id of workflowIds) await h.call({ method: 'POST', url: `/v1/workflows/${id}/deactivate`, token: acme.key });
  }

  function consecutiveSeconds(ticks: string[]): boolean {
    return ticks.every((tick, i) => i === 0 || Date.parse(tick) - Date.parse(ticks[i - 1] as string) === 1_000);
  }

  it('three schedulers on one database start exactly one run per tick', async () => {
    const workflowId = await cronWorkflow('every second', { schedule: '* * * * * *' });
    const databases = [0, 1, 2].map(() => new Database({ url: h.t.url, maxConnections: 4 }));
    const schedulers = databases.map((db) => new Scheduler({ db, engine: h.engine.engine, logger, maxSleepMs: 100 }));
    for (const s of schedulers) s.start();
    await sleep(4_500);
    await Promise.all(schedulers.map((s) => s.stop()));
    await Promise.all(databases.map((db) => db.close()));

    const ticks = await ticksOf(workflowId);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(consecutiveSeconds(ticks), ticks.join(' ')).toBe(true);
    // Every tick up to the one the trigger now waits for has its run: none lost.
    const { rows } = await h.t.db.withTenant(acme.tenant.id, (tx) =>
      tx.query<{ next: Date }>('SELECT next_fire_at AS next FROM triggers WHERE tenant_id = $1 AND workflow_id = $2', [acme.tenant.id, workflowId]),
    );
    expect(Date.parse(ticks.at(-1) as string)).toBe((rows[0]?.next as Date).getTime() - 1_000);
    await deactivate(workflowId);
  });

  it('a restart neither loses nor repeats a tick, and a tick whose run exists (a crash before the advance) is not started again', async () => {
    const workflowId = await cronWorkflow('restart', { schedule: '* * * * * *' });
    const first = new Scheduler({ db: h.t.db, engine: h.engine.engine, logger, maxSleepMs: 100 });
    first.start();
    await sleep(1_600);
    await first.stop();
    const beforeOutage = await ticksOf(workflowId);
    await sleep(2_000); // down: ticks pass
    // A crash after the run of the next tick was recorded, before the trigger moved on.
    const { rows } = await h.t.db.withTenant(acme.tenant.id, (tx) =>
      tx.query<{ next: Date }>('SELECT next_fire_at AS next FROM triggers WHERE tenant_id = $1 AND workflow_id = $2', [acme.tenant.id, workflowId]),
    );
    const pending = (rows[0]?.next as Date).toISOString();
    await h.engine.engine.startRun({
      tenantId: acme.tenant.id,
      workflowId,
      version: 1,
      trigger: { type: 'cron', scheduledAt: pending },
      idempotencyKey: `cron:0:${pending}`,
    });
    const second = new Scheduler({ db: h.t.db, engine: h.engine.engine, logger, maxSleepMs: 100 });
    second.start();
    await sleep(1_500);
    await second.stop();
    const ticks = await ticksOf(workflowId);
    expect(ticks.length).toBeGreaterThan(beforeOutage.length + 2);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(consecutiveSeconds(ticks), ticks.join(' ')).toBe(true);
    await deactivate(workflowId);
  });

  it('a tick missed within the misfire window fires once on return; one missed by more is recorded as skipped', async () => {
    const within = await cronWorkflow('hourly within', { schedule: '0 * * * *', misfireWindow: '5m' });
    const beyond = await cronWorkflow('hourly beyond', { schedule: '0 * * * *', misfireWindow: '5m' });
    // The platform was down from before 09:00 (for `beyond`) or 10:00 (for `within`) until 10:03.
    await armAt(within, '0 * * * *', undefined, new Date('2026-11-22T09:30:00Z'));
    await armAt(beyond, '0 * * * *', undefined, new Date('2026-11-22T08:30:00Z'));
    let now = Date.parse('2026-11-22T08:59:59Z');
    const scheduler = new Scheduler({ db: h.t.db, engine: h.engine.engine, logger, now: () => now });
    const both = async () => ({ within: await ticksOf(within), beyond: await ticksOf(beyond) });
    await scheduler.tick();
    expect(await both()).toEqual({ within: [], beyond: [] });

    now = Date.parse('2026-11-22T10:03:00Z');
    await scheduler.tick();
    const after = await both();
    expect(after).toEqual({ within: ['2026-11-22T10:00:00.000Z'], beyond: ['2026-11-22T10:00:00.000Z'] });
    const audit = await h.call({ method: 'GET', url: '/v1/audit?action=schedule.skipped', token: acme.ownerToken });
    const skipped = audit.body.items.filter((e: { target: { id: string } }) => e.target.id === beyond || e.target.id === within);
    expect(skipped).toEqual([
      expect.objectContaining({
        action: 'schedule.skipped',
        target: { type: 'workflow', id: beyond },
        details: expect.objectContaining({ ticks: 1, first: '2026-11-22T09:00:00.000Z', last: '2026-11-22T09:00:00.000Z' }),
      }),
    ]);
    // Claiming again at the same time starts nothing more.
    await scheduler.tick();
    expect(await both()).toEqual(after);
    await deactivate(within, beyond);
  });

  it.each([
    {
      transition: 'spring forward (02:00 -> 03:00)',
      from: '2026-03-28T20:00:00Z',
      to: '2026-03-30T06:00:00Z',
      ticks: ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    },
    {
      transition: 'fall back (03:00 -> 02:00)',
      from: '2026-10-24T20:00:00Z',
      to: '2026-10-26T06:00:00Z',
      ticks: ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    },
  ])('02:30 daily in Europe/Berlin across the $transition: one run a day, none lost or doubled', async ({ transition, from, to, ticks }) => {
    const workflowId = await cronWorkflow(`dst ${transition}`, { schedule: '30 2 * * *', timezone: 'Europe/Berlin' });
    await armAt(workflowId, '30 2 * * *', 'Europe/Berlin', new Date(from));
    let now = Date.parse(from);
    const scheduler = new Scheduler({ db: h.t.db, engine: h.engine.engine, logger, now: () => now });
    for (; now <= Date.parse(to); now += 10 * 60_000) await scheduler.tick();
    expect(await ticksOf(workflowId)).toEqual(ticks);
    await deactivate(workflowId);
  });

  it('a suspended tenant and a deactivated workflow fire nothing', async () => {
    const paused = await h.tenant('paused');
    const pausedFlow = await cronWorkflow('paused', { schedule: '* * * * * *' }, paused);
    const inactive = await cronWorkflow('inactive', { schedule: '* * * * * *' });
    await h.call({ method: 'POST', url: `/v1/workflows/${inactive}/deactivate`, token: acme.key });
    await h.call({ method: 'PATCH', url: `/v1/tenants/${paused.tenant.id}`, token: h.adminToken, body: { status: 'suspended' } });
    const scheduler = new Scheduler({ db: h.t.db, engine: h.engine.engine, logger, maxSleepMs: 100 });
    scheduler.start();
    await sleep(1_500);
    await scheduler.stop();
    expect(await ticksOf(pausedFlow, paused)).toEqual([]);
    expect(await ticksOf(inactive)).toEqual([]);
  });
});
