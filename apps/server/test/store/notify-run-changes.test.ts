import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAnnouncement } from '../../src/api/run-events';
import { notifyRunChanges, RUN_CHANGES_CHANNEL } from '../../src/store/queries/notify-run-changes';
import { type EngineHarness, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('announcing run changes on aiq_runs', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  let listener: pg.Client;
  const payloads: string[] = [];
  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t, { workers: 0 });
    listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    listener.on('notification', (m) => {
      if (m.channel === RUN_CHANGES_CHANNEL && m.payload) payloads.push(m.payload);
    });
    await listener.query(`LISTEN ${RUN_CHANGES_CHANNEL}`);
  });
  afterAll(async () => {
    await listener?.end();
    await h?.stop();
    await t?.drop();
  });

  it('announces a new run, then splits many runs over notifications that stay within the size limit', async () => {
    const saved = await h.deploy({ name: 'many', nodes: [{ id: 'n', type: 'transform', params: { value: 1 } }] });
    const runIds: string[] = [];
    for (let i = 0; i < 120; i++)
      runIds.push((await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } })).runId);
    await waitFor(() => payloads.length >= 120);
    const started = payloads.splice(0).map((p) => parseAnnouncement(p));
    expect(started.every((a) => a?.tenantId === h.tenantId && a.changes.length === 1)).toBe(true);
    expect(started[0]?.changes[0]).toMatchObject({ runId: runIds[0], workflowId: saved.workflowId, status: 'queued' });

    await t.db.withTenant(h.tenantId, (tx) =>
      notifyRunChanges(tx, { tenantId: h.tenantId, runs: new Map(runIds.map((id, i) => [id, i % 2 === 0])) }),
    );
    await waitFor(() => payloads.length >= 3);
    expect(payloads).toHaveLength(3);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    const changes = payloads.flatMap((p) => parseAnnouncement(p)?.changes ?? []);
    expect(changes.map((c) => c.runId).sort()).toEqual([...runIds].sort());
    const byId = new Map(changes.map((c) => [c.runId, c]));
    expect(byId.get(runIds[0] ?? '')?.status).toBe('queued');
    expect(byId.get(runIds[1] ?? '')?.status).toBeNull();
  });

  it('understands only well-formed announcements', () => {
    expect(parseAnnouncement('not json')).toBeUndefined();
    expect(parseAnnouncement('{"t":1,"r":[]}')).toBeUndefined();
    expect(parseAnnouncement('{"t":"x","r":[[1]]}')).toBeUndefined();
    expect(parseAnnouncement('{"t":"x","r":[["a",null,"nonsense",2]]}')).toEqual({
      tenantId: 'x',
      changes: [{ runId: 'a', workflowId: null, status: null, revision: 2 }],
    });
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('the condition did not come true in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
