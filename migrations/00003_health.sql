-- +goose Up
-- What the health monitor last learned about each channel, beside the status columns on channels.
CREATE TABLE channel_health (
    channel_id         bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    team_id            bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    verdict            text        NOT NULL DEFAULT 'unchecked' CHECK (verdict IN ('unchecked', 'healthy', 'broken', 'unknown')),
    cause              text        NOT NULL DEFAULT '',
    detail             text        NOT NULL DEFAULT '',
    transient_failures int         NOT NULL DEFAULT 0, -- consecutive checks that could not decide
    checks             bigint      NOT NULL DEFAULT 0,
    last_healthy_at    timestamptz,
    webhook_resubscribed_at timestamptz,
    expiry_warned_for  timestamptz, -- the token expiry the last warning was about: one warning per token
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_health_team_idx ON channel_health (team_id);

-- One row per failure episode: opened when a channel breaks, closed when it works again.
-- The alert email belongs to the episode, so however many checks, restarts or replicas see the
-- failure, the episode (and the one email that reports it) exists once.
CREATE TABLE health_episodes (
    id                   bigserial PRIMARY KEY,
    team_id              bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    channel_id           bigint      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    cause                text        NOT NULL,
    message              text        NOT NULL DEFAULT '',
    detected_by          text        NOT NULL CHECK (detected_by IN ('check', 'send')),
    opened_at            timestamptz NOT NULL,
    closed_at            timestamptz,
    closed_by            text        NOT NULL DEFAULT '' CHECK (closed_by IN ('', 'check', 'repair', 'disconnect')),
    alert_key            text        NOT NULL DEFAULT '', -- outbox idempotency key of the alert
    alert_skipped        text        NOT NULL DEFAULT '' CHECK (alert_skipped IN ('', 'plan_ended', 'no_recipients')),
    alerted_at           timestamptz,
    recovery_pending     boolean     NOT NULL DEFAULT false, -- closed after its alert went out; "works again" not yet queued
    recovered_alert_key  text        NOT NULL DEFAULT '',
    recovered_alerted_at timestamptz
);
-- At most one open episode per channel, whatever races happen between replicas.
CREATE UNIQUE INDEX health_episodes_open_key ON health_episodes (channel_id) WHERE closed_at IS NULL;
CREATE INDEX health_episodes_channel_idx ON health_episodes (channel_id, opened_at DESC);
-- Episodes whose email is still to be queued. Emails are queued per team after each sweep, so
-- channels that break together (an Instagram account and its Page share one token) share one email.
CREATE INDEX health_episodes_pending_idx ON health_episodes (team_id)
    WHERE (closed_at IS NULL AND alerted_at IS NULL AND alert_skipped = '') OR recovery_pending;

-- The sweep picks channels by their next check time.
CREATE INDEX channels_next_check_idx ON channels (next_check_at, id) WHERE status <> 'disconnected';

-- Durable outbound work (emails now, platform messages later): written in the same transaction
-- as the state change that caused it, delivered at least once, deduplicated by its key.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    kind            text        NOT NULL,
    team_id         bigint REFERENCES teams (id) ON DELETE CASCADE,
    payload         jsonb       NOT NULL,
    idempotency_key text        NOT NULL UNIQUE,
    attempts        int         NOT NULL DEFAULT 0,
    max_attempts    int         NOT NULL DEFAULT 25,
    next_attempt_at timestamptz NOT NULL,
    done_at         timestamptz,
    failed_at       timestamptz, -- gave up: permanent failure or attempts exhausted
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE done_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_team_idx ON outbox (team_id, created_at DESC);

-- +goose Down
DROP TABLE outbox;
DROP INDEX channels_next_check_idx;
DROP TABLE health_episodes;
DROP TABLE channel_health;
