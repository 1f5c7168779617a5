package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

func TestTeamScopingAndEmailUniqueness(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	a := &models.Team{Name: "A", Locale: "zh-TW", PlanStatus: models.PlanActive}
	b := &models.Team{Name: "B", Locale: "en", PlanStatus: models.PlanActive}
	for _, tm := range []*models.Team{a, b} {
		if err := st.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
	u := &models.User{TeamID: a.ID, Email: "x@a.test", Name: "X", PasswordHash: "h", Role: models.RoleAgent}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	dup := &models.User{TeamID: b.ID, Email: "x@a.test", Name: "Y", PasswordHash: "h", Role: models.RoleAgent}
	if err := st.CreateUser(ctx, dup); !errors.Is(err, store.ErrEmailTaken) {
		t.Fatalf("duplicate email across teams: got %v, want ErrEmailTaken", err)
	}
	if _, err := st.TeamUser(ctx, b.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other team's user: got %v, want ErrNotFound", err)
	}
	if err := st.UpdateUserRole(ctx, b.ID, u.ID, models.RoleAdmin); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-team update: got %v", err)
	}
	got, err := st.TeamUser(ctx, a.ID, u.ID)
	if err != nil || got.Role != models.RoleAgent {
		t.Fatalf("role changed by cross-team update: %+v %v", got, err)
	}
}

func TestWithTxRollsBack(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := st.WithTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateTeam(ctx, &models.Team{Name: "T", Locale: "en", PlanStatus: models.PlanActive}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n, _ := st.CountTeams(ctx); n != 0 {
		t.Fatalf("teams after rollback = %d", n)
	}
}

func TestLoginFailureCounts(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	now := time.Now()
	for range 3 {
		if err := st.RecordLoginFailure(ctx, "a@x", "1.1.1.1", now); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.RecordLoginFailure(ctx, "b@x", "1.1.1.1", now)
	_ = st.RecordLoginFailure(ctx, "a@x", "2.2.2.2", now.Add(-time.Hour))
	e, i, err := st.CountLoginFailures(ctx, "a@x", "1.1.1.1", now.Add(-15*time.Minute))
	if err != nil || e != 3 || i != 4 {
		t.Fatalf("byEmail=%d byIP=%d err=%v; want 3, 4", e, i, err)
	}
}

// Concurrent first messages from one new customer make one contact with one customer, and no
// customer is left over from the race.
func TestUpsertContactRaceMakesOneCustomer(t *testing.T) {
	ctx := context.Background()
	url := testutil.DatabaseURL(t)
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	team := &models.Team{Name: "T", Locale: "en", PlanStatus: models.PlanActive}
	if err := st.CreateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	ch := &models.Channel{TeamID: team.ID, Platform: models.LINE, ExternalID: "Ubot", DisplayName: "LINE", Status: models.ChannelActive}
	if err := st.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		ext := fmt.Sprintf("Uuser%d", round)
		var wg sync.WaitGroup
		ids := make([]int64, 8)
		created := make([]bool, 8)
		for i := range ids {
			wg.Go(func() {
				err := st.WithTx(ctx, func(tx *store.Store) error {
					var err error
					ids[i], created[i], err = tx.UpsertContact(ctx, store.ContactActivity{TeamID: team.ID, ChannelID: ch.ID, ExternalUserID: ext, Name: "客人"})
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		made := 0
		for i := range ids {
			if ids[i] != ids[0] {
				t.Fatalf("round %d: contacts %d and %d for one user", round, ids[0], ids[i])
			}
			if created[i] {
				made++
			}
		}
		if made != 1 {
			t.Fatalf("round %d: %d calls say they created the contact", round, made)
		}
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var customers int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM customers WHERE team_id = $1`, team.ID).Scan(&customers); err != nil {
		t.Fatal(err)
	}
	if customers != 5 {
		t.Fatalf("%d customers for 5 contacts", customers)
	}
}
