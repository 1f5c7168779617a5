package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/accounts"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// forgot submits the forgot-password form from the login page's link.
func forgot(t *testing.T, c *testutil.Client, email string) *testutil.Response {
	t.Helper()
	login := c.Get("/login")
	if !strings.Contains(login.Body, `href="/password/forgot"`) {
		t.Fatal("the login page has no forgot-password link")
	}
	return c.Submit("/password/forgot", "/password/forgot", url.Values{"email": {email}})
}

func TestForgotPasswordSameAnswerForUnknownEmail(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "known@t.test")
	unknown := forgot(t, a.Client(), "nobody@t.test")
	known := forgot(t, a.Client(), "Known@T.test")
	if unknown.Status != http.StatusOK || known.Status != http.StatusOK {
		t.Fatalf("statuses %d and %d", unknown.Status, known.Status)
	}
	sent := func(body, email string) string {
		body = strings.ReplaceAll(body, email, "EMAIL")
		i, j := strings.Index(body, `id="forgot-sent"`), strings.Index(body, "<footer>")
		if i < 0 || j < i {
			t.Fatalf("no confirmation on the page:\n%s", body)
		}
		return body[i:j]
	}
	if sent(unknown.Body, "nobody@t.test") != sent(known.Body, "known@t.test") {
		t.Error("the answer differs between a known and an unknown email")
	}
	settled(t, a)
	msgs := waitMail(t, a, 1)
	var requests int
	if err := a.SQL().QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE kind = 'account.reset_request'").Scan(&requests); err != nil || requests != 2 {
		t.Fatalf("both requests should be queued alike: %d %v", requests, err)
	}
	if queued := emailsQueued(t, a); len(msgs) != 1 || queued != 1 || msgs[0].To[0] != "known@t.test" || !strings.Contains(msgs[0].Subject, "重設") {
		t.Fatalf("mail for known and unknown requests: %d queued, %d sent %+v", queued, len(msgs), msgs)
	}
	if !strings.HasPrefix(linkPath(t, a, msgs[0]), "/password/reset/") {
		t.Fatal("reset email without its link")
	}
}

func TestResetPasswordEndsOtherSessions(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	a := testutil.NewAppWithClock(t, clock)
	team := a.Team("T")
	a.User(team.ID, models.RoleMarketer, "m@t.test")
	elsewhere := a.Client()
	elsewhere.Login("m@t.test", testutil.Password)

	me := a.Client()
	forgot(t, me, "m@t.test")
	link := linkPath(t, a, waitMail(t, a, 1)[0])
	if p := me.Get(link); p.Status != http.StatusOK || !strings.Contains(p.Body, "m@t.test") {
		t.Fatalf("reset page: %d", p.Status)
	}
	r := me.Submit(link, link, url.Values{"password": {"brand-new-pass"}, "password_confirm": {"brand-new-pass"}})
	if r.Status != http.StatusSeeOther || r.Location != "/" {
		t.Fatalf("reset: %d\n%s", r.Status, r.Body)
	}
	if home := me.Get("/"); home.Status != http.StatusOK || !strings.Contains(home.Body, "密碼已更新") {
		t.Fatalf("not signed in after the reset: %d", home.Status)
	}
	if r := elsewhere.Get("/campaigns"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("the other session survived the reset: %d", r.Status)
	}
	if r := a.Client().Submit("/login", "/login", url.Values{"email": {"m@t.test"}, "password": {testutil.Password}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("old password still works: %d", r.Status)
	}
	a.Client().Login("m@t.test", "brand-new-pass")
	if p := a.Client().Get(link); p.Status != http.StatusGone || !strings.Contains(p.Body, "已經用過") || !strings.Contains(p.Body, `href="/password/forgot"`) {
		t.Fatalf("used reset link: %d", p.Status)
	}

	// A reset link lasts an hour; a newer one replaces it.
	forgot(t, a.Client(), "m@t.test")
	first := linkPath(t, a, waitMail(t, a, 2)[1])
	forgot(t, a.Client(), "m@t.test")
	second := linkPath(t, a, waitMail(t, a, 3)[2])
	if p := a.Client().Get(first); p.Status != http.StatusGone {
		t.Fatalf("an older reset link still works: %d", p.Status)
	}
	clock.Advance(models.ResetLifetime + time.Second)
	if p := a.Client().Get(second); p.Status != http.StatusGone || !strings.Contains(p.Body, "已經過期") {
		t.Fatalf("reset link after an hour: %d", p.Status)
	}
}

func TestForgotPasswordIsLimited(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "flood@t.test")
	c := a.Client()
	for i := 0; i < accounts.MaxResetsPerEmail+2; i++ {
		if r := forgot(t, c, "flood@t.test"); r.Status != http.StatusOK || !strings.Contains(r.Body, `id="forgot-sent"`) {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	settled(t, a)
	if queued := emailsQueued(t, a); queued != accounts.MaxResetsPerEmail {
		t.Fatalf("%d reset emails queued for one address, want %d", queued, accounts.MaxResetsPerEmail)
	}
}

func TestDisabledMemberGetsNoReset(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	gone := a.User(team.ID, models.RoleAgent, "gone@t.test")
	forgot(t, a.Client(), "gone@t.test")
	link := linkPath(t, a, waitMail(t, a, 1)[0])
	boss := a.Client()
	boss.Login("boss@t.test", testutil.Password)
	if r := boss.Submit("/users", "/users/"+itoa(gone.ID)+"/disable", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.Status)
	}
	// Disabling revokes the link that was already sent, and no new one goes out.
	c := a.Client()
	if p := c.Get(link); p.Status != http.StatusGone {
		t.Fatalf("a disabled member's reset link: %d", p.Status)
	}
	forgot(t, a.Client(), "gone@t.test")
	settled(t, a)
	if queued := emailsQueued(t, a); queued != 1 {
		t.Fatalf("reset email for a disabled member: %d queued", queued)
	}
}
