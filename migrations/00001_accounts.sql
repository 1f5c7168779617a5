-- +goose Up
CREATE TABLE teams (
    id                  bigserial PRIMARY KEY,
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    locale              text        NOT NULL DEFAULT 'zh-TW' CHECK (locale IN ('zh-TW', 'en')),
    plan_status         text        NOT NULL DEFAULT 'active' CHECK (plan_status IN ('active', 'ended')),
    notification_emails jsonb       NOT NULL DEFAULT '[]',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    team_id       bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email         text        NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'supervisor', 'marketer', 'marketing_agent', 'agent')),
    locale        text        NOT NULL DEFAULT '' CHECK (locale IN ('', 'zh-TW', 'en')),
    disabled_at   timestamptz,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Email is the login name, so it is unique across teams.
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_team_idx ON users (team_id);

-- Server-side sessions: the cookie carries a random token, the row is keyed by its SHA-256,
-- so deleting rows ends sessions at once (logout, disabled user, rotation at login).
CREATE TABLE sessions (
    id           text PRIMARY KEY,
    user_id      bigint REFERENCES users (id) ON DELETE CASCADE,
    data         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Failed logins, counted per account and per address for throttling.
CREATE TABLE login_failures (
    id         bigserial PRIMARY KEY,
    email      text        NOT NULL,
    ip         text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, created_at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, created_at);

CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    team_id       bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    actor_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
    action        text        NOT NULL,
    target        text        NOT NULL DEFAULT '',
    detail        jsonb       NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_team_idx ON audit_log (team_id, created_at DESC);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE teams;
