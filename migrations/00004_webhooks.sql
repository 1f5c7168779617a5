-- +goose Up
-- A failed delivery waits before its next try, so a broken event does not spin the processor.
ALTER TABLE webhook_events ADD COLUMN next_attempt_at timestamptz;

-- When the LINE friendship last changed, by the platform's event time: a late redelivery of an
-- older follow/unfollow must not overwrite a newer state.
ALTER TABLE contacts ADD COLUMN line_friendship_at timestamptz;

-- +goose Down
ALTER TABLE contacts DROP COLUMN line_friendship_at;
ALTER TABLE webhook_events DROP COLUMN next_attempt_at;
