-- +goose Up
-- No query reads the outbox by team, and each item's row is written three times (queued,
-- claimed, settled), each time into every index of the table.
DROP INDEX outbox_team_idx;

-- +goose Down
CREATE INDEX outbox_team_idx ON outbox (team_id, created_at DESC);
