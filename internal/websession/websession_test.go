package websession_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

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
