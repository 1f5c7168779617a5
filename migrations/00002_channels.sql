-- +goose Up
-- The Facebook user who authorised Pages / Instagram accounts, with their long-lived token.
CREATE TABLE meta_authorizations (
    id              bigserial PRIMARY KEY,
    team_id         bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    fb_user_id      text        NOT NULL,
    fb_user_name    text        NOT NULL DEFAULT '',
    access_token    text        NOT NULL, -- sealed (AES-256-GCM, key id prefix)
    expires_at      timestamptz,
    granted_scopes  jsonb       NOT NULL DEFAULT '[]',
    declined_scopes jsonb       NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, fb_user_id)
);

CREATE TABLE channels (
    id              bigserial PRIMARY KEY,
    team_id         bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    platform        text        NOT NULL CHECK (platform IN ('facebook', 'instagram', 'line', 'whatsapp')),
    external_id     text        NOT NULL,
    display_name    text        NOT NULL DEFAULT '',
    username        text        NOT NULL DEFAULT '',
    picture_url     text        NOT NULL DEFAULT '',
    authorized_by   bigint REFERENCES meta_authorizations (id) ON DELETE SET NULL,
    credentials     text        NOT NULL DEFAULT '', -- sealed JSON of tokens and secrets
    settings        jsonb       NOT NULL DEFAULT '{}',
    status          text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'invalid', 'disconnected')),
    status_cause    text        NOT NULL DEFAULT '',
    status_message  text        NOT NULL DEFAULT '',
    failing_since   timestamptz,
    alerted_at      timestamptz,
    last_checked_at timestamptz,
    next_check_at   timestamptz,
    token_expires_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One live connection per platform account, so webhooks route to exactly one team.
CREATE UNIQUE INDEX channels_live_account_key ON channels (platform, external_id) WHERE status <> 'disconnected';
CREATE INDEX channels_team_idx ON channels (team_id, platform);

-- Single-use OAuth state for Facebook Login, bound to team, user and session; expires in 10 minutes.
CREATE TABLE oauth_states (
    id            text PRIMARY KEY, -- SHA-256 of the state value
    team_id       bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash  text        NOT NULL,
    purpose       text        NOT NULL CHECK (purpose IN ('instagram', 'facebook')),
    channel_id    bigint REFERENCES channels (id) ON DELETE CASCADE, -- set when reauthorising in place
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    outcome       text        NOT NULL DEFAULT '' CHECK (outcome IN ('', 'authorized', 'denied', 'failed', 'reauthorized')),
    outcome_code  text        NOT NULL DEFAULT '',
    authorization_id bigint REFERENCES meta_authorizations (id) ON DELETE SET NULL,
    candidates    jsonb       NOT NULL DEFAULT '[]',
    closed_at     timestamptz -- the dialog was finished (accounts connected) or dismissed
);
CREATE INDEX oauth_states_team_idx ON oauth_states (team_id, created_at DESC);

CREATE TABLE customers (
    id           bigserial PRIMARY KEY,
    team_id      bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    member_no    text,
    display_name text        NOT NULL DEFAULT '',
    merged_into  bigint REFERENCES customers (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_team_idx ON customers (team_id);

CREATE TABLE contacts (
    id               bigserial PRIMARY KEY,
    team_id          bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    channel_id       bigint      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_user_id text        NOT NULL,
    name             text        NOT NULL DEFAULT '',
    picture_url      text        NOT NULL DEFAULT '',
    customer_id      bigint REFERENCES customers (id),
    last_inbound_at  timestamptz,
    line_friendship  text        NOT NULL DEFAULT 'unknown' CHECK (line_friendship IN ('friend', 'blocked', 'unknown')),
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, external_user_id)
);
CREATE INDEX contacts_team_idx ON contacts (team_id);

CREATE TABLE messages (
    id                  bigserial PRIMARY KEY,
    team_id             bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    channel_id          bigint      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    contact_id          bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    direction           text        NOT NULL CHECK (direction IN ('in', 'out')),
    platform_message_id text        NOT NULL,
    kind                text        NOT NULL DEFAULT 'text',
    body                text        NOT NULL DEFAULT '',
    sent_at             timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, platform_message_id)
);
CREATE INDEX messages_contact_idx ON messages (contact_id, sent_at);

-- Every webhook delivery that passed its signature check, stored before we answer 200.
CREATE TABLE webhook_events (
    id           bigserial PRIMARY KEY,
    platform     text        NOT NULL CHECK (platform IN ('meta', 'line')),
    channel_id   bigint REFERENCES channels (id) ON DELETE SET NULL, -- LINE: from the URL
    body         bytea       NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    attempts     int         NOT NULL DEFAULT 0,
    error        text        NOT NULL DEFAULT ''
);
CREATE INDEX webhook_events_pending_idx ON webhook_events (id) WHERE processed_at IS NULL;

-- One row per platform event key (mid / webhookEventId / wamid): the deduplication ledger.
CREATE TABLE webhook_event_keys (
    platform    text        NOT NULL,
    event_key   text        NOT NULL,
    event_id    bigint      NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, event_key)
);

-- Events that named an account no team has connected: kept and reported, not dropped.
CREATE TABLE unrouted_events (
    id          bigserial PRIMARY KEY,
    event_id    bigint      NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    platform    text        NOT NULL,
    account_id  text        NOT NULL,
    event_key   text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unrouted_events_account_idx ON unrouted_events (platform, account_id);

-- The provider emulator's world, persisted so the demo survives restarts.
CREATE TABLE sandbox_state (
    id         int PRIMARY KEY CHECK (id = 1),
    state      bytea       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sandbox_state;
DROP TABLE unrouted_events;
DROP TABLE webhook_event_keys;
DROP TABLE webhook_events;
DROP TABLE messages;
DROP TABLE contacts;
DROP TABLE customers;
DROP TABLE oauth_states;
DROP TABLE channels;
DROP TABLE meta_authorizations;
