package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// guarded is every console route with the capability it needs; TestRouteTableCovered keeps it complete.
var guarded = []struct {
	method, path string
	cap          models.Capability
}{
	{"GET", "/", models.CapDashboard},
	{"GET", "/campaigns", models.CapCampaigns},
	{"GET", "/campaigns/new", models.CapCampaigns},
	{"POST", "/campaigns", models.CapCampaigns},
	{"POST", "/campaigns/preview", models.CapCampaigns},
	{"POST", "/campaigns/media", models.CapCampaigns},
	{"GET", "/campaigns/:id", models.CapCampaigns},
	{"POST", "/campaigns/:id", models.CapCampaigns},
	{"POST", "/campaigns/:id/enable", models.CapCampaigns},
	{"POST", "/campaigns/:id/disable", models.CapCampaigns},
	{"POST", "/campaigns/:id/duplicate", models.CapCampaigns},
	{"POST", "/campaigns/:id/delete", models.CapCampaigns},
	{"GET", "/campaigns/:id/send", models.CapCampaigns},
	{"POST", "/campaigns/:id/send", models.CapCampaigns},
	{"GET", "/campaigns/:id/history", models.CapCampaigns},
	{"GET", "/modules", models.CapCampaigns},
	{"GET", "/modules/new", models.CapCampaigns},
	{"POST", "/modules", models.CapCampaigns},
	{"POST", "/modules/form", models.CapCampaigns},
	{"POST", "/modules/preview", models.CapCampaigns},
	{"GET", "/modules/:id", models.CapCampaigns},
	{"GET", "/modules/:id/edit", models.CapCampaigns},
	{"POST", "/modules/:id", models.CapCampaigns},
	{"POST", "/modules/:id/delete", models.CapCampaigns},
	{"GET", "/triggers", models.CapCampaigns},
	{"POST", "/triggers", models.CapCampaigns},
	{"POST", "/triggers/:id/delete", models.CapCampaigns},
	{"GET", "/campaigns/:id/stats", models.CapCampaigns},
	{"GET", "/campaigns/:id/stats/export", models.CapCampaigns},
	{"GET", "/customers", models.CapCustomers},
	{"GET", "/customers/:id", models.CapCustomers},
	{"POST", "/customers/:id/reply", models.CapCustomers},
	{"POST", "/customers/:id/member", models.CapCustomerEdit},
	{"POST", "/customers/:id/tags", models.CapCustomerEdit},
	{"POST", "/customers/:id/tags/remove", models.CapCustomerEdit},
	{"GET", "/customers/:id/merge", models.CapCustomerEdit},
	{"POST", "/customers/:id/merge", models.CapCustomerEdit},
	{"POST", "/customers/merges/:id/undo", models.CapCustomerEdit},
	{"GET", "/customers/import", models.CapCustomerEdit},
	{"POST", "/customers/import", models.CapCustomerEdit},
	{"GET", "/tags", models.CapTags},
	{"POST", "/tags", models.CapTags},
	{"GET", "/tags/:id", models.CapTags},
	{"POST", "/tags/:id/delete", models.CapTags},
	{"POST", "/tags/:id/apply", models.CapTags},
	{"POST", "/tags/:id/remove", models.CapTags},
	{"POST", "/tags/:id/rules", models.CapTags},
	{"POST", "/tags/:id/rules/:ruleID/delete", models.CapTags},
	{"GET", "/journeys", models.CapJourneys},
	{"POST", "/journeys", models.CapJourneys},
	{"GET", "/journeys/:id", models.CapJourneys},
	{"POST", "/journeys/:id", models.CapJourneys},
	{"POST", "/journeys/:id/delete", models.CapJourneys},
	{"POST", "/journeys/:id/steps", models.CapJourneys},
	{"POST", "/journeys/:id/steps/:n/delete", models.CapJourneys},
	{"GET", "/channels", models.CapChannels},
	{"POST", "/channels/connect/:platform", models.CapChannels},
	{"GET", "/channels/oauth/dialog", models.CapChannels},
	{"POST", "/channels/oauth/:state/connect", models.CapChannels},
	{"POST", "/channels/oauth/:state/dismiss", models.CapChannels},
	{"GET", "/channels/line/new", models.CapChannels},
	{"POST", "/channels/line", models.CapChannels},
	{"GET", "/channels/whatsapp/new", models.CapChannels},
	{"POST", "/channels/whatsapp", models.CapChannels},
	{"GET", "/channels/:id", models.CapChannels},
	{"GET", "/channels/:id/reauthorize", models.CapChannels},
	{"POST", "/channels/:id/reauthorize", models.CapChannels},
	{"POST", "/channels/:id/disconnect", models.CapChannels},
	{"GET", "/channels/:id/health", models.CapChannels},
	{"GET", "/settings/webhook", models.CapWebhook},
	{"POST", "/settings/webhook", models.CapWebhook},
	{"POST", "/settings/webhook/ping", models.CapWebhook},
	{"GET", "/users", models.CapUsers},
	{"GET", "/users/invite", models.CapUsers},
	{"POST", "/users/invite", models.CapUsers},
	{"GET", "/users/:id/edit", models.CapUsers},
	{"POST", "/users/:id", models.CapUsers},
	{"POST", "/users/:id/resend", models.CapUsers},
	{"POST", "/users/:id/revoke", models.CapUsers},
	{"POST", "/users/:id/role", models.CapUsers},
	{"POST", "/users/:id/disable", models.CapUsers},
	{"POST", "/users/:id/enable", models.CapUsers},
	{"GET", "/settings/team", models.CapTeamSettings},
	{"POST", "/settings/team", models.CapTeamSettings},
	{"GET", "/settings/alerts", models.CapTeamSettings},
	{"POST", "/settings/alerts", models.CapTeamSettings},
}

// public routes need no login (their own rules apply).
var public = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /static/*": true, "GET /favicon.ico": true,
	"GET /login": true, "POST /login": true, "POST /logout": true, "POST /settings/language": true,
	"GET /invite/:token": true, "POST /invite/:token": true, "GET /password/forgot": true, "POST /password/forgot": true,
	"GET /password/reset/:token": true, "POST /password/reset/:token": true,
	"GET /media/:file": true, // card images: content-addressed, fetched by the platforms
}

func TestRouteTableCovered(t *testing.T) {
	a := testutil.NewApp(t)
	known := map[string]bool{}
	for _, g := range guarded {
		known[g.method+" "+g.path] = true
	}
	for _, r := range a.Echo.Routes() {
		key := r.Method + " " + r.Path
		if strings.HasPrefix(r.Path, "/sandbox") || strings.HasPrefix(r.Path, "/webhooks") || strings.HasPrefix(r.Path, "/oauth") || strings.HasPrefix(r.Path, "/liff") || strings.HasPrefix(r.Path, "/l/") {
			continue
		}
		if !known[key] && !public[key] && r.Method != "echo_route_not_found" {
			t.Errorf("route %s is in neither the guarded nor the public table of this test", key)
		}
	}
}

func TestRoleMatrix(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("Matrix")
	target := a.User(team.ID, models.RoleAgent, "target@matrix.test")
	for _, role := range models.Roles {
		t.Run(string(role), func(t *testing.T) {
			u := a.User(team.ID, role, fmt.Sprintf("%s@matrix.test", role))
			c := a.Client()
			c.Login(u.Email, testutil.Password)
			home := c.Get("/")
			if home.Status != http.StatusOK {
				t.Fatalf("GET / = %d", home.Status)
			}
			// Navigation shows exactly what the table allows.
			for _, nav := range []struct {
				href string
				cap  models.Capability
			}{{"/campaigns", models.CapCampaigns}, {"/customers", models.CapCustomers}, {"/tags", models.CapTags}, {"/journeys", models.CapJourneys}, {"/channels", models.CapChannels}, {"/users", models.CapUsers}, {"/settings/team", models.CapTeamSettings}, {"/settings/webhook", models.CapWebhook}} {
				shown := strings.Contains(home.Body, `href="`+nav.href+`"`)
				if shown != role.Can(nav.cap) {
					t.Errorf("nav link %s shown=%v, permission=%v", nav.href, shown, role.Can(nav.cap))
				}
			}
			for _, g := range guarded {
				path := strings.Replace(g.path, ":id", fmt.Sprint(target.ID), 1)
				var r *testutil.Response
				if g.method == "GET" {
					r = c.Get(path)
				} else {
					r = handMade(c, path, url.Values{"role": {"agent"}, "email": {"new-" + string(role) + "@matrix.test"}, "name": {"N"}, "password": {"long-enough-password"}})
				}
				allowed := role.Can(g.cap)
				// The matrix checks authorisation only; each route's success and bad input have their own tests,
				// so an allowed role may get 404 (the dummy id names no such object) or 422 (dummy form).
				switch {
				case allowed && (r.Status == http.StatusForbidden || r.Status == http.StatusUnauthorized || r.Status >= 500):
					t.Errorf("%s %s: %d for %s, which the table allows", g.method, g.path, r.Status, role)
				case !allowed && r.Status != http.StatusForbidden:
					t.Errorf("%s %s: %d for %s, want 403", g.method, g.path, r.Status, role)
				case !allowed && !strings.Contains(r.Body, "沒有權限"):
					t.Errorf("%s %s: 403 page is not the friendly one", g.method, g.path)
				}
			}
		})
	}
}

// readmeRoleTable is the README's role table, written out by hand: a change of who may open
// what must change this table and the README together, never only the code. Each area lists
// the pages it consists of.
var readmeRoleTable = []struct {
	role                                  models.Role
	overview, campaigns, channels, member int // 200 may open, 403 may not
}{
	{models.RoleAdmin, 200, 200, 200, 200},
	{models.RoleSupervisor, 200, 200, 200, 403},
	{models.RoleMarketer, 200, 200, 403, 403},
	{models.RoleMarketingAgent, 200, 200, 403, 403},
	{models.RoleAgent, 200, 403, 403, 403},
}

func TestReadmeRoleTable(t *testing.T) {
	if len(readmeRoleTable) != len(models.Roles) {
		t.Fatalf("the README's role table has %d roles, the code %d", len(readmeRoleTable), len(models.Roles))
	}
	a := testutil.NewApp(t)
	team := a.Team("Roles")
	for _, row := range readmeRoleTable {
		t.Run(string(row.role), func(t *testing.T) {
			u := a.User(team.ID, row.role, string(row.role)+"@roles.test")
			c := a.Client()
			c.Login(u.Email, testutil.Password)
			areas := []struct {
				want  int
				nav   string
				pages []string
			}{
				{row.overview, "/", []string{"/"}},
				{row.campaigns, "/campaigns", []string{"/campaigns"}},
				{row.channels, "/channels", []string{"/channels", "/channels/line/new", "/channels/whatsapp/new", "/channels/oauth/dialog"}},
				{row.member, "/users", []string{"/users", "/users/invite"}},
			}
			home := c.Get("/")
			for _, area := range areas {
				for _, page := range area.pages {
					if r := c.Get(page); r.Status != area.want {
						t.Errorf("%s opens %s: %d, the README says %d", row.role, page, r.Status, area.want)
					}
				}
				if shown := strings.Contains(home.Body, `href="`+area.nav+`"`); shown != (area.want == 200) {
					t.Errorf("%s: navigation link %s shown=%v, the README says %d", row.role, area.nav, shown, area.want)
				}
			}
		})
	}
}

func TestAnonymousIsSentToLogin(t *testing.T) {
	a := testutil.NewApp(t)
	c := a.Client()
	for _, g := range guarded {
		if g.method != "GET" {
			continue
		}
		r := c.Get(g.path)
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
			t.Errorf("anonymous GET %s = %d %q, want redirect to /login", g.path, r.Status, r.Location)
		}
	}
	if r := c.Get("/users"); r.Location != "/login?next=%2Fusers" {
		t.Errorf("next parameter not kept: %q", r.Location)
	}
}
