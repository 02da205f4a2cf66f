-- The credentials vault (security/vault.ts): the names of a credential's secret fields that are set,
-- so that listing credentials never needs to open their sealed data.
ALTER TABLE credentials ADD COLUMN secret_fields text[] NOT NULL DEFAULT '{}';

-- Key rotation (aiq keys rotate) looks for the data keys that another master key wraps.
CREATE INDEX tenant_keys_by_master_key ON tenant_keys (master_key_id);
