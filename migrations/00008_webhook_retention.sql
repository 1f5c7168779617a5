-- +goose Up
-- Processed deliveries and their deduplication keys are pruned after the retention period, oldest
-- first. BRIN indexes find the old rows for almost nothing on the hot insert path.
CREATE INDEX webhook_events_received_brin ON webhook_events USING brin (received_at);
CREATE INDEX webhook_event_keys_created_brin ON webhook_event_keys USING brin (created_at);
-- Keys are pruned by their own age, so the processor no longer pays a foreign-key check on every
-- key it records; unrouted events still go with their delivery.
ALTER TABLE webhook_event_keys DROP CONSTRAINT webhook_event_keys_event_id_fkey;
CREATE INDEX unrouted_events_event_idx ON unrouted_events (event_id);
-- The receiver's INSERT is the webhook hot path: a foreign key to channels made every LINE
-- delivery share-lock its channel's row, one hot row for all of that channel's traffic. The
-- processor looks the channel up anyway and treats a missing one as unrouted.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_channel_id_fkey;
-- Room on each page lets the processor's contact upserts be HOT updates (no index entries).
ALTER TABLE contacts SET (fillfactor = 80);

-- An alert counts as sent only once it is delivered: alerted_at is set by the delivery, and a
-- permanently failed email is kept here, shown to the team and queued again later.
ALTER TABLE health_episodes
    ADD COLUMN alert_attempts  int         NOT NULL DEFAULT 0,
    ADD COLUMN alert_failed_at timestamptz,
    ADD COLUMN alert_error     text        NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE health_episodes DROP COLUMN alert_error, DROP COLUMN alert_failed_at, DROP COLUMN alert_attempts;
ALTER TABLE contacts RESET (fillfactor);
DROP INDEX unrouted_events_event_idx;
UPDATE webhook_events e SET channel_id = NULL WHERE channel_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = e.channel_id);
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_channel_id_fkey
    FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE SET NULL;
DELETE FROM webhook_event_keys k WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = k.event_id);
ALTER TABLE webhook_event_keys ADD CONSTRAINT webhook_event_keys_event_id_fkey
    FOREIGN KEY (event_id) REFERENCES webhook_events (id) ON DELETE CASCADE;
DROP INDEX webhook_event_keys_created_brin;
DROP INDEX webhook_events_received_brin;
