-- +goose Up
-- Bot modules (機器人模組): a team's named, ordered message blocks for one platform. Blocks are
-- kept as one JSON document because they are always read and written whole; an OmniLink card
-- block names its campaign inside that document (checked against the team at save time).
CREATE TABLE bot_modules (
    id         bigserial PRIMARY KEY,
    team_id    bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    platform   text        NOT NULL CHECK (platform IN ('facebook', 'instagram', 'line', 'whatsapp')),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    blocks     jsonb       NOT NULL DEFAULT '[]',
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bot_modules_team_idx ON bot_modules (team_id, platform, lower(name));

-- Triggers: on one channel, a keyword (exact or contained, compared normalised) or a postback
-- payload answers with a module. RESTRICT keeps a module from vanishing under its trigger.
CREATE TABLE triggers (
    id         bigserial PRIMARY KEY,
    team_id    bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    channel_id bigint      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    kind       text        NOT NULL CHECK (kind IN ('exact', 'contains', 'postback', 'no_match')),
    pattern    text        NOT NULL DEFAULT '',
    normalized text        NOT NULL DEFAULT '',
    module_id  bigint      NOT NULL REFERENCES bot_modules (id) ON DELETE RESTRICT,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'no_match') = (normalized = ''))
);
CREATE UNIQUE INDEX triggers_channel_pattern_key ON triggers (channel_id, kind, normalized);
CREATE INDEX triggers_module_idx ON triggers (module_id);

-- +goose Down
DROP TABLE triggers;
DROP TABLE bot_modules;
