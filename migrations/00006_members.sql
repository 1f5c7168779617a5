-- +goose Up
-- An invited member is pending until they choose a password through the link in their
-- invitation; meanwhile their hash is of a random secret nobody knows, so a login attempt takes
-- as long as any other. invited_at is when the latest invitation was sent.
ALTER TABLE users ADD COLUMN invite_pending boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN invited_at timestamptz;

-- Which roles receive channel-alert emails; the extra addresses stay in notification_emails.
-- Supervisors can reauthorise channels, so they are alerted by default beside admins.
ALTER TABLE teams ADD COLUMN alert_roles jsonb NOT NULL DEFAULT '["admin", "supervisor"]';

-- Single-use links for accepting an invitation and resetting a password. Only the SHA-256 of
-- the 128-bit token is kept; a newer link or a password change revokes the older ones.
CREATE TABLE user_tokens (
    id         bigserial PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('invite', 'reset')),
    token_hash text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id);

-- Forgot-password requests, counted per email and per client address to limit them.
CREATE TABLE password_reset_requests (
    id         bigserial PRIMARY KEY,
    email      text        NOT NULL,
    ip         text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_requests_email_idx ON password_reset_requests (email, created_at);
CREATE INDEX password_reset_requests_ip_idx ON password_reset_requests (ip, created_at);

-- +goose Down
DROP TABLE password_reset_requests;
DROP TABLE user_tokens;
ALTER TABLE teams DROP COLUMN alert_roles;
ALTER TABLE users DROP COLUMN invited_at;
ALTER TABLE users DROP COLUMN invite_pending;
