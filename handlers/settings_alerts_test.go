package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestAlertRecipientsSettings(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	a.User(team.ID, models.RoleSupervisor, "sup@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	if !strings.Contains(c.Get("/users").Body, `href="/settings/alerts"`) {
		t.Fatal("the members page does not lead to the alert settings")
	}
	page := c.Get("/settings/alerts")
	for _, role := range []string{"admin", "supervisor"} {
		if !strings.Contains(page.Body, `value="`+role+`" checked`) {
			t.Errorf("%s is not chosen by default", role)
		}
	}
	if strings.Contains(page.Body, `value="marketer" checked`) {
		t.Error("marketers are chosen by default")
	}

	before := fingerprint(t, a)
	many := make([]string, models.MaxAlertAddresses+1)
	for i := range many {
		many[i] = fmt.Sprintf("a%d@x.test", i)
	}
	cases := []struct {
		name string
		form url.Values
		msg  string
	}{
		{"bad addresses are named", url.Values{"roles": {"admin"}, "addresses": {"ok@x.test\nnot-an-email\nbad\x00@x.test"}}, "這些地址不是有效的電子郵件：not-an-email, bad\uFFFD@x.test"},
		{"invalid UTF-8", url.Values{"roles": {"admin"}, "addresses": {"ok@x.test\n\xff@x.test"}}, "這些地址不是有效的電子郵件"},
		{"too many", url.Values{"roles": {"admin"}, "addresses": {strings.Join(many, "\n")}}, fmt.Sprintf("最多 %d 個", models.MaxAlertAddresses)},
		{"nobody", url.Values{"addresses": {"  "}}, "請至少勾選一個角色"},
		{"unknown role", url.Values{"roles": {"root"}, "addresses": {"ok@x.test"}}, "有效的角色"},
	}
	for _, tc := range cases {
		f := c.Get("/settings/alerts").Form(`form[action="/settings/alerts"]`)
		for _, role := range models.Roles {
			f.Uncheck("roles", string(role))
		}
		for k, v := range tc.form {
			f.Forge(k, v...)
		}
		r := f.Submit()
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tc.msg) {
			t.Errorf("%s: %d, want 422 with %q", tc.name, r.Status, tc.msg)
		}
		if tc.name == "bad addresses are named" && !strings.Contains(r.Body, "ok@x.test\nnot-an-email") {
			t.Errorf("%s: the typed addresses were not kept", tc.name)
		}
	}
	if fingerprint(t, a) != before {
		t.Fatal("refused alert settings wrote something")
	}

	r := c.Submit("/settings/alerts", "/settings/alerts", url.Values{"roles": {"supervisor"}, "addresses": {"Ops@Agency.test\nops@agency.test, second@agency.test"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.Status, r.Body)
	}
	got, _ := a.Store.TeamSystem(context.Background(), team.ID)
	if !slices.Equal(got.AlertRoles, models.RoleList{models.RoleSupervisor}) || !slices.Equal([]string(got.NotificationEmails), []string{"ops@agency.test", "second@agency.test"}) {
		t.Fatalf("saved %v %v", got.AlertRoles, got.NotificationEmails)
	}
	if p := c.Get("/settings/alerts"); !strings.Contains(p.Body, "已儲存警示收件人") || !strings.Contains(p.Body, `value="supervisor" checked`) || strings.Contains(p.Body, `value="admin" checked`) {
		t.Error("the page does not show what was saved")
	}
	sup := a.Client()
	sup.Login("sup@t.test", testutil.Password)
	if r := sup.Get("/settings/alerts"); r.Status != http.StatusForbidden {
		t.Fatalf("a supervisor opened the alert settings: %d", r.Status)
	}
}
