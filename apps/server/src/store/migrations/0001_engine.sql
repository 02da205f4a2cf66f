-- The engine's schema: tenants, workflows and their immutable versions, runs, steps (one row per node,
-- item scope and attempt), the job queue, and the fair-share state of the queue.
-- Every tenant-owned table leads its keys with tenant_id and is guarded by row-level security on
-- current_setting('app.tenant_id'). The server works as aiq_app (no BYPASSRLS); the few reviewed
-- cross-tenant paths (queue claim, scans) work as aiq_system.

-- Roles are shared by every database of the cluster; two databases migrating at once may race to
-- create them, and the loser finds them made.
DO $$
BEGIN
  CREATE ROLE aiq_app NOLOGIN NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  RAISE NOTICE 'role aiq_app exists';
END $$;
DO $$
BEGIN
  CREATE ROLE aiq_system NOLOGIN BYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  RAISE NOTICE 'role aiq_system exists';
END $$;

GRANT aiq_app, aiq_system TO CURRENT_USER;

CREATE FUNCTION aiq_tenant() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
  id          uuid PRIMARY KEY,
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name        text NOT NULL,
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  plan        text NOT NULL DEFAULT 'standard',
  quotas      jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workflows (
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id              uuid NOT NULL,
  name            text NOT NULL,
  active          boolean NOT NULL DEFAULT false,
  latest_version  integer NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX workflows_by_name ON workflows (tenant_id, name);

CREATE TABLE workflow_versions (
  tenant_id    uuid NOT NULL,
  workflow_id  uuid NOT NULL,
  version      integer NOT NULL,
  definition   jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, workflow_id, version),
  FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE runs (
  tenant_id        uuid NOT NULL,
  id               uuid NOT NULL,
  workflow_id      uuid NOT NULL,
  version          integer NOT NULL,
  status           text NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
  priority         smallint NOT NULL DEFAULT 1,
  trigger          jsonb NOT NULL,
  input            jsonb,
  output           jsonb,
  error            jsonb,
  idempotency_key  text,
  deadline_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, workflow_id, version) REFERENCES workflow_versions (tenant_id, workflow_id, version) ON DELETE CASCADE
);
CREATE UNIQUE INDEX runs_idempotency ON runs (tenant_id, workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_by_time ON runs (tenant_id, created_at DESC);
CREATE INDEX runs_by_workflow ON runs (tenant_id, workflow_id, status);

-- One row per node, item scope and attempt: a step attempt's result is recorded once.
CREATE TABLE steps (
  tenant_id    uuid NOT NULL,
  run_id       uuid NOT NULL,
  scope        text NOT NULL,
  node_id      text NOT NULL,
  attempt      integer NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled')),
  port         text,
  output       jsonb,
  error        jsonb,
  item_count   integer,
  concurrency  integer,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (tenant_id, run_id, scope, node_id, attempt),
  FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE
);

-- The queue. A job asks for one attempt of one step (kind 'step'), the end of a wait ('resume'),
-- or the run's deadline ('deadline'). available_at is when it may be claimed: its run_at while
-- queued, the end of its lease while claimed.
CREATE TABLE jobs (
  tenant_id     uuid NOT NULL,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  run_id        uuid NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('step', 'resume', 'deadline')),
  scope         text NOT NULL DEFAULT '',
  node_id       text NOT NULL DEFAULT '',
  attempt       integer NOT NULL DEFAULT 0,
  priority      smallint NOT NULL DEFAULT 1,
  available_at  timestamptz NOT NULL DEFAULT now(),
  locked_by     text,
  claims        integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX jobs_claim ON jobs (tenant_id, priority DESC, available_at);
CREATE UNIQUE INDEX jobs_once ON jobs (tenant_id, run_id, kind, scope, node_id, attempt);
CREATE INDEX jobs_due ON jobs (available_at);

-- Fair share: the claim serves the tenants with ready work, least recently served first.
CREATE TABLE queue_tenants (
  tenant_id  uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  served_at  timestamptz NOT NULL DEFAULT '-infinity'
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['workflows', 'workflow_versions', 'runs', 'steps', 'jobs'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = aiq_tenant()) WITH CHECK (tenant_id = aiq_tenant())', t);
  END LOOP;
END $$;
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = aiq_tenant());
ALTER TABLE queue_tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE queue_tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON queue_tenants USING (tenant_id = aiq_tenant());

GRANT USAGE ON SCHEMA public TO aiq_app, aiq_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO aiq_app, aiq_system;
GRANT EXECUTE ON FUNCTION aiq_tenant() TO aiq_app, aiq_system;
