package handlers_test

import (
	"context"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/mail/capture"
	"github.com/omnilink/omnilink/internal/testutil"
)

// waitMail waits for the app's mailbox to have received n messages in all.
func waitMail(t *testing.T, a *testutil.TestApp, n int) []capture.Captured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	msgs, err := a.Mailbox.Wait(ctx, n)
	if err != nil {
		t.Fatalf("mailbox: %v", err)
	}
	return msgs
}

var accountLink = regexp.MustCompile(`https?://[^\s"<]+/(?:invite|password/reset)/[A-Za-z0-9_-]{22}`)

// linkPath is the path of the account link in an email, checked to be the same in both bodies
// and to start at the app's base URL.
func linkPath(t *testing.T, a *testutil.TestApp, m capture.Captured) string {
	t.Helper()
	text, html := accountLink.FindString(m.Text), accountLink.FindString(m.HTML)
	if text == "" || text != html {
		t.Fatalf("no account link (or different links) in the email %q:\n%s", m.Subject, m.Text)
	}
	u, err := url.Parse(text)
	if err != nil || u.Scheme+"://"+u.Host != a.URL {
		t.Fatalf("link %q is not on the base URL %s", text, a.URL)
	}
	return u.Path
}

// settled waits until the outbox has nothing left to do, so a test can tell "nothing was sent"
// from "not sent yet".
func settled(t *testing.T, a *testutil.TestApp) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var open int
		if err := a.SQL().QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL").Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox still has %d items to do", open)
		}
		a.Outbox.Notify()
		time.Sleep(20 * time.Millisecond)
	}
}

// emailsQueued counts the emails ever queued.
func emailsQueued(t *testing.T, a *testutil.TestApp) int {
	t.Helper()
	var n int
	if err := a.SQL().QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE kind = 'email'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fingerprint sums up every row a member form could write, to prove a refused submit wrote nothing.
func fingerprint(t *testing.T, a *testutil.TestApp) string {
	t.Helper()
	var s string
	err := a.SQL().QueryRow(context.Background(), `SELECT
		coalesce((SELECT md5(string_agg(u::text, '|' ORDER BY id)) FROM users u), '') ||
		coalesce((SELECT md5(string_agg(k::text, '|' ORDER BY id)) FROM user_tokens k), '') ||
		coalesce((SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM teams t), '') ||
		(SELECT count(*) FROM outbox)::text || '/' || (SELECT count(*) FROM audit_log)::text`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
