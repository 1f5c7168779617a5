package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// invite sends an invitation through the form and returns the link path from the email.
func invite(t *testing.T, a *testutil.TestApp, admin *testutil.Client, email, name, role, locale string, mailsBefore int) string {
	t.Helper()
	r := admin.Submit("/users/invite", "/users/invite", url.Values{"email": {email}, "name": {name}, "role": {role}, "locale": {locale}})
	if r.Status != http.StatusSeeOther || r.Location != "/users" {
		t.Fatalf("invite %s: %d\n%s", email, r.Status, r.Body)
	}
	msgs := waitMail(t, a, mailsBefore+1)
	m := msgs[len(msgs)-1]
	if len(m.To) != 1 || m.To[0] != strings.ToLower(email) {
		t.Fatalf("invitation went to %v, want %s", m.To, email)
	}
	return linkPath(t, a, m)
}

func TestInviteThenChoosePasswordSignsIn(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("小熊烘焙坊")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	admin := a.Client()
	admin.Login("boss@t.test", testutil.Password)

	link := invite(t, a, admin, "Amy@T.test", "  陳艾美 ", "supervisor", "zh-TW", 0)
	m := a.Mailbox.Messages()[0]
	if !strings.Contains(m.Subject, "小熊烘焙坊") || !strings.Contains(m.Text, "陳艾美 您好") || !strings.Contains(m.Text, "boss") {
		t.Errorf("invitation is not the zh-TW one naming team, invitee and inviter: %q\n%s", m.Subject, m.Text)
	}
	if !strings.HasPrefix(link, "/invite/") {
		t.Fatalf("link %q", link)
	}
	u, err := a.Store.UserByEmail(context.Background(), "amy@t.test")
	if err != nil || !u.Pending() || u.Name != "陳艾美" || u.Role != models.RoleSupervisor || u.Locale != "zh-TW" {
		t.Fatalf("invited user: %+v %v", u, err)
	}
	list := admin.Get("/users")
	if !strings.Contains(list.Body, "已邀請（尚未接受）") || !strings.Contains(list.Body, "/users/"+itoa(u.ID)+"/resend") {
		t.Error("the list does not show the pending invitation with resend")
	}
	// A pending member cannot sign in: nobody knows their password yet.
	if r := a.Client().Submit("/login", "/login", url.Values{"email": {"amy@t.test"}, "password": {""}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("pending member signed in with an empty password: %d", r.Status)
	}

	// The invitee opens the link in their own browser and chooses a password.
	amy := a.Client()
	page := amy.Get(link)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "amy@t.test") || page.Header.Get("Referrer-Policy") != "strict-origin" {
		t.Fatalf("invitation page: %d\n%s", page.Status, page.Body)
	}
	r := amy.Submit(link, link, url.Values{"password": {"a-new-secret-1"}, "password_confirm": {"a-new-secret-1"}})
	if r.Status != http.StatusSeeOther || r.Location != "/" {
		t.Fatalf("accept: %d\n%s", r.Status, r.Body)
	}
	home := amy.Get("/")
	if home.Status != http.StatusOK || !strings.Contains(home.Body, "歡迎加入，陳艾美") || !strings.Contains(home.Body, `href="/channels"`) {
		t.Fatalf("after accepting, the member is not signed in as a supervisor: %d", home.Status)
	}
	u, _ = a.Store.UserByEmail(context.Background(), "amy@t.test")
	if u.Pending() || u.LastLoginAt == nil {
		t.Fatalf("accepted user still pending: %+v", u)
	}
	if !strings.Contains(admin.Get("/users").Body, "啟用中") {
		t.Error("the accepted member does not show as active")
	}
	a.Client().Login("amy@t.test", "a-new-secret-1")

	// The link is spent: opening or posting it again is refused, and the password stays.
	again := a.Client()
	if p := again.Get(link); p.Status != http.StatusGone || !strings.Contains(p.Body, "已經用過") || !strings.Contains(p.Body, "重寄邀請") {
		t.Fatalf("used link: %d\n%s", p.Status, p.Body)
	}
	again.Get("/login")
	if p := again.Post(link, url.Values{"_csrf": {again.CSRF()}, "password": {"another-secret-2"}, "password_confirm": {"another-secret-2"}}); p.Status != http.StatusGone {
		t.Fatalf("reusing a link: %d", p.Status)
	}
	a.Client().Login("amy@t.test", "a-new-secret-1")
}

func TestInviteInEnglish(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("Bear")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	admin := a.Client()
	admin.Login("boss@t.test", testutil.Password)
	link := invite(t, a, admin, "sam@t.test", "Sam", "agent", "en", 0)
	m := a.Mailbox.Messages()[0]
	if !strings.Contains(m.Subject, "invited you to Bear") || !strings.Contains(m.Text, "Hello Sam,") {
		t.Fatalf("English invitation: %q\n%s", m.Subject, m.Text)
	}
	// The invitee's page speaks their language before they have a session.
	if p := a.Client().Get(link); !strings.Contains(p.Body, "Join Bear") {
		t.Fatalf("invitation page not in English:\n%s", p.Body)
	}
}

func TestExpiredInvitationRefused(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	a := testutil.NewAppWithClock(t, clock)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	admin := a.Client()
	admin.Login("boss@t.test", testutil.Password)
	link := invite(t, a, admin, "late@t.test", "Late", "agent", "zh-TW", 0)

	clock.Advance(models.InviteLifetime - time.Minute)
	if p := a.Client().Get(link); p.Status != http.StatusOK {
		t.Fatalf("a link a minute before expiry: %d", p.Status)
	}
	if strings.Contains(admin.Get("/users").Body, "邀請已過期") {
		t.Fatal("the list calls a live invitation expired")
	}
	clock.Advance(2 * time.Minute)
	c := a.Client()
	p := c.Get(link)
	if p.Status != http.StatusGone || !strings.Contains(p.Body, "已經過期") || !strings.Contains(p.Body, "重寄邀請") {
		t.Fatalf("expired link: %d\n%s", p.Status, p.Body)
	}
	if r := c.Post(link, url.Values{"_csrf": {c.CSRF()}, "password": {"a-new-secret-1"}, "password_confirm": {"a-new-secret-1"}}); r.Status != http.StatusGone {
		t.Fatalf("posting an expired link: %d", r.Status)
	}
	if u, _ := a.Store.UserByEmail(context.Background(), "late@t.test"); !u.Pending() {
		t.Fatal("an expired link set a password")
	}
	// The admin sees it expired (their own session is a week old too) and resends it.
	admin = a.Client()
	admin.Login("boss@t.test", testutil.Password)
	u, _ := a.Store.UserByEmail(context.Background(), "late@t.test")
	if list := admin.Get("/users"); !strings.Contains(list.Body, "邀請已過期") {
		t.Fatal("the list does not show the expired invitation")
	}
	if r := admin.Submit("/users", "/users/"+itoa(u.ID)+"/resend", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d", r.Status)
	}
	fresh := linkPath(t, a, waitMail(t, a, 2)[1])
	if r := a.Client().Submit(fresh, fresh, url.Values{"password": {"a-new-secret-1"}, "password_confirm": {"a-new-secret-1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("the resent link: %d", r.Status)
	}
}

func TestResendInvalidatesOldLinkAndRevokeRemoves(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	admin := a.Client()
	admin.Login("boss@t.test", testutil.Password)
	old := invite(t, a, admin, "re@t.test", "Re", "marketer", "zh-TW", 0)
	u, _ := a.Store.UserByEmail(context.Background(), "re@t.test")

	if r := admin.Submit("/users", "/users/"+itoa(u.ID)+"/resend", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d", r.Status)
	}
	msgs := waitMail(t, a, 2)
	fresh := linkPath(t, a, msgs[1])
	if fresh == old || msgs[1].To[0] != "re@t.test" {
		t.Fatalf("resend did not send a new link: %q %v", fresh, msgs[1].To)
	}
	if p := a.Client().Get(old); p.Status != http.StatusGone || !strings.Contains(p.Body, "已經失效") {
		t.Fatalf("old link after resend: %d", p.Status)
	}
	if p := a.Client().Get(fresh); p.Status != http.StatusOK {
		t.Fatalf("new link: %d", p.Status)
	}

	if r := admin.Submit("/users", "/users/"+itoa(u.ID)+"/revoke", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	if _, err := a.Store.UserByEmail(context.Background(), "re@t.test"); err == nil {
		t.Fatal("a revoked invitation left the account")
	}
	if p := a.Client().Get(fresh); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "找不到這個連結") {
		t.Fatalf("link of a revoked invitation: %d", p.Status)
	}
	// A member who has joined is not pending: no resend, no revoke.
	boss, _ := a.Store.UserByEmail(context.Background(), "boss@t.test")
	for _, action := range []string{"resend", "revoke"} {
		if r := handMade(admin, "/users/"+itoa(boss.ID)+"/"+action, nil); r.Status != http.StatusConflict {
			t.Errorf("%s for a joined member: %d", action, r.Status)
		}
	}
}

func TestInviteAcrossTeamsAnd404(t *testing.T) {
	a := testutil.NewApp(t)
	ta, tb := a.Team("A"), a.Team("B")
	a.User(ta.ID, models.RoleAdmin, "a@a.test")
	b := a.User(tb.ID, models.RoleAdmin, "b@b.test")
	bc := a.Client()
	bc.Login("b@b.test", testutil.Password)
	invite(t, a, bc, "p@b.test", "P", "agent", "zh-TW", 0)
	pending, _ := a.Store.UserByEmail(context.Background(), "p@b.test")
	ac := a.Client()
	ac.Login("a@a.test", testutil.Password)
	before := fingerprint(t, a)
	for _, path := range []string{"/users/" + itoa(pending.ID) + "/resend", "/users/" + itoa(pending.ID) + "/revoke", "/users/" + itoa(b.ID)} {
		if r := handMade(ac, path, url.Values{"name": {"Hijacked"}}); r.Status != http.StatusNotFound {
			t.Errorf("POST %s for another team's user: %d, want 404", path, r.Status)
		}
	}
	if r := ac.Get("/users/" + itoa(b.ID) + "/edit"); r.Status != http.StatusNotFound {
		t.Errorf("edit page of another team's user: %d", r.Status)
	}
	if fingerprint(t, a) != before {
		t.Fatal("requests about another team's users changed something")
	}
}
