package store_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

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
