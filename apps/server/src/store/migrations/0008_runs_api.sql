-- The audit trail read by action (GET /v1/audit?action=), newest first.
CREATE INDEX audit_log_by_action ON audit_log (tenant_id, action, id DESC);
