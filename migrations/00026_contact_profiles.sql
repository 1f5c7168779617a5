-- +goose Up
-- Messenger, Instagram and LINE webhooks carry no name: a contact they make is named from the
-- platform's profile API after its first message. profile_read_at records the answer (or the
-- last of a few tries); a platform that is down or throttling is asked again at profile_retry_at.
ALTER TABLE contacts ADD COLUMN profile_read_at timestamptz,
    ADD COLUMN profile_tries smallint NOT NULL DEFAULT 0,
    ADD COLUMN profile_retry_at timestamptz;
-- Only the contacts still waiting are indexed; the rest never enter it.
CREATE INDEX contacts_profile_pending_idx ON contacts (id) WHERE name = '' AND profile_read_at IS NULL;

-- +goose Down
DROP INDEX contacts_profile_pending_idx;
ALTER TABLE contacts DROP COLUMN profile_read_at, DROP COLUMN profile_tries, DROP COLUMN profile_retry_at;
