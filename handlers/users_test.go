package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func itoa(id int64) string { return fmt.Sprint(id) }

func TestInvitedMembersSeeTheirPages(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	for i, nu := range []struct{ email, role string }{{"mkt@t.test", "marketer"}, {"cs@t.test", "agent"}} {
		link := invite(t, a, c, strings.ToUpper(nu.email), "王小明", nu.role, "zh-TW", i)
		u, err := a.Store.UserByEmailSystem(context.Background(), nu.email)
		if err != nil || string(u.Role) != nu.role || u.TeamID != team.ID {
			t.Fatalf("invited user: %+v %v", u, err)
		}
		m := a.Client()
		if r := m.Submit(link, link, url.Values{"password": {"a-fine-password"}, "password_confirm": {"a-fine-password"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("accept %s: %d", nu.email, r.Status)
		}
	}
	if r := c.Get("/users"); !strings.Contains(r.Body, "已寄出邀請給 王小明") || !strings.Contains(r.Body, "mkt@t.test") {
		t.Fatal("flash or list missing after inviting")
	}
	mkt := a.Client()
	mkt.Login("mkt@t.test", "a-fine-password")
	if mkt.Get("/campaigns").Status != 200 || mkt.Get("/users").Status != 403 {
		t.Fatal("marketer permissions wrong")
	}
	cs := a.Client()
	cs.Login("cs@t.test", "a-fine-password")
	if cs.Get("/campaigns").Status != 403 || cs.Get("/").Status != 200 {
		t.Fatal("agent permissions wrong")
	}
}

func TestRoleChangesAndEscalation(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	boss := a.User(team.ID, models.RoleAdmin, "boss@t.test")
	mkt := a.User(team.ID, models.RoleMarketer, "mkt@t.test")
	agent := a.User(team.ID, models.RoleAgent, "agent@t.test")
	ctx := context.Background()

	// A marketer may not grant anything, not even to someone else.
	mc := a.Client()
	mc.Login("mkt@t.test", testutil.Password)
	if r := handMade(mc, "/users/"+itoa(mkt.ID)+"/role", url.Values{"role": {"admin"}}); r.Status != http.StatusForbidden {
		t.Fatalf("marketer self-promotion: %d", r.Status)
	}
	if r := handMade(mc, "/users/"+itoa(agent.ID)+"/role", url.Values{"role": {"supervisor"}}); r.Status != http.StatusForbidden {
		t.Fatalf("marketer granting: %d", r.Status)
	}

	bc := a.Client()
	bc.Login("boss@t.test", testutil.Password)
	if r := bc.Get("/users").Form("form[action=/users/"+itoa(agent.ID)+"/role]").Forge("role", "root").Submit(); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown role: %d", r.Status)
	}
	if r := handMade(bc, "/users/"+itoa(boss.ID)+"/role", url.Values{"role": {"agent"}}); r.Status != http.StatusForbidden {
		t.Fatalf("self change: %d", r.Status)
	}
	if r := handMade(bc, "/users/"+itoa(boss.ID)+"/disable", nil); r.Status != http.StatusForbidden {
		t.Fatalf("self disable: %d", r.Status)
	}
	if r := bc.Get("/users").Form("form[action=/users/"+itoa(agent.ID)+"/role]").Set("role", "supervisor").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("admin grants supervisor: %d", r.Status)
	}
	// A background htmx request in between (a poll, a preview) leaves the flash for the page;
	// the flash says who changed and to what.
	poll, _ := http.NewRequest(http.MethodGet, a.URL+"/channels", nil)
	poll.Header.Set("HX-Request", "true")
	bc.Do(poll)
	if page := bc.Get("/users"); !strings.Contains(page.Body, "已將 "+agent.Name+" 的角色變更為主管") {
		t.Error("the role change flash does not name the member and the new role")
	}
	for id, want := range map[int64]models.Role{mkt.ID: models.RoleMarketer, agent.ID: models.RoleSupervisor, boss.ID: models.RoleAdmin} {
		u, _ := a.Store.TeamUser(ctx, team.ID, id)
		if u.Role != want {
			t.Errorf("user %d role %s, want %s", id, u.Role, want)
		}
	}
	// The supervisor now sees channels, at once, in the same session.
	ac := a.Client()
	ac.Login("agent@t.test", testutil.Password)
	if r := ac.Get("/"); !strings.Contains(r.Body, `href="/channels"`) {
		t.Error("promoted user does not see channels")
	}
	if r := handMade(bc, "/users/abc/role", url.Values{"role": {"agent"}}); r.Status != http.StatusNotFound {
		t.Fatalf("malformed id: %d", r.Status)
	}
}

func TestLastAdminKept(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	second := a.User(team.ID, models.RoleAdmin, "second@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	if r := c.Get("/users").Form("form[action=/users/"+itoa(second.ID)+"/role]").Set("role", "agent").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("demote one of two admins: %d", r.Status)
	}
	// Now boss is the only admin; second (an agent) cannot touch boss, and boss cannot demote himself.
	u, _ := a.Store.TeamUsers(context.Background(), team.ID)
	admins := 0
	for _, x := range u {
		if x.Role == models.RoleAdmin {
			admins++
		}
	}
	if admins != 1 {
		t.Fatalf("admins = %d", admins)
	}
}

func TestCrossTeamIDsAnswer404(t *testing.T) {
	a := testutil.NewApp(t)
	ta, tb := a.Team("A"), a.Team("B")
	a.User(ta.ID, models.RoleAdmin, "a@a.test")
	victim := a.User(tb.ID, models.RoleAgent, "v@b.test")
	c := a.Client()
	c.Login("a@a.test", testutil.Password)
	for _, path := range []string{"/users/" + itoa(victim.ID) + "/role", "/users/" + itoa(victim.ID) + "/disable"} {
		if r := handMade(c, path, url.Values{"role": {"admin"}}); r.Status != http.StatusNotFound {
			t.Errorf("POST %s for another team's user: %d, want 404", path, r.Status)
		}
	}
	if r := c.Get("/users"); strings.Contains(r.Body, "v@b.test") {
		t.Error("another team's user is listed")
	}
	v, _ := a.Store.UserByIDSystem(context.Background(), victim.ID)
	if v.Role != models.RoleAgent || v.Disabled() {
		t.Fatalf("cross-team request changed the user: %+v", v)
	}
}

func TestOversizedFormBody(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	c.Get("/users/invite")
	form := url.Values{"_csrf": {c.CSRF()}, "email": {"big@t.test"}, "name": {"N"}, "role": {"agent"}, "locale": {"zh-TW"}, "pad": {strings.Repeat("x", 2<<20)}}
	r := c.Post("/users/invite", form)
	if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, "資料太大") {
		t.Fatalf("oversized body: %d", r.Status)
	}
	if _, err := a.Store.UserByEmailSystem(context.Background(), "big@t.test"); err == nil {
		t.Fatal("oversized request created a user")
	}
}
