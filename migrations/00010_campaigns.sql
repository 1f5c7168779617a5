-- +goose Up
-- Tags a team applies to contacts; contact_tags and tag rules come with the automation tables.
CREATE TABLE tags (
    id         bigserial PRIMARY KEY,
    team_id    bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_team_name_key ON tags (team_id, lower(name));

-- Image bytes, addressed by the SHA-256 of the encoded file: served at /media/{hash}.{ext}
-- from any replica, and shared when two uploads re-encode to the same bytes.
CREATE TABLE media_blobs (
    hash       text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    mime       text        NOT NULL CHECK (mime IN ('image/jpeg', 'image/png')),
    width      int         NOT NULL CHECK (width > 0),
    height     int         NOT NULL CHECK (height > 0),
    data       bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One upload by a team: the size it arrived in and its renditions (card: original ratio;
-- square: the 1:1 centre crop Facebook and Instagram cards show).
CREATE TABLE media (
    id              bigserial PRIMARY KEY,
    team_id         bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    source_width    int         NOT NULL,
    source_height   int         NOT NULL,
    mime            text        NOT NULL CHECK (mime IN ('image/jpeg', 'image/png')),
    card_hash       text        NOT NULL REFERENCES media_blobs (hash),
    square_hash     text        NOT NULL REFERENCES media_blobs (hash),
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_team_idx ON media (team_id);

-- OmniLink campaigns. Bot modules do not have a table yet, so module ids carry no foreign key.
CREATE TABLE campaigns (
    id                        bigserial PRIMARY KEY,
    team_id                   bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name                      text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status                    text        NOT NULL CHECK (status IN ('enabled', 'disabled')),
    source_channel_id         bigint      NOT NULL REFERENCES channels (id),
    target_channel_id         bigint      NOT NULL REFERENCES channels (id),
    card_media_id             bigint REFERENCES media (id),
    card_title                text        NOT NULL,
    card_text                 text        NOT NULL DEFAULT '',
    card_button               text        NOT NULL,
    wa_message                text        NOT NULL DEFAULT '',
    success_source_kind       text        NOT NULL DEFAULT 'none' CHECK (success_source_kind IN ('none', 'text', 'module')),
    success_source_text       text        NOT NULL DEFAULT '',
    success_source_module_id  bigint,
    success_target_kind       text        NOT NULL CHECK (success_target_kind IN ('text', 'module')),
    success_target_text       text        NOT NULL DEFAULT '',
    success_target_module_id  bigint,
    failure_source_kind       text        NOT NULL DEFAULT 'none' CHECK (failure_source_kind IN ('none', 'text', 'module')),
    failure_source_text       text        NOT NULL DEFAULT '',
    failure_source_module_id  bigint,
    tags_source               jsonb       NOT NULL DEFAULT '[]',
    tags_target               jsonb       NOT NULL DEFAULT '[]',
    token_ttl_days            int         NOT NULL DEFAULT 7 CHECK (token_ttl_days BETWEEN 1 AND 30),
    version                   int         NOT NULL DEFAULT 1,
    created_by                bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_by                bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    deleted_at                timestamptz, -- soft delete: statistics stay, links answer "does not exist"
    CHECK (source_channel_id <> target_channel_id)
);
CREATE INDEX campaigns_team_idx ON campaigns (team_id, updated_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX audit_log_target_idx ON audit_log (team_id, target, created_at DESC);

-- +goose Down
DROP INDEX audit_log_target_idx;
DROP TABLE campaigns;
DROP TABLE media;
DROP TABLE media_blobs;
DROP TABLE tags;
