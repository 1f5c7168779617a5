-- +goose Up
-- Every time the console and its emails show is in the team's own zone (an IANA name, checked
-- by the application against the zone database; the database only refuses nonsense lengths).
ALTER TABLE teams ADD COLUMN time_zone text NOT NULL DEFAULT 'Asia/Taipei'
    CHECK (length(time_zone) BETWEEN 1 AND 64);

-- +goose Down
ALTER TABLE teams DROP COLUMN time_zone;
