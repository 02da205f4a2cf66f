import type { Tx } from '../database';

export interface SlotLimit {
  key: string;
  limit: number;
}

/**
 * Takes the slots of several runs of one tenant, in order: a run takes one slot of each of its limits,
 * or none (all its limits must have room). (A batch of starts that share one limit takes its slots in
 * its recording statement, record-starts.ts; this is the general way: several limits, a slot row not
 * made yet, admission.) Answers, per run, whether it took them. Locks the slots'
 * rows in key order for the rest of the transaction, so that concurrent starts and ends never
 * over-admit. A run with no limits takes nothing and is admitted.
 */
export async function takeSlots(
  tx: Tx,
  args: { tenantId: string; runs: readonly (readonly SlotLimit[])[] },
): Promise<boolean[]> {
  const { tenantId, runs } = args;
  const limited = runs.filter((limits) => limits.length > 0);
  if (limited.length === 0) return runs.map(() => true);
  const keys = [...new Set(limited.flatMap((limits) => limits.map((l) => l.key)))].sort();
  const lock = (): Promise<{ rows: { key: string; active: number }[] }> =>
    tx.query<{ key: string; active: number }>(
      'SELECT key, active FROM concurrency_slots WHERE tenant_id = $1 AND key = ANY($2::text[]) ORDER BY key FOR UPDATE',
      [tenantId, keys],
    );
  let { rows } = await lock();
  if (rows.length < keys.length) {
    await tx.query(
      'INSERT INTO concurrency_slots (tenant_id, key) SELECT $1, k FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING',
      [tenantId, keys],
    );
    ({ rows } = await lock());
  }
  const active = new Map(rows.map((r) => [r.key, r.active]));
  const took = new Map<string, number>();
  const answers = runs.map((limits) => {
    if (!limits.every((l) => (active.get(l.key) ?? 0) < l.limit)) return false;
    for (const { key } of limits) {
      active.set(key, (active.get(key) ?? 0) + 1);
      took.set(key, (took.get(key) ?? 0) + 1);
    }
    return true;
  });
  if (took.size > 0) {
    await tx.query(
      `UPDATE concurrency_slots s SET active = s.active + t.n FROM unnest($2::text[], $3::int[]) AS t(key, n)
        WHERE s.tenant_id = $1 AND s.key = t.key`,
      [tenantId, [...took.keys()], [...took.values()]],
    );
  }
  return answers;
}
