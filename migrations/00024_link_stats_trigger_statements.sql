-- +goose Up
-- The counters' trigger called a PL/pgSQL function per counter row, and each call ran as a
-- statement of its own: a completed link ran six. The trigger now writes each table once, with
-- the rows that leave (-1) and arrive (+1) in one statement: one row when both fall on the same
-- counter row (by the difference), two otherwise, and nothing when nothing counted changes.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION link_stats_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o link_attempts; -- the row whose counts leave (unset on INSERT)
    n link_attempts; -- the row whose counts arrive (unset on DELETE)
    o_dev text; o_os text; o_app text;
    n_dev text; n_os text; n_app text;
    d int[];
BEGIN
    IF TG_OP <> 'INSERT' THEN o := OLD; END IF;
    IF TG_OP <> 'DELETE' THEN n := NEW; END IF;

    IF TG_OP <> 'UPDATE' OR o.first_clicked_at IS NULL OR n.first_clicked_at IS NULL
        OR date_trunc('hour', o.first_clicked_at) <> date_trunc('hour', n.first_clicked_at)
        OR o.campaign_id <> n.campaign_id OR o.status <> n.status OR o.reason <> n.reason
        OR o.target_created <> n.target_created THEN
        -- The two rows differ in a key here, so the statement never meets one row twice.
        INSERT INTO link_stats_clicks AS x (campaign_id, hour, shard, status, reason, target_created, n)
        SELECT v.campaign_id, date_trunc('hour', v.clicked), link_stats_shard(), v.status, v.reason, v.created, v.sign
        FROM (VALUES (o.campaign_id, o.first_clicked_at, o.status, o.reason, o.target_created, -1),
                     (n.campaign_id, n.first_clicked_at, n.status, n.reason, n.target_created, 1))
            AS v (campaign_id, clicked, status, reason, created, sign)
        WHERE v.clicked IS NOT NULL
        ON CONFLICT (campaign_id, hour, status, reason, target_created, shard) DO UPDATE SET n = x.n + EXCLUDED.n;
    END IF;

    o_dev := CASE WHEN o.first_clicked_at IS NULL THEN '-' ELSE o.device END;
    o_os := CASE WHEN o.first_clicked_at IS NULL THEN '-' ELSE o.os END;
    o_app := CASE WHEN o.first_clicked_at IS NULL THEN '-' ELSE o.in_app END;
    n_dev := CASE WHEN n.first_clicked_at IS NULL THEN '-' ELSE n.device END;
    n_os := CASE WHEN n.first_clicked_at IS NULL THEN '-' ELSE n.os END;
    n_app := CASE WHEN n.first_clicked_at IS NULL THEN '-' ELSE n.in_app END;
    IF TG_OP = 'UPDATE' AND o.campaign_id = n.campaign_id AND date_trunc('hour', o.created_at) = date_trunc('hour', n.created_at)
        AND o_dev = n_dev AND o_os = n_os AND o_app = n_app THEN
        d := ARRAY[(n.card_sent_at IS NOT NULL)::int - (o.card_sent_at IS NOT NULL)::int,
                   (n.first_clicked_at IS NOT NULL)::int - (o.first_clicked_at IS NOT NULL)::int,
                   (n.opened_at IS NOT NULL)::int - (o.opened_at IS NOT NULL)::int,
                   (n.friend_required_at IS NOT NULL)::int - (o.friend_required_at IS NOT NULL)::int,
                   (n.status = 'linked')::int - (o.status = 'linked')::int];
        IF d = ARRAY[0, 0, 0, 0, 0] THEN
            RETURN NULL;
        END IF;
        INSERT INTO link_stats_sent AS x (campaign_id, hour, shard, device, os, in_app, sent, clicked, opened, friend, linked)
        VALUES (n.campaign_id, date_trunc('hour', n.created_at), link_stats_shard(), n_dev, n_os, n_app, d[1], d[2], d[3], d[4], d[5])
        ON CONFLICT (campaign_id, hour, device, os, in_app, shard) DO UPDATE SET sent = x.sent + EXCLUDED.sent,
            clicked = x.clicked + EXCLUDED.clicked, opened = x.opened + EXCLUDED.opened, friend = x.friend + EXCLUDED.friend,
            linked = x.linked + EXCLUDED.linked;
        RETURN NULL;
    END IF;
    -- Different counter rows (or only one side): each side on its own row.
    INSERT INTO link_stats_sent AS x (campaign_id, hour, shard, device, os, in_app, sent, clicked, opened, friend, linked)
    SELECT v.campaign_id, date_trunc('hour', v.created), link_stats_shard(), v.dev, v.os, v.app,
        v.sign * v.sent, v.sign * v.clicked, v.sign * v.opened, v.sign * v.friend, v.sign * v.linked
    FROM (VALUES (o.campaign_id, o.created_at, o_dev, o_os, o_app, -1, (o.card_sent_at IS NOT NULL)::int,
                  (o.first_clicked_at IS NOT NULL)::int, (o.opened_at IS NOT NULL)::int,
                  (o.friend_required_at IS NOT NULL)::int, (o.status = 'linked')::int),
                 (n.campaign_id, n.created_at, n_dev, n_os, n_app, 1, (n.card_sent_at IS NOT NULL)::int,
                  (n.first_clicked_at IS NOT NULL)::int, (n.opened_at IS NOT NULL)::int,
                  (n.friend_required_at IS NOT NULL)::int, (n.status = 'linked')::int))
        AS v (campaign_id, created, dev, os, app, sign, sent, clicked, opened, friend, linked)
    WHERE v.campaign_id IS NOT NULL
    ON CONFLICT (campaign_id, hour, device, os, in_app, shard) DO UPDATE SET sent = x.sent + EXCLUDED.sent,
        clicked = x.clicked + EXCLUDED.clicked, opened = x.opened + EXCLUDED.opened, friend = x.friend + EXCLUDED.friend,
        linked = x.linked + EXCLUDED.linked;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
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
