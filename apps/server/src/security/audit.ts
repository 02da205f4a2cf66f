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

/** Appends records to the tenant's audit trail in one statement, in their order, in the caller's transaction. */
export async function writeAudits(tx: Tx, tenantId: string, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  if (entries.length === 1 && entries[0]) return writeAudit(tx, tenantId, entries[0]);
  const rows = entries.map(columns);
  // One array per column; details (a jsonb) travel as their JSON text.
  const arrays = Array.from({ length: 8 }, (_, column) => rows.map((row) => (column === 7 ? JSON.stringify(row[column]) : row[column])));
  await tx.query({
    name: 'aiq_write_audits',
    text: `INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_label, action, target_type, target_id, ip, details)
     SELECT $1, v.actor_type, v.actor_id, v.actor_label, v.action, v.target_type, v.target_id, v.ip, v.details
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[])
            WITH ORDINALITY AS v(actor_type, actor_id, actor_label, action, target_type, target_id, ip, details, n)
      ORDER BY v.n`,
    values: [tenantId, ...arrays],
  });
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
