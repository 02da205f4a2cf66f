import type { Tx } from '../database';

/** The earliest tick of an active tenant's cron trigger, if any (a scheduler sleeps until then). */
export async function nextDueTick(system: Tx): Promise<Date | undefined> {
  const { rows } = await system.query<{ at: Date | null }>({
    name: 'aiq_next_due_tick',
    text: `SELECT min(t.next_fire_at) AS at FROM triggers t
             JOIN tenants ten ON ten.id = t.tenant_id AND ten.status = 'active'
            WHERE t.type = 'cron'`,
  });
  return rows[0]?.at ?? undefined;
}
