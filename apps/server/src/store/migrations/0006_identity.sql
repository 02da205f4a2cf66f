-- Identity: TOTP codes are accepted once. A code is valid for its 30-second step (and one step
-- either side); remembering the last step used refuses a code seen again within that window.
ALTER TABLE users ADD COLUMN totp_last_step bigint;

-- Refresh tokens of a user, e.g. to end all their sessions.
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
