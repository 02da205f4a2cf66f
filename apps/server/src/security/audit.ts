import type { Tx } from '../store/database';
import type { AuditActor } from './principal';

export interface AuditEntry {
  actor: AuditActor;
  /** Dotted verb, e.g. `workflow.create`, `auth.login.failed`, `credential.read`. */
  action: string;
  target?: { type: string; id: string } | undefined;
  ip?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
}

/** Appends a record to the tenant's audit trail, in the caller's transaction (it commits with the change). */
export async function writeAudit(tx: Tx, tenantId: string, entry: AuditEntry): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_label, action, target_type, target_id, ip, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [tenantId, ...columns(entry)],
  );
}

/** Appends a record that belongs to no tenant (platform admins' events, logins of unknown e-mails). System path. */
export async function writePlatformAudit(system: Tx, entry: AuditEntry): Promise<void> {
  await system.query(
    `INSERT INTO platform_audit_log (actor_type, actor_id, actor_label, action, target_type, target_id, ip, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    columns(entry),
  );
}

/** An entry's values in the column order both trails share. */
function columns(entry: AuditEntry): unknown[] {
  return [
    entry.actor.type,
    entry.actor.id,
    entry.actor.label,
    entry.action,
    entry.target?.type ?? null,
    entry.target?.id ?? null,
    entry.ip ?? null,
    entry.details ?? {},
  ];
}
