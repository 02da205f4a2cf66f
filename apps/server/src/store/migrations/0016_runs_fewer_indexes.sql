-- Every run start writes an entry in each of runs' indexes (and an audit record in each of
-- audit_log's), and every change of status in most of runs' again. Four served no query:
-- - runs_by_id_desc (tenant_id, id DESC): the primary key (tenant_id, id) is read backwards just as well
--   for the newest-first pages of GET /v1/runs;
-- - runs_by_time (tenant_id, created_at DESC): no query orders or filters runs by created_at (ids are
--   UUIDv7, time-ordered);
-- - runs_by_workflow (tenant_id, workflow_id, status): runs_by_workflow_id_desc serves a workflow's runs
--   (with or without a status), runs_by_status_id_desc a tenant's runs by status;
-- - audit_log_by_time (tenant_id, at DESC, id DESC): the trail is read newest first by id (the primary key).
DROP INDEX runs_by_id_desc;
DROP INDEX runs_by_time;
DROP INDEX runs_by_workflow;
DROP INDEX audit_log_by_time;
