import type { Tx } from '../database';

export interface AuditRecordRow {
  /** The record's sequence number (bigint, as text). */
  id: string;
  at: Date;
  actorType: 'user' | 'apiKey' | 'system' | 'anonymous';
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

/** The tenant's audit records, newest first (by sequence), before the cursor id, optionally of one action. */
export async function listAudit(
  tx: Tx,
  args: { tenantId: string; limit: number; before?: string | undefined; action?: string | undefined },
): Promise<AuditRecordRow[]> {
  const { rows } = await tx.query<AuditRecordRow>(
    `SELECT id::text AS id, at, actor_type AS "actorType", actor_id AS "actorId", actor_label AS "actorLabel", action,
            target_type AS "targetType", target_id AS "targetId", ip, details
       FROM audit_log
      WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::text IS NULL OR action = $3)
      ORDER BY id DESC LIMIT $4`,
    [args.tenantId, args.before ?? null, args.action ?? null, args.limit],
  );
  return rows;
}
