package identity_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/identity"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

type fx struct {
	st       *store.Store
	pool     *pgxpool.Pool
	team     int64
	ig, line *models.Channel
}

func setup(t *testing.T) *fx {
	t.Helper()
	ctx := context.Background()
	url := testutil.DatabaseURL(t)
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tm := &models.Team{Name: "Bear", Locale: "zh-TW", PlanStatus: models.PlanActive}
	if err := st.CreateTeam(ctx, tm); err != nil {
		t.Fatal(err)
	}
	f := &fx{st: st, pool: pool, team: tm.ID}
	mk := func(p models.Platform, ext string) *models.Channel {
		c := &models.Channel{TeamID: tm.ID, Platform: p, ExternalID: ext, DisplayName: ext, Status: models.ChannelActive}
		if err := st.CreateChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.ig, f.line = mk(models.Instagram, "ig1"), mk(models.LINE, "line1")
	return f
}

func (f *fx) contact(t *testing.T, ch *models.Channel, ext string) int64 {
	t.Helper()
	id, _, err := f.st.UpsertContact(context.Background(), store.ContactActivity{TeamID: f.team, ChannelID: ch.ID, ExternalUserID: ext, Name: ext})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fx) link(t *testing.T, a, b int64) (identity.Result, error) {
	t.Helper()
	var res identity.Result
	err := f.st.WithTx(context.Background(), func(tx *store.Store) error {
		var err error
		res, err = identity.Link(context.Background(), tx, f.team, a, b, "campaign:1", time.Now())
		return err
	})
	return res, err
}

func (f *fx) customers(t *testing.T, ids ...int64) map[int64]int64 {
	t.Helper()
	m, _, err := f.st.TeamLinkFacts(context.Background(), f.team, ids, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fx) count(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLinkMergesThenIsIdempotentAndUndoes(t *testing.T) {
	f := setup(t)
	ig, ln := f.contact(t, f.ig, "igu"), f.contact(t, f.line, "U1")
	before := f.customers(t, ig, ln)
	res, err := f.link(t, ig, ln)
	if err != nil || res.Outcome != identity.Merged {
		t.Fatalf("link = %+v, %v", res, err)
	}
	mergeID := res.MergeID
	after := f.customers(t, ig, ln)
	if after[ig] != after[ln] || after[ig] != before[ig] {
		t.Fatalf("survivor must be the older customer %d: %v", before[ig], after)
	}
	res, err = f.link(t, ln, ig)
	if err != nil || res.Outcome != identity.AlreadyLinked {
		t.Fatalf("second link = %+v, %v", res, err)
	}
	if n := f.count(t, `SELECT count(*) FROM merges WHERE team_id = $1`, f.team); n != 1 {
		t.Fatalf("merges = %d, want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE team_id = $1 AND action = 'customer.merge'
		AND (detail->>'merge_id')::bigint = $2 AND detail->>'actor' = 'campaign:1'`, f.team, mergeID); n != 1 {
		t.Fatalf("audit rows naming the merge = %d", n)
	}
	err = f.st.WithTx(context.Background(), func(tx *store.Store) error {
		return identity.Undo(context.Background(), tx, f.team, mergeID, "user:1", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.customers(t, ig, ln); got[ig] != before[ig] || got[ln] != before[ln] {
		t.Fatalf("undo left %v, want %v", got, before)
	}
}

func TestMemberNumberRules(t *testing.T) {
	f := setup(t)
	ig, ln := f.contact(t, f.ig, "igu"), f.contact(t, f.line, "U1")
	c := f.customers(t, ig, ln)
	ctx := context.Background()
	f.pool.Exec(ctx, `UPDATE customers SET member_no = 'M1' WHERE id = $1`, c[ig])
	f.pool.Exec(ctx, `UPDATE customers SET member_no = 'M2' WHERE id = $1`, c[ln])
	_, err := f.link(t, ig, ln)
	var ce *identity.ConflictError
	if !errors.As(err, &ce) || ce.Kind != identity.ConflictMemberNo {
		t.Fatalf("err = %v, want member conflict", err)
	}
	if n := f.count(t, `SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("a refused link wrote a merge")
	}
	// Only the younger customer has a number: it survives even though it is younger.
	f.pool.Exec(ctx, `UPDATE customers SET member_no = NULL WHERE id = $1`, c[ig])
	res, err := f.link(t, ig, ln)
	if err != nil || res.CustomerID != c[ln] {
		t.Fatalf("link = %+v, %v; survivor should be %d (member number)", res, err, c[ln])
	}
}

func TestOneIdentityPerChannel(t *testing.T) {
	f := setup(t)
	ig, u1, u2 := f.contact(t, f.ig, "igu"), f.contact(t, f.line, "U1"), f.contact(t, f.line, "U2")
	if _, err := f.link(t, ig, u1); err != nil {
		t.Fatal(err)
	}
	_, err := f.link(t, ig, u2)
	var ce *identity.ConflictError
	if !errors.As(err, &ce) || ce.Kind != identity.ConflictChannel || (ce.HeldBy != u1 && ce.HeldBy != u2) {
		t.Fatalf("err = %v, want channel conflict naming a LINE contact", err)
	}
}

func TestConcurrentLinksMergeOnce(t *testing.T) {
	f := setup(t)
	ig, ln := f.contact(t, f.ig, "igu"), f.contact(t, f.line, "U1")
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := ig, ln
			if i%2 == 1 {
				a, b = ln, ig
			}
			_, err := f.link(t, a, b)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM merges`); n != 1 {
		t.Fatalf("merges = %d, want 1", n)
	}
}

// A contact made before customers existed (no customer yet) gets one of its own and is linked.
func TestLinkGivesACustomerlessContactItsCustomer(t *testing.T) {
	f := setup(t)
	a, b := f.contact(t, f.ig, "old-ig"), f.contact(t, f.line, "old-line")
	if _, err := f.pool.Exec(context.Background(), `UPDATE contacts SET customer_id = NULL WHERE id = $1`, a); err != nil {
		t.Fatal(err)
	}
	res, err := f.link(t, a, b)
	if err != nil || res.Outcome != identity.Merged {
		t.Fatalf("link: %+v %v", res, err)
	}
	if got := f.customers(t, a, b); got[a] == 0 || got[a] != got[b] || got[a] != res.CustomerID {
		t.Fatalf("customers after the link: %v, result %+v", got, res)
	}
	if _, err := f.link(t, a, f.contact(t, f.ig, "missing")+1000); !errors.Is(err, identity.ErrContactNotFound) {
		t.Fatalf("a contact that is not the team's: %v", err)
	}
}

// An Instagram identity has no name: the customer it keeps after a link takes the LINE
// identity's, and gives it back when the merge is undone.
func TestNamelessSurvivorTakesTheAbsorbedName(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	ig, _, err := f.st.UpsertContact(ctx, store.ContactActivity{TeamID: f.team, ChannelID: f.ig.ID, ExternalUserID: "17842000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	ln := f.contact(t, f.line, "王小明")
	res, err := f.link(t, ig, ln)
	if err != nil || res.Outcome != identity.Merged {
		t.Fatalf("link = %+v, %v", res, err)
	}
	name := func(id int64) string {
		var n string
		if err := f.pool.QueryRow(ctx, `SELECT display_name FROM customers WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := name(res.CustomerID); got != "王小明" {
		t.Fatalf("the surviving customer is named %q", got)
	}
	err = f.st.WithTx(ctx, func(tx *store.Store) error {
		return identity.Undo(ctx, tx, f.team, res.MergeID, "user:1", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	after := f.customers(t, ig, ln)
	if name(after[ig]) != "" || name(after[ln]) != "王小明" {
		t.Fatalf("after undo: %q and %q", name(after[ig]), name(after[ln]))
	}
}
