-- The armed triggers: one row per trigger of each active workflow, written when the workflow is
-- activated (or, active, given a new version) and deleted when it is deactivated or deleted. A
-- suspended tenant's rows stay, and every reader skips them (tenants.status).
CREATE TABLE triggers (
  tenant_id     uuid NOT NULL,
  workflow_id   uuid NOT NULL,
  -- The trigger's index in the definition's `triggers`.
  position      smallint NOT NULL,
  -- The workflow version whose definition armed it: its runs run that version.
  version       integer NOT NULL,
  type          text NOT NULL CHECK (type IN ('cron', 'webhook', 'event')),
  -- The trigger as the definition declares it.
  config        jsonb NOT NULL,
  -- webhook: the path under /hooks/<tenant slug>/.
  path          text,
  -- cron: the next tick not yet fired (or skipped).
  next_fire_at  timestamptz,
  armed_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, workflow_id, position),
  FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE,
  CHECK ((type = 'webhook') = (path IS NOT NULL)),
  CHECK ((type = 'cron') = (next_fire_at IS NOT NULL))
);
-- A path leads to one workflow of a tenant.
CREATE UNIQUE INDEX triggers_webhook_path ON triggers (tenant_id, path) WHERE type = 'webhook';
-- The schedulers' scan for due ticks.
CREATE INDEX triggers_due ON triggers (next_fire_at) WHERE type = 'cron';

ALTER TABLE triggers ENABLE ROW LEVEL SECURITY;
ALTER TABLE triggers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON triggers USING (tenant_id = aiq_tenant()) WITH CHECK (tenant_id = aiq_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON triggers TO aiq_app, aiq_system;

-- Arming and disarming are announced on aiq_triggers (payload: the tenant id), so schedulers and
-- event consumers see the change at once; a scheduler's own advance of next_fire_at is not announced.
CREATE FUNCTION aiq_announce_triggers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aiq_triggers', coalesce(NEW.tenant_id, OLD.tenant_id)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER triggers_announce AFTER INSERT OR DELETE ON triggers
  FOR EACH ROW EXECUTE FUNCTION aiq_announce_triggers();

-- A tenant's suspension or resumption changes what is armed in effect: announced the same way.
CREATE FUNCTION aiq_announce_tenant_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    PERFORM pg_notify('aiq_triggers', NEW.id::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tenants_announce_status AFTER UPDATE OF status ON tenants
  FOR EACH ROW EXECUTE FUNCTION aiq_announce_tenant_status();
