-- +goose Up
-- Items that share a lane (a contact's messages) are delivered one after the other in the order
-- they were queued: an item is claimed only when no earlier item of its lane is still pending.
ALTER TABLE outbox ADD COLUMN lane text NOT NULL DEFAULT '';
CREATE INDEX outbox_lane_pending_idx ON outbox (lane, id) WHERE done_at IS NULL AND failed_at IS NULL AND lane <> '';
-- The claim's order as an index: a claim reads due items in order and stops at its limit,
-- checking lanes only for the items it takes, instead of sorting everything pending.
DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE done_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE done_at IS NULL AND failed_at IS NULL;
DROP INDEX outbox_lane_pending_idx;
ALTER TABLE outbox DROP COLUMN lane;
