import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAiq } from '../support/run-aiq';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** Every example in examples/ runs offline through `aiq run` and gives the output it promises. */
describe('the examples, run with `aiq run`', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());

  const run = (file: string, input?: unknown) =>
    runAiq(['run', `examples/${file}`, ...(input === undefined ? [] : ['--input', JSON.stringify(input)])], {
      DATABASE_URL: t.url,
    });

  it('hello: a transform and a code step', async () => {
    const r = await run('hello.yaml', { name: 'Ada' });
    expect(r.stderr).toContain('✔ shout  succeeded  attempt 1');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ message: 'HELLO, ADA!', letters: 3 });
  });

  it('branching: the branch not taken is skipped, the join runs', async () => {
    const big = await run('branching.yaml', { total: 250 });
    expect(JSON.parse(big.stdout)).toEqual({ total: 250, route: 'review' });
    expect(big.stderr).toContain('· auto_approve  skipped');
    const small = await run('branching.yaml', { total: 10 });
    expect(JSON.parse(small.stdout)).toEqual({ total: 10, route: 'auto' });
  });

  it('parallel-join: three branches and a join', async () => {
    const r = await run('parallel-join.yaml', { city: 'Porto' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ city: 'Porto', line: 'sunny, 3 hotels from 89 EUR, 2 events' });
  });

  it('for-each: items in order, two at a time', async () => {
    const r = await run('for-each.yaml');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.orders.map((o: { id: number }) => o.id)).toEqual([1, 2, 3]);
    expect(out.grandTotal).toBe(65);
  });

  it('retries: a flaky step succeeds on its third attempt, a broken one takes its error edge', async () => {
    const r = await run('retries.yaml');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      answer: 42,
      flakyAttempts: 3,
      fallback: { usedFallback: true },
    });
    expect(r.stderr).toContain('✖ flaky  failed  attempt 1');
    expect(r.stderr).toContain('✔ flaky  succeeded  attempt 3');
  });

  it('wait: the run parks for two seconds and resumes', async () => {
    const started = Date.now();
    const r = await run('wait.yaml');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Date.parse(out.waitedUntil) - Date.parse(out.startedAt)).toBeGreaterThanOrEqual(2_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });
});
