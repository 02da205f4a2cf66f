-- The platform around the engine: people and their sessions, memberships with roles, tenant API
-- keys, the credentials vault, the audit trail and daily usage counters.
--
-- Global tables (users, refresh_tokens, platform settings) are reached on the system path only (login,
-- refresh, onboarding); aiq_app sees a user only through a membership of the current tenant.
-- Tenant tables lead their keys with tenant_id and are guarded by row-level security, as in 0001.

CREATE TABLE users (
  id                 uuid PRIMARY KEY,
  email              text NOT NULL,
  name               text,
  password_hash      text,                       -- argon2id; null until an invite is accepted
  platform_admin     boolean NOT NULL DEFAULT false,
  totp_secret        bytea,                      -- sealed with the master key (security/master-key.ts)
  totp_enabled       boolean NOT NULL DEFAULT false,
  failed_logins      integer NOT NULL DEFAULT 0,
  locked_until       timestamptz,
  invite_token_hash  bytea,
  invite_expires_at  timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX users_invite ON users (invite_token_hash) WHERE invite_token_hash IS NOT NULL;

-- A refresh token is used once: using it issues the next one of its family. Presenting a used token
-- again revokes the whole family (it was stolen, or the legitimate client was).
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY,
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE,
  tenant_id   uuid,                               -- the tenant the session was opened for, if named
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Platform-wide settings, e.g. whether the first start's bootstrap ran.
CREATE TABLE platform_settings (
  key    text PRIMARY KEY,
  value  jsonb NOT NULL
);

ALTER TABLE tenants ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
ALTER TABLE tenants ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE memberships (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

-- Keys are random (256 bits), so a SHA-256 hash is enough to store them; the prefix shows which key
-- a person holds without revealing it.
CREATE TABLE api_keys (
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id            uuid NOT NULL,
  name          text NOT NULL,
  prefix        text NOT NULL,
  key_hash      bytea NOT NULL,
  scopes        text[] NOT NULL,
  created_by    uuid,
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

-- Each tenant's data key (AES-256), wrapped (AES-256-GCM) by the master key identified by master_key_id.
CREATE TABLE tenant_keys (
  tenant_id      uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  wrapped_key    bytea NOT NULL,
  master_key_id  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  rotated_at     timestamptz
);

-- A credential: its non-secret fields in the clear, its secret fields sealed with the tenant's data key.
CREATE TABLE credentials (
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id           uuid NOT NULL,
  name         text NOT NULL,
  type         text NOT NULL,
  public_data  jsonb NOT NULL DEFAULT '{}',
  sealed_data  bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX credentials_name ON credentials (tenant_id, name);

-- The audit trail: append-only. Nobody (not even aiq_system) may change or delete a record.
CREATE TABLE audit_log (
  tenant_id    uuid NOT NULL,
  id           bigint GENERATED ALWAYS AS IDENTITY,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor_type   text NOT NULL CHECK (actor_type IN ('user', 'apiKey', 'system', 'anonymous')),
  actor_id     text,
  actor_label  text,
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  ip           text,
  details      jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_by_time ON audit_log (tenant_id, at DESC, id DESC);
-- Security events that belong to no tenant (a platform admin's login, a failed login of an unknown
-- e-mail) are kept here, readable by platform admins.
CREATE TABLE platform_audit_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor_type   text NOT NULL,
  actor_id     text,
  actor_label  text,
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  ip           text,
  details      jsonb NOT NULL DEFAULT '{}'
);

CREATE FUNCTION aiq_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION aiq_append_only();
CREATE TRIGGER platform_audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON platform_audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION aiq_append_only();

-- Runs started per tenant and day (UTC), for the runsPerDay quota and GET /v1/usage.
CREATE TABLE usage_daily (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day        date NOT NULL,
  runs       integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day)
);

-- Deleting a workflow keeps its runs' history: the workflow is marked deleted and its name freed.
ALTER TABLE workflows ADD COLUMN deleted_at timestamptz;
ALTER TABLE workflows ADD COLUMN description text;
CREATE UNIQUE INDEX workflows_live_name ON workflows (tenant_id, name) WHERE deleted_at IS NULL;
CREATE INDEX workflows_by_id_desc ON workflows (tenant_id, id DESC) WHERE deleted_at IS NULL;
-- Cursor pagination of runs: newest first, by id (UUIDv7, time-ordered).
CREATE INDEX runs_by_id_desc ON runs (tenant_id, id DESC);
CREATE INDEX runs_by_workflow_id_desc ON runs (tenant_id, workflow_id, id DESC);
CREATE INDEX runs_by_status_id_desc ON runs (tenant_id, status, id DESC);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['memberships', 'api_keys', 'tenant_keys', 'credentials', 'audit_log', 'usage_daily'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = aiq_tenant()) WITH CHECK (tenant_id = aiq_tenant())', t);
  END LOOP;
END $$;

-- A tenant's requests see a user only through a membership of that tenant.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY member_of_tenant ON users USING (
  EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = aiq_tenant())
);
-- Global tables: nothing for aiq_app.
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
ALTER TABLE platform_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_settings FORCE ROW LEVEL SECURITY;
ALTER TABLE platform_audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_audit_log FORCE ROW LEVEL SECURITY;

GRANT SELECT, INSERT, UPDATE, DELETE ON memberships, api_keys, tenant_keys, credentials, usage_daily TO aiq_app, aiq_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, refresh_tokens, platform_settings TO aiq_system;
GRANT SELECT ON users TO aiq_app;
GRANT SELECT, INSERT ON audit_log TO aiq_app, aiq_system;
GRANT SELECT, INSERT ON platform_audit_log TO aiq_system;
