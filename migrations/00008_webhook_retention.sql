-- +goose Up
-- Processed deliveries are pruned after the retention period, oldest first; deleting one cascades
-- to its event keys and unrouted events, which need their own indexes for that.
CREATE INDEX webhook_events_processed_idx ON webhook_events (processed_at) WHERE processed_at IS NOT NULL;
CREATE INDEX webhook_event_keys_event_idx ON webhook_event_keys (event_id);
CREATE INDEX unrouted_events_event_idx ON unrouted_events (event_id);

-- An alert counts as sent only once it is delivered: alerted_at is set by the delivery, and a
-- permanently failed email is kept here, shown to the team and queued again later.
ALTER TABLE health_episodes
    ADD COLUMN alert_attempts  int         NOT NULL DEFAULT 0,
    ADD COLUMN alert_failed_at timestamptz,
    ADD COLUMN alert_error     text        NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE health_episodes DROP COLUMN alert_error, DROP COLUMN alert_failed_at, DROP COLUMN alert_attempts;
DROP INDEX unrouted_events_event_idx;
DROP INDEX webhook_event_keys_event_idx;
DROP INDEX webhook_events_processed_idx;
