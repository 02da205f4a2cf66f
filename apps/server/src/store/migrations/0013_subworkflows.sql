-- flow.subworkflow: a child run knows the step of its parent run that waits for it, and how deep it is
-- in its tree of runs (the top run is 0). When a child ends, a 'child' job resumes the parent's step.
ALTER TABLE runs
  ADD COLUMN parent_run_id  uuid,
  ADD COLUMN parent_scope   text,
  ADD COLUMN parent_node_id text,
  ADD COLUMN parent_attempt integer,
  ADD COLUMN depth          smallint NOT NULL DEFAULT 0,
  ADD CONSTRAINT runs_parent_complete CHECK ((parent_run_id IS NULL) = (parent_node_id IS NULL));
CREATE INDEX runs_children ON runs (tenant_id, parent_run_id) WHERE parent_run_id IS NOT NULL;

ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('step', 'resume', 'deadline', 'admit', 'timeout', 'child'));
