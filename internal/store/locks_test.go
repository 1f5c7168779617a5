package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
)

// A health check, a campaign edit or a merge locks a row that busy transactions reference by
// foreign key (a channel, a campaign, a contact, a customer). The lock must not wait for those
// transactions: a FOR UPDATE would, and every later insert on that channel would queue behind it.
func TestRowLocksDoNotWaitForChildInserts(t *testing.T) {
	ctx := context.Background()
	url := testutil.DatabaseURL(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, linkStatsSeed+`
		INSERT INTO customers (id, team_id, display_name) VALUES (1, 1, 'A');
		UPDATE contacts SET customer_id = 1 WHERE id = 1;
		INSERT INTO health_episodes (team_id, channel_id, cause, detected_by, opened_at) VALUES (1, 2, 'auth', 'check', now());
		UPDATE channels SET token_expires_at = now() + interval '2 days' WHERE id = 2;`); err != nil {
		t.Fatal(err)
	}
	// An open transaction whose inserts share-lock channel 2, campaign 1, contact 1 and customer 1.
	busy, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Rollback(ctx) }()
	if _, err := busy.Exec(ctx, `INSERT INTO contacts (id, team_id, channel_id, external_user_id, name, customer_id) VALUES (900, 1, 2, 'U9', '', 1);
		INSERT INTO link_attempts (team_id, campaign_id, source_contact_id) VALUES (1, 1, 1)`); err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	locks := map[string]func(tx *store.Store, ctx context.Context) error{
		"health sweep channel": func(tx *store.Store, ctx context.Context) error {
			_, err := tx.LockChannelForSweep(ctx, 2)
			return err
		},
		"team channel": func(tx *store.Store, ctx context.Context) error {
			_, err := tx.ChannelForUpdate(ctx, 1, 2)
			return err
		},
		"campaign": func(tx *store.Store, ctx context.Context) error {
			_, err := tx.CampaignForUpdate(ctx, 1, 1)
			return err
		},
		"customers": func(tx *store.Store, ctx context.Context) error {
			_, err := tx.LockTeamCustomers(ctx, 1, []int64{1})
			return err
		},
		"contacts' customers": func(tx *store.Store, ctx context.Context) error {
			_, err := tx.LockTeamContactsCustomers(ctx, 1, []int64{1})
			return err
		},
	}
	// The health emails' locks skip channels locked elsewhere; a channel that is merely busy
	// must not be skipped, or its email waits for a quiet moment that may never come.
	skipping := map[string]func(tx *store.Store, ctx context.Context) (int, error){
		"pending alerts": func(tx *store.Store, ctx context.Context) (int, error) {
			eps, err := tx.LockPendingAlerts(ctx, 1, time.Now())
			return len(eps), err
		},
		"expiring channels": func(tx *store.Store, ctx context.Context) (int, error) {
			chs, err := tx.LockExpiringChannels(ctx, 1, time.Now(), time.Now().Add(7*24*time.Hour))
			return len(chs), err
		},
	}
	for name, lock := range skipping {
		t.Run(name, func(t *testing.T) {
			var n int
			err := st.WithTx(ctx, func(tx *store.Store) (err error) { n, err = lock(tx, ctx); return err })
			if err != nil || n != 1 {
				t.Fatalf("a busy channel was skipped: %d rows, %v", n, err)
			}
		})
	}
	for name, lock := range locks {
		t.Run(name, func(t *testing.T) {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			if err := st.WithTx(cctx, func(tx *store.Store) error { return lock(tx, cctx) }); err != nil {
				t.Fatalf("lock waited for a transaction that only references the row: %v", err)
			}
		})
	}
}
