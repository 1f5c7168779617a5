-- +goose Up
-- Counter rows were sharded by attempt id % 4, so concurrent links on one campaign queued on four
-- rows, each held until its transaction committed. Shard by the writing backend's pid instead:
-- two transactions in flight are never on one backend, so they never wait on each other's
-- counter row. Pids are never 0: the hourly compaction folds the shards of past hours into shard
-- 0, which bounds the rows a statistics page reads. An update whose row keeps its counter keys
-- changes that counter row once, by the difference, instead of twice.
ALTER TABLE link_stats_clicks ALTER COLUMN shard TYPE integer;
ALTER TABLE link_stats_sent ALTER COLUMN shard TYPE integer;

-- +goose StatementBegin
CREATE FUNCTION link_stats_shard() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT pg_backend_pid()
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION link_stats_add_clicks(a link_attempts, sign int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF a.first_clicked_at IS NOT NULL THEN
        INSERT INTO link_stats_clicks AS x (campaign_id, hour, shard, status, reason, target_created, n)
        VALUES (a.campaign_id, date_trunc('hour', a.first_clicked_at), link_stats_shard(), a.status, a.reason, a.target_created, sign)
        ON CONFLICT (campaign_id, hour, status, reason, target_created, shard) DO UPDATE SET n = x.n + EXCLUDED.n;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- link_stats_add_sent adds the counters of n (each 0 or 1, times sign) less those of o (NULL:
-- nothing) to n's row of link_stats_sent.
CREATE FUNCTION link_stats_add_sent(n link_attempts, o link_attempts, sign int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d_sent int := sign * (n.card_sent_at IS NOT NULL)::int - coalesce((o.card_sent_at IS NOT NULL)::int, 0);
    d_clicked int := sign * (n.first_clicked_at IS NOT NULL)::int - coalesce((o.first_clicked_at IS NOT NULL)::int, 0);
    d_opened int := sign * (n.opened_at IS NOT NULL)::int - coalesce((o.opened_at IS NOT NULL)::int, 0);
    d_friend int := sign * (n.friend_required_at IS NOT NULL)::int - coalesce((o.friend_required_at IS NOT NULL)::int, 0);
    d_linked int := sign * (n.status = 'linked')::int - coalesce((o.status = 'linked')::int, 0);
BEGIN
    IF d_sent = 0 AND d_clicked = 0 AND d_opened = 0 AND d_friend = 0 AND d_linked = 0 THEN
        RETURN;
    END IF;
    INSERT INTO link_stats_sent AS x (campaign_id, hour, shard, device, os, in_app, sent, clicked, opened, friend, linked)
    VALUES (n.campaign_id, date_trunc('hour', n.created_at), link_stats_shard(),
        CASE WHEN n.first_clicked_at IS NULL THEN '-' ELSE n.device END,
        CASE WHEN n.first_clicked_at IS NULL THEN '-' ELSE n.os END,
        CASE WHEN n.first_clicked_at IS NULL THEN '-' ELSE n.in_app END,
        d_sent, d_clicked, d_opened, d_friend, d_linked)
    ON CONFLICT (campaign_id, hour, device, os, in_app, shard) DO UPDATE SET sent = x.sent + EXCLUDED.sent,
        clicked = x.clicked + EXCLUDED.clicked, opened = x.opened + EXCLUDED.opened, friend = x.friend + EXCLUDED.friend,
        linked = x.linked + EXCLUDED.linked;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION link_stats_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM link_stats_add_clicks(NEW, 1);
        PERFORM link_stats_add_sent(NEW, NULL, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM link_stats_add_clicks(OLD, -1);
        PERFORM link_stats_add_sent(OLD, NULL, -1);
    ELSE
        IF OLD.first_clicked_at IS NULL OR NEW.first_clicked_at IS NULL
            OR date_trunc('hour', OLD.first_clicked_at) <> date_trunc('hour', NEW.first_clicked_at)
            OR OLD.campaign_id <> NEW.campaign_id OR OLD.status <> NEW.status OR OLD.reason <> NEW.reason
            OR OLD.target_created <> NEW.target_created THEN
            PERFORM link_stats_add_clicks(OLD, -1);
            PERFORM link_stats_add_clicks(NEW, 1);
        END IF;
        IF OLD.campaign_id = NEW.campaign_id AND date_trunc('hour', OLD.created_at) = date_trunc('hour', NEW.created_at)
            AND (OLD.first_clicked_at IS NULL) = (NEW.first_clicked_at IS NULL)
            AND (NEW.first_clicked_at IS NULL OR (OLD.device = NEW.device AND OLD.os = NEW.os AND OLD.in_app = NEW.in_app)) THEN
            PERFORM link_stats_add_sent(NEW, OLD, 1);
        ELSE
            PERFORM link_stats_add_sent(OLD, NULL, -1);
            PERFORM link_stats_add_sent(NEW, NULL, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Counter rows of the old shards stay valid: statistics sum over shards, and the compaction
-- folds them into shard 0 with the rest.
DROP FUNCTION link_stats_apply(link_attempts, int);
-- +goose Down
-- Fold every shard into shard 0 first: the smallint column cannot hold a pid.
WITH gone AS (DELETE FROM link_stats_clicks WHERE shard <> 0 RETURNING campaign_id, hour, status, reason, target_created, n)
INSERT INTO link_stats_clicks AS x (campaign_id, hour, shard, status, reason, target_created, n)
SELECT campaign_id, hour, 0, status, reason, target_created, sum(n) FROM gone GROUP BY 1, 2, 4, 5, 6
ON CONFLICT (campaign_id, hour, status, reason, target_created, shard) DO UPDATE SET n = x.n + EXCLUDED.n;
WITH gone AS (DELETE FROM link_stats_sent WHERE shard <> 0
    RETURNING campaign_id, hour, device, os, in_app, sent, clicked, opened, friend, linked)
INSERT INTO link_stats_sent AS x (campaign_id, hour, shard, device, os, in_app, sent, clicked, opened, friend, linked)
SELECT campaign_id, hour, 0, device, os, in_app, sum(sent), sum(clicked), sum(opened), sum(friend), sum(linked)
FROM gone GROUP BY 1, 2, 4, 5, 6
ON CONFLICT (campaign_id, hour, device, os, in_app, shard) DO UPDATE SET sent = x.sent + EXCLUDED.sent,
    clicked = x.clicked + EXCLUDED.clicked, opened = x.opened + EXCLUDED.opened, friend = x.friend + EXCLUDED.friend,
    linked = x.linked + EXCLUDED.linked;
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
CREATE OR REPLACE FUNCTION link_stats_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP FUNCTION link_stats_add_sent(link_attempts, link_attempts, int);
DROP FUNCTION link_stats_add_clicks(link_attempts, int);
DROP FUNCTION link_stats_shard();
ALTER TABLE link_stats_sent ALTER COLUMN shard TYPE smallint;
ALTER TABLE link_stats_clicks ALTER COLUMN shard TYPE smallint;
