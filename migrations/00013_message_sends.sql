-- +goose Up
-- Every request to send to a contact, with where it ended up: sent, skipped before any platform
-- call (window closed, LINE block, broken channel) or refused by the platform.
CREATE TABLE message_sends (
    id              bigserial PRIMARY KEY,
    team_id         bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    channel_id      bigint      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    contact_id      bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    idempotency_key text        NOT NULL,
    cause           text        NOT NULL DEFAULT '',
    automated       boolean     NOT NULL DEFAULT true,
    outcome         text        NOT NULL CHECK (outcome IN ('queued', 'sent', 'skipped_window', 'skipped_blocked',
                        'skipped_broken_channel', 'failed_recipient', 'failed_broken_channel', 'failed_permanent')),
    detail          text        NOT NULL DEFAULT '',
    parts           int         NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (team_id, idempotency_key)
);
CREATE INDEX message_sends_contact_idx ON message_sends (contact_id, created_at DESC);

-- Outbound messages remember which send and which part they came from, so a retry after a
-- partial failure sends only the parts the platform has not accepted yet.
ALTER TABLE messages ADD COLUMN send_id bigint REFERENCES message_sends (id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN part int;
CREATE UNIQUE INDEX messages_send_part_key ON messages (send_id, part) WHERE send_id IS NOT NULL;

-- +goose Down
DROP INDEX messages_send_part_key;
ALTER TABLE messages DROP COLUMN part;
ALTER TABLE messages DROP COLUMN send_id;
DROP TABLE message_sends;
