-- +goose Up
-- Each foreign key costs an insert a lookup and a share lock on the parent row, and every link
-- writes to these tables: the team's one row and a busy channel's row are share-locked by all
-- of them at once. These keys guard nothing another key does not: a contact goes with its
-- channel, a send and a message with their contact, a link token and a participation with their
-- campaign, and each of those parents goes with its team.
ALTER TABLE contacts DROP CONSTRAINT contacts_team_id_fkey;
ALTER TABLE message_sends DROP CONSTRAINT message_sends_team_id_fkey;
ALTER TABLE message_sends DROP CONSTRAINT message_sends_channel_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_team_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_channel_id_fkey;
ALTER TABLE link_tokens DROP CONSTRAINT link_tokens_team_id_fkey;
ALTER TABLE link_attempts DROP CONSTRAINT link_attempts_team_id_fkey;
-- (team_id, external_user_id) serves every lookup by team alone.
DROP INDEX contacts_team_idx;

-- +goose Down
CREATE INDEX contacts_team_idx ON contacts (team_id);
ALTER TABLE link_attempts ADD CONSTRAINT link_attempts_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE;
ALTER TABLE link_tokens ADD CONSTRAINT link_tokens_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE;
ALTER TABLE messages ADD CONSTRAINT messages_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE;
ALTER TABLE messages ADD CONSTRAINT messages_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE;
ALTER TABLE message_sends ADD CONSTRAINT message_sends_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE;
ALTER TABLE message_sends ADD CONSTRAINT message_sends_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE;
ALTER TABLE contacts ADD CONSTRAINT contacts_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE;
