-- +goose Up
-- A Facebook Login result explains itself: arguments of its outcome message (the step that
-- failed, the platform's reason) and notes about other channels (a sibling left broken).
ALTER TABLE oauth_states
    ADD COLUMN outcome_args jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN notes        jsonb NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE oauth_states DROP COLUMN notes, DROP COLUMN outcome_args;
