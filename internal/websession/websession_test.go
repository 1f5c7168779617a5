package websession_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/internal/websession"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// save stores a session with uid in one request and returns the cookie.
func save(t *testing.T, s *websession.Store, uid int64) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	sess, _ := s.New(r, "s")
	sess.Values[websession.KeyUserID] = uid
	if err := sess.Save(r, w); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()[0]
}

func load(t *testing.T, s *websession.Store, c *http.Cookie) (int64, bool) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	sess, err := s.New(r, "s")
	if err != nil {
		t.Fatal(err)
	}
	uid, ok := sess.Values[websession.KeyUserID].(int64)
	return uid, ok && !sess.IsNew
}

// user makes the account a session belongs to.
func user(t *testing.T, st *store.Store) int64 {
	t.Helper()
	ctx := context.Background()
	tm := &models.Team{Name: "T", Locale: "en", PlanStatus: models.PlanActive}
	if err := st.CreateTeam(ctx, tm); err != nil {
		t.Fatal(err)
	}
	u := &models.User{TeamID: tm.ID, Email: fmt.Sprintf("u%d@t.test", time.Now().UnixNano()), Name: "U", PasswordHash: "x", Role: models.RoleAgent}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	st := testutil.Store(t)
	uid := user(t, st)
	now := time.Now()
	clock := func() time.Time { return now }
	s := websession.New(st, websession.Options{HashKey: []byte("0123456789abcdef0123456789abcdef"), Idle: time.Hour, Absolute: 5 * time.Hour, Now: clock})
	c := save(t, s, uid)
	if got, ok := load(t, s, c); !ok || got != uid {
		t.Fatalf("fresh session: %d %v", got, ok)
	}
	now = now.Add(2 * time.Hour)
	if _, ok := load(t, s, c); ok {
		t.Fatal("session survived its idle limit")
	}

	// Activity keeps a session alive until the absolute limit.
	now = time.Now()
	c = save(t, s, uid)
	for range 5 {
		now = now.Add(50 * time.Minute)
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(c)
		sess, _ := s.New(r, "s")
		if sess.IsNew {
			t.Fatal("active session expired early")
		}
		w := httptest.NewRecorder()
		if err := sess.Save(r, w); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(55 * time.Minute) // 5 h 5 min since creation, idle for only 55 min
	if _, ok := load(t, s, c); ok {
		t.Fatal("session survived its absolute limit")
	}
}

func TestForgedCookieIsIgnored(t *testing.T) {
	st := testutil.Store(t)
	s := websession.New(st, websession.Options{HashKey: []byte("0123456789abcdef0123456789abcdef")})
	other := websession.New(st, websession.Options{HashKey: []byte("another-key-another-key-another-")})
	c := save(t, other, user(t, st))
	if _, ok := load(t, s, c); ok {
		t.Fatal("a cookie signed with another key was accepted")
	}
}

// TestIdleMeansNoRequests proves idle expiry counts from the last request, not from login:
// a session that is only read (as every console page does) stays alive while used, ends after
// an idle gap, and ends at the absolute limit however busy it is.
func TestIdleMeansNoRequests(t *testing.T) {
	dbURL := testutil.DatabaseURL(t)
	st, err := store.Open(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	uid := user(t, st)
	start := time.Now()
	now := start
	clock := func() time.Time { return now }
	s := websession.New(st, websession.Options{HashKey: []byte("0123456789abcdef0123456789abcdef"), Idle: time.Hour,
		Absolute: 5 * time.Hour, TouchEvery: 5 * time.Minute, Now: clock})
	c := save(t, s, uid)
	lastSeen := func() time.Time {
		t.Helper()
		var at time.Time
		if err := pool.QueryRow(context.Background(), "SELECT last_seen_at FROM sessions").Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	// Requests within the touch interval do not write.
	now = now.Add(2 * time.Minute)
	if _, ok := load(t, s, c); !ok {
		t.Fatal("fresh session did not load")
	}
	if got := lastSeen(); !got.Equal(start.Truncate(time.Microsecond)) {
		t.Fatalf("last_seen_at moved after 2 min: %v, want %v", got, start)
	}
	// A request every 50 minutes keeps it alive well past one idle hour after login.
	for i := range 5 {
		now = now.Add(50 * time.Minute)
		if _, ok := load(t, s, c); !ok {
			t.Fatalf("session in use expired at request %d, %v after login", i, now.Sub(start))
		}
	}
	if got := lastSeen(); !got.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("last_seen_at = %v, want the last request %v", got, now)
	}
	// 4 h 12 min after login: one idle hour ends it.
	now = now.Add(61 * time.Minute)
	if _, ok := load(t, s, c); ok {
		t.Fatal("session survived an idle hour")
	}

	// Absolute: busy all along, it still ends 5 h after it began.
	start = now
	c = save(t, s, uid)
	for now.Sub(start) < 5*time.Hour-10*time.Minute {
		now = now.Add(10 * time.Minute)
		if _, ok := load(t, s, c); !ok {
			t.Fatalf("busy session expired %v after login", now.Sub(start))
		}
	}
	now = start.Add(5*time.Hour + time.Minute)
	if _, ok := load(t, s, c); ok {
		t.Fatal("session survived its absolute limit")
	}
}
