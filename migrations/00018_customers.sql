-- +goose Up
-- A member number names one live customer per team; an absorbed customer keeps its own for undo.
CREATE UNIQUE INDEX customers_team_member_no_key ON customers (team_id, member_no) WHERE member_no IS NOT NULL AND merged_into IS NULL;
-- The customer list orders by latest activity and searches identities by platform id.
CREATE INDEX contacts_team_external_idx ON contacts (team_id, external_user_id);
CREATE INDEX merges_absorbed_idx ON merges (absorbed_id);
CREATE INDEX merges_survivor_idx ON merges (survivor_id);
-- Campaign statistics read a range of one campaign's participations by first click (figures,
-- daily chart) or by when the card was first sent (the funnel): covering indexes let Postgres
-- answer from the index alone for a campaign with a million participations.
CREATE INDEX link_attempts_stats_click_idx ON link_attempts (campaign_id, first_clicked_at) INCLUDE (status, reason, target_created);
CREATE INDEX link_attempts_stats_sent_idx ON link_attempts (campaign_id, created_at)
    INCLUDE (card_sent_at, first_clicked_at, opened_at, friend_required_at, status, device, os, in_app);

-- +goose Down
DROP INDEX link_attempts_stats_sent_idx;
DROP INDEX link_attempts_stats_click_idx;
DROP INDEX merges_survivor_idx;
DROP INDEX merges_absorbed_idx;
DROP INDEX contacts_team_external_idx;
DROP INDEX customers_team_member_no_key;
