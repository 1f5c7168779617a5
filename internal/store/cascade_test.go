package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/testutil"
)

// The hot tables keep only the foreign keys that remove their rows with a parent; deleting a
// team must still leave nothing of it behind.
func TestDeletingATeamLeavesNoRows(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testutil.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, linkStatsSeed+`
		INSERT INTO customers (id, team_id, display_name) VALUES (1, 1, 'A');
		UPDATE contacts SET customer_id = 1 WHERE id <= 2;
		INSERT INTO message_sends (id, team_id, channel_id, contact_id, idempotency_key, cause, outcome, parts)
			VALUES (1, 1, 1, 1, 'k', 'test', 'sent', 1);
		INSERT INTO messages (team_id, channel_id, contact_id, direction, platform_message_id, kind, body, send_id, part, sent_at)
			VALUES (1, 1, 1, 'out', 'm1', 'text', 'hi', 1, 0, now());
		INSERT INTO link_tokens (id, team_id, campaign_id, source_contact_id, token_hash, expires_at)
			VALUES (1, 1, 1, 1, sha256('t'), now() + interval '1 day');
		INSERT INTO link_attempts (team_id, campaign_id, source_contact_id, last_token_id) VALUES (1, 1, 1, 1);`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM teams WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"contacts", "customers", "message_sends", "messages", "link_tokens", "link_attempts", "campaigns", "channels"} {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s keeps %d rows of the deleted team", table, n)
		}
	}
}
