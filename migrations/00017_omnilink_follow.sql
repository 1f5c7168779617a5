-- +goose Up
-- Optional per campaign: a LINE user who reached the LIFF page as a non-friend and adds the
-- official account within 30 minutes is linked when the follow event arrives.
ALTER TABLE campaigns ADD COLUMN link_on_follow boolean NOT NULL DEFAULT false;
CREATE INDEX link_attempts_liff_user_idx ON link_attempts (liff_user_id) WHERE status = 'open' AND liff_user_id <> '';

-- +goose Down
DROP INDEX link_attempts_liff_user_idx;
ALTER TABLE campaigns DROP COLUMN link_on_follow;
