-- +goose Up
-- Which tags a contact carries, and who or what put each one there.
CREATE TABLE contact_tags (
    team_id    bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    contact_id bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag_id     bigint      NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    source     text        NOT NULL CHECK (source IN ('user', 'campaign', 'journey')),
    source_id  bigint, -- the user, campaign or journey that applied it
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX contact_tags_tag_idx ON contact_tags (tag_id, applied_at DESC);

-- Journeys: a trigger tag and ordered steps (kept together so a save replaces them at once).
CREATE TABLE journeys (
    id             bigserial PRIMARY KEY,
    team_id        bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    trigger_tag_id bigint REFERENCES tags (id) ON DELETE SET NULL,
    enabled        boolean     NOT NULL DEFAULT true,
    steps          jsonb       NOT NULL DEFAULT '[]',
    created_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journeys_team_idx ON journeys (team_id);
CREATE INDEX journeys_trigger_idx ON journeys (trigger_tag_id) WHERE trigger_tag_id IS NOT NULL;

-- What adding a tag does: start a journey, or show a rich menu on one LINE channel. Among
-- rich-menu rules that apply to a contact, the highest priority wins.
CREATE TABLE tag_rules (
    id              bigserial PRIMARY KEY,
    team_id         bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    tag_id          bigint      NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    action          text        NOT NULL CHECK (action IN ('journey', 'rich_menu')),
    journey_id      bigint REFERENCES journeys (id) ON DELETE CASCADE,
    channel_id      bigint REFERENCES channels (id) ON DELETE CASCADE,
    rich_menu_id    text        NOT NULL DEFAULT '',
    rich_menu_name  text        NOT NULL DEFAULT '',
    priority        int         NOT NULL DEFAULT 0,
    menu_missing_at timestamptz, -- LINE no longer has the menu: shown, never applied
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((action = 'journey' AND journey_id IS NOT NULL)
        OR (action = 'rich_menu' AND channel_id IS NOT NULL AND rich_menu_id <> ''))
);
CREATE INDEX tag_rules_tag_idx ON tag_rules (tag_id);
CREATE INDEX tag_rules_channel_idx ON tag_rules (channel_id) WHERE channel_id IS NOT NULL;

-- One LINE user's rich menu: what the rules want and what LINE was last told. Each change of
-- the wish bumps generation, so older queued work knows it was superseded.
CREATE TABLE contact_rich_menus (
    contact_id   bigint PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    team_id      bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    channel_id   bigint      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    rule_id      bigint REFERENCES tag_rules (id) ON DELETE SET NULL,
    desired      text        NOT NULL DEFAULT '', -- '' is the default menu (unlinked)
    applied      text,                            -- NULL until LINE confirmed one
    generation   int         NOT NULL DEFAULT 0,
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'failed')),
    error        text        NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_rich_menus_channel_idx ON contact_rich_menus (channel_id) WHERE status <> 'applied';

-- A contact's way through a journey; the scheduler claims due runs with SKIP LOCKED.
CREATE TABLE journey_runs (
    id           bigserial PRIMARY KEY,
    team_id      bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    journey_id   bigint      NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
    contact_id   bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    status       text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'stopped')),
    step         int         NOT NULL DEFAULT 0,
    next_step_at timestamptz,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX journey_runs_one_running ON journey_runs (journey_id, contact_id) WHERE status = 'running';
CREATE INDEX journey_runs_due_idx ON journey_runs (next_step_at) WHERE status = 'running';
CREATE INDEX journey_runs_journey_idx ON journey_runs (journey_id, started_at DESC);

-- What each step of a run did, or why it was skipped.
CREATE TABLE journey_run_steps (
    id      bigserial PRIMARY KEY,
    run_id  bigint      NOT NULL REFERENCES journey_runs (id) ON DELETE CASCADE,
    step    int         NOT NULL,
    kind    text        NOT NULL,
    outcome text        NOT NULL CHECK (outcome IN ('done', 'skipped')),
    reason  text        NOT NULL DEFAULT '',
    at      timestamptz NOT NULL,
    UNIQUE (run_id, step)
);

-- +goose Down
DROP TABLE journey_run_steps;
DROP TABLE journey_runs;
DROP TABLE contact_rich_menus;
DROP TABLE tag_rules;
DROP TABLE journeys;
DROP TABLE contact_tags;
