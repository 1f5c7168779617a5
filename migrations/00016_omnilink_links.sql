-- +goose Up
-- A link token handed out in one card: only its SHA-256 is kept, so a database leak opens no
-- link. Bound to its campaign and source contact; single-use once the link succeeded.
CREATE TABLE link_tokens (
    id                bigserial PRIMARY KEY,
    team_id           bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    campaign_id       bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    source_contact_id bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    token_hash        bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    wa_code           text,       -- WhatsApp target: the code the prefilled message carries
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    used_at           timestamptz
);
CREATE INDEX link_tokens_pair_idx ON link_tokens (campaign_id, source_contact_id);
-- A code is unique among open tokens, so a WhatsApp message names at most one of them.
CREATE UNIQUE INDEX link_tokens_open_code_key ON link_tokens (wa_code) WHERE wa_code IS NOT NULL AND used_at IS NULL;

-- One participation per campaign and source contact: the card was sent, then each step the
-- customer took on the way to (or off) the link.
CREATE TABLE link_attempts (
    id                 bigserial PRIMARY KEY,
    team_id            bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    campaign_id        bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    source_contact_id  bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    last_token_id      bigint      REFERENCES link_tokens (id) ON DELETE SET NULL,
    card_sent_at       timestamptz,
    first_clicked_at   timestamptz,
    opened_at          timestamptz,
    device             text        NOT NULL DEFAULT '',
    os                 text        NOT NULL DEFAULT '',
    in_app             text        NOT NULL DEFAULT '',
    friend_required_at timestamptz,
    liff_verified_at   timestamptz,
    liff_user_id       text        NOT NULL DEFAULT '',
    -- The ID token that completed the link: one ID token completes at most one participation.
    id_token_hash      bytea       UNIQUE,
    target_contact_id  bigint      REFERENCES contacts (id) ON DELETE SET NULL,
    target_created     boolean     NOT NULL DEFAULT false,
    status             text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'linked', 'failed')),
    reason             text        NOT NULL DEFAULT '' CHECK (reason IN ('', 'disabled', 'link_failed',
                           'source_not_found', 'target_not_found', 'member_conflict', 'internal', 'none')),
    reason_detail      text        NOT NULL DEFAULT '',
    completed_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, source_contact_id)
);
CREATE INDEX link_attempts_campaign_idx ON link_attempts (campaign_id, first_clicked_at);

-- Every merge of two customers, with what the absorbed one looked like, so it can be undone.
CREATE TABLE merges (
    id           bigserial PRIMARY KEY,
    team_id      bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    survivor_id  bigint      NOT NULL REFERENCES customers (id),
    absorbed_id  bigint      NOT NULL REFERENCES customers (id),
    snapshot     jsonb       NOT NULL,
    actor        text        NOT NULL, -- campaign:{id} or user:{id}
    created_at   timestamptz NOT NULL DEFAULT now(),
    undone_at    timestamptz
);
CREATE INDEX merges_team_idx ON merges (team_id, created_at DESC);
CREATE INDEX customers_merged_into_idx ON customers (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX contacts_customer_idx ON contacts (customer_id);

-- +goose Down
DROP INDEX contacts_customer_idx;
DROP INDEX customers_merged_into_idx;
DROP TABLE merges;
DROP TABLE link_attempts;
DROP TABLE link_tokens;
