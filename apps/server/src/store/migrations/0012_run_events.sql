-- Events delivered to runs (POST /v1/runs/:id/events, resume URLs) for flow.waitForEvent. An event
-- waits here until a step waiting for its name takes it, oldest first; each step attempt takes one.
CREATE TABLE run_events (
  tenant_id    uuid NOT NULL,
  run_id       uuid NOT NULL,
  id           uuid NOT NULL,
  name         text NOT NULL,
  payload      jsonb,
  received_at  timestamptz NOT NULL DEFAULT now(),
  -- The step attempt that took it; NULL while it waits for one.
  scope        text,
  node_id      text,
  attempt      integer,
  taken_at     timestamptz,
  PRIMARY KEY (tenant_id, run_id, id),
  FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE,
  CHECK ((taken_at IS NULL) = (node_id IS NULL))
);
CREATE INDEX run_events_untaken ON run_events (tenant_id, run_id, name, received_at) WHERE taken_at IS NULL;
CREATE UNIQUE INDEX run_events_one_per_attempt ON run_events (tenant_id, run_id, scope, node_id, attempt) WHERE taken_at IS NOT NULL;

ALTER TABLE run_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON run_events USING (tenant_id = aiq_tenant()) WITH CHECK (tenant_id = aiq_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON run_events TO aiq_app, aiq_system;

-- A waitForEvent step's timeout: a job that fails the step with TIMEOUT unless an event came first.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('step', 'resume', 'deadline', 'admit', 'timeout'));
