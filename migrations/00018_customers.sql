-- +goose Up
-- A member number names one live customer per team; an absorbed customer keeps its own for undo.
CREATE UNIQUE INDEX customers_team_member_no_key ON customers (team_id, member_no) WHERE member_no IS NOT NULL AND merged_into IS NULL;
-- The customer list orders by latest activity and searches identities by platform id.
CREATE INDEX contacts_team_external_idx ON contacts (team_id, external_user_id);
CREATE INDEX merges_absorbed_idx ON merges (absorbed_id);
CREATE INDEX merges_survivor_idx ON merges (survivor_id);

-- +goose Down
DROP INDEX merges_survivor_idx;
DROP INDEX merges_absorbed_idx;
DROP INDEX contacts_team_external_idx;
DROP INDEX customers_team_member_no_key;
