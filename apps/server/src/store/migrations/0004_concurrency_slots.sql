-- Concurrency limits (a tenant's concurrentRuns quota, a workflow's settings.concurrency) are slots:
-- a run takes one slot of each key that limits it when it is admitted, and gives them back when it
-- ends. A run that finds no free slot waits, queued and not admitted, with no job in the queue.
CREATE TABLE concurrency_slots (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  key        text NOT NULL,
  active     integer NOT NULL DEFAULT 0 CHECK (active >= 0),
  PRIMARY KEY (tenant_id, key)
);
ALTER TABLE concurrency_slots ENABLE ROW LEVEL SECURITY;
ALTER TABLE concurrency_slots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON concurrency_slots USING (tenant_id = aiq_tenant()) WITH CHECK (tenant_id = aiq_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON concurrency_slots TO aiq_app, aiq_system;

-- The keys of the slots a run holds (admitted) or waits for (not admitted); empty: no limit applies.
ALTER TABLE runs ADD COLUMN slot_keys text[] NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN admitted boolean NOT NULL DEFAULT true;
CREATE INDEX runs_awaiting_admission ON runs (tenant_id, priority DESC, created_at) WHERE NOT admitted AND status = 'queued';

ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('step', 'resume', 'deadline', 'admit'));
