-- +goose Up
-- A member number names one live customer per team; an absorbed customer keeps its own for undo.
CREATE UNIQUE INDEX customers_team_member_no_key ON customers (team_id, member_no) WHERE member_no IS NOT NULL AND merged_into IS NULL;
-- The customer list orders by latest activity and searches identities by platform id.
CREATE INDEX contacts_team_external_idx ON contacts (team_id, external_user_id);
CREATE INDEX merges_absorbed_idx ON merges (absorbed_id);
CREATE INDEX merges_survivor_idx ON merges (survivor_id);
-- Statistics searches and customer timelines find participations by their target contact.
CREATE INDEX link_attempts_target_idx ON link_attempts (target_contact_id) WHERE target_contact_id IS NOT NULL;

-- Per-hour counters of each campaign's participations, kept by triggers, so the statistics
-- page reads hundreds of rows instead of a million. Spread over 4 shards (attempt id % 4) so
-- concurrent clicks on one campaign do not queue on one counter row. No foreign key: rows of
-- deleted campaigns are never read, and cascades may delete in any order.
CREATE TABLE link_stats_clicks (
    campaign_id    bigint      NOT NULL,
    hour           timestamptz NOT NULL, -- first click, truncated to the hour
    shard          smallint    NOT NULL,
    status         text        NOT NULL,
    reason         text        NOT NULL,
    target_created boolean     NOT NULL,
    n              bigint      NOT NULL,
    PRIMARY KEY (campaign_id, hour, status, reason, target_created, shard)
);
CREATE TABLE link_stats_sent (
    campaign_id bigint      NOT NULL,
    hour        timestamptz NOT NULL, -- participation created (card first sent), to the hour
    shard       smallint    NOT NULL,
    device      text        NOT NULL, -- '-' until clicked
    os          text        NOT NULL,
    in_app      text        NOT NULL,
    sent        bigint      NOT NULL,
    clicked     bigint      NOT NULL,
    opened      bigint      NOT NULL,
    friend      bigint      NOT NULL,
    linked      bigint      NOT NULL,
    PRIMARY KEY (campaign_id, hour, device, os, in_app, shard)
);

-- +goose StatementBegin
CREATE FUNCTION link_stats_apply(a link_attempts, sign int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF a.first_clicked_at IS NOT NULL THEN
        INSERT INTO link_stats_clicks AS x (campaign_id, hour, shard, status, reason, target_created, n)
        VALUES (a.campaign_id, date_trunc('hour', a.first_clicked_at), (a.id % 4)::smallint, a.status, a.reason, a.target_created, sign)
        ON CONFLICT (campaign_id, hour, status, reason, target_created, shard) DO UPDATE SET n = x.n + EXCLUDED.n;
    END IF;
    INSERT INTO link_stats_sent AS x (campaign_id, hour, shard, device, os, in_app, sent, clicked, opened, friend, linked)
    VALUES (a.campaign_id, date_trunc('hour', a.created_at), (a.id % 4)::smallint,
        CASE WHEN a.first_clicked_at IS NULL THEN '-' ELSE a.device END,
        CASE WHEN a.first_clicked_at IS NULL THEN '-' ELSE a.os END,
        CASE WHEN a.first_clicked_at IS NULL THEN '-' ELSE a.in_app END,
        sign * (a.card_sent_at IS NOT NULL)::int, sign * (a.first_clicked_at IS NOT NULL)::int, sign * (a.opened_at IS NOT NULL)::int,
        sign * (a.friend_required_at IS NOT NULL)::int, sign * (a.status = 'linked')::int)
    ON CONFLICT (campaign_id, hour, device, os, in_app, shard) DO UPDATE SET sent = x.sent + EXCLUDED.sent,
        clicked = x.clicked + EXCLUDED.clicked, opened = x.opened + EXCLUDED.opened, friend = x.friend + EXCLUDED.friend,
        linked = x.linked + EXCLUDED.linked;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION link_stats_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM link_stats_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM link_stats_apply(NEW, 1);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER link_attempts_stats_insert_delete AFTER INSERT OR DELETE ON link_attempts
    FOR EACH ROW EXECUTE FUNCTION link_stats_trigger();
-- Only changes the counters read: a LIFF verification or a token swap costs nothing.
CREATE TRIGGER link_attempts_stats_update AFTER UPDATE ON link_attempts FOR EACH ROW
    WHEN (OLD.first_clicked_at IS DISTINCT FROM NEW.first_clicked_at OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.reason IS DISTINCT FROM NEW.reason OR OLD.target_created IS DISTINCT FROM NEW.target_created
        OR OLD.card_sent_at IS DISTINCT FROM NEW.card_sent_at OR OLD.opened_at IS DISTINCT FROM NEW.opened_at
        OR OLD.friend_required_at IS DISTINCT FROM NEW.friend_required_at OR OLD.device IS DISTINCT FROM NEW.device
        OR OLD.os IS DISTINCT FROM NEW.os OR OLD.in_app IS DISTINCT FROM NEW.in_app OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION link_stats_trigger();

-- Participations recorded before the counters existed.
INSERT INTO link_stats_clicks (campaign_id, hour, shard, status, reason, target_created, n)
    SELECT campaign_id, date_trunc('hour', first_clicked_at), (id % 4)::smallint, status, reason, target_created, count(*)
    FROM link_attempts WHERE first_clicked_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO link_stats_sent (campaign_id, hour, shard, device, os, in_app, sent, clicked, opened, friend, linked)
    SELECT campaign_id, date_trunc('hour', created_at), (id % 4)::smallint,
        CASE WHEN first_clicked_at IS NULL THEN '-' ELSE device END, CASE WHEN first_clicked_at IS NULL THEN '-' ELSE os END,
        CASE WHEN first_clicked_at IS NULL THEN '-' ELSE in_app END,
        count(card_sent_at), count(first_clicked_at), count(opened_at), count(friend_required_at), count(*) FILTER (WHERE status = 'linked')
    FROM link_attempts GROUP BY 1, 2, 3, 4, 5, 6;

-- +goose Down
DROP TRIGGER link_attempts_stats_update ON link_attempts;
DROP TRIGGER link_attempts_stats_insert_delete ON link_attempts;
DROP FUNCTION link_stats_trigger();
DROP FUNCTION link_stats_apply(link_attempts, int);
DROP TABLE link_stats_sent;
DROP TABLE link_stats_clicks;
DROP INDEX link_attempts_target_idx;
DROP INDEX merges_survivor_idx;
DROP INDEX merges_absorbed_idx;
DROP INDEX contacts_team_external_idx;
DROP INDEX customers_team_member_no_key;
