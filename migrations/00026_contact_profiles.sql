-- +goose Up
-- Messenger, Instagram and LINE webhooks carry no name: a contact they make is named from the
-- platform's profile API once, after its first message. profile_read_at records that try.
ALTER TABLE contacts ADD COLUMN profile_read_at timestamptz;
-- Only the few contacts still waiting are indexed; the rest never enter it.
CREATE INDEX contacts_profile_pending_idx ON contacts (id) WHERE name = '' AND profile_read_at IS NULL;

-- +goose Down
DROP INDEX contacts_profile_pending_idx;
ALTER TABLE contacts DROP COLUMN profile_read_at;
