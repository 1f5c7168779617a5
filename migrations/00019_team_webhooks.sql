-- +goose Up
-- A team's outbound webhook: where link, merge and undo events are posted, and the secret
-- (encrypted at rest) that signs them.
CREATE TABLE team_webhooks (
    team_id     bigint      PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    url         text        NOT NULL CHECK (url LIKE 'https://%' OR url LIKE 'http://%'),
    secret_enc  text        NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true,
    updated_by  bigint      REFERENCES users (id) ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every event posted (or to be posted) to a team's webhook, with its fixed body and how its
-- delivery went; delivered through the outbox, in order per team.
CREATE TABLE team_webhook_deliveries (
    id           bigserial PRIMARY KEY,
    team_id      bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    event_id     text        NOT NULL UNIQUE,
    kind         text        NOT NULL,
    body         text        NOT NULL,
    attempts     int         NOT NULL DEFAULT 0,
    last_status  int         NOT NULL DEFAULT 0,
    last_error   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempted_at timestamptz,
    delivered_at timestamptz,
    given_up_at  timestamptz
);
CREATE INDEX team_webhook_deliveries_team_idx ON team_webhook_deliveries (team_id, id DESC);
CREATE INDEX team_webhook_deliveries_pending_idx ON team_webhook_deliveries (team_id, id) WHERE delivered_at IS NULL AND given_up_at IS NULL;

-- +goose Down
DROP TABLE team_webhook_deliveries;
DROP TABLE team_webhooks;
