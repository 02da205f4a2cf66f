import type { Tx } from '../store/database';
import { listUserTenantIds } from '../store/queries/list-user-tenant-ids';
import { type AuditEntry, writeAudit, writePlatformAudit } from './audit';

/**
 * Records a security event of a user account (a failed login, a lock, a change of second factor) in
 * the platform log and, with `tenants`, in the trail of every tenant the user belongs to, where its
 * owners see it. System path: users span tenants.
 */
export async function writeUserAudit(
  system: Tx,
  args: { userId: string; entry: AuditEntry; tenants: boolean },
): Promise<void> {
  const entry: AuditEntry = { target: { type: 'user', id: args.userId }, ...args.entry };
  await writePlatformAudit(system, entry);
  if (!args.tenants) return;
  for (const tenantId of await listUserTenantIds(system, args.userId)) await writeAudit(system, tenantId, entry);
}
