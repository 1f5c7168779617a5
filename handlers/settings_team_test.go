package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/email"
)

// TestTeamTimeZoneShowsOneTimeEverywhere sets a team's zone through the settings form, breaks
// a channel, and finds its failure time written the same way on the banner, the channel list,
// the channel's health panel and the alert email, in both languages; a team in UTC sees the
// same moment eight hours earlier than a team in Hong Kong.
func TestTeamTimeZoneShowsOneTimeEverywhere(t *testing.T) {
	seen := map[string]string{}
	for _, zone := range []string{"Asia/Hong_Kong", "UTC"} {
		t.Run(zone, func(t *testing.T) {
			a := testutil.NewApp(t)
			ctx := context.Background()
			team := a.Team("小熊烘焙坊")
			a.User(team.ID, models.RoleAdmin, "owner@bear.test")
			c := a.Client()
			c.Login("owner@bear.test", testutil.Password)
			page := c.Get("/settings/team")
			if page.Status != http.StatusOK || !strings.Contains(page.Body, `action="/settings/team"`) || !strings.Contains(page.Body, `href="/settings/team"`) {
				t.Fatalf("settings page: %d (form and navigation link expected)", page.Status)
			}
			r := page.Form(`form[action="/settings/team"]`).Set("name", "小熊烘焙坊 Bear").Set("time_zone", zone).Submit()
			if r.Status != http.StatusSeeOther {
				t.Fatalf("save: %d\n%s", r.Status, r.Body)
			}
			saved, err := a.Store.TeamSystem(ctx, team.ID)
			if err != nil || saved.TimeZone != models.TimeZone(zone) || saved.Name != "小熊烘焙坊 Bear" {
				t.Fatalf("saved team: %+v %v", saved, err)
			}

			ch := a.SandboxChannel(team.ID, a.Sandbox, a.Meta, models.Instagram, sandbox.BearBakeryIGID, "mei")
			if err := a.Sandbox.BreakToken(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryIGID}, sandbox.CausePasswordChanged); err != nil {
				t.Fatal(err)
			}
			if rep, err := a.Health.Sweep(ctx, health.SweepOptions{Force: true, Wait: true}); err != nil || rep.Broken != 1 {
				t.Fatalf("sweep: %+v %v", rep, err)
			}
			broken, err := a.Store.Channel(ctx, team.ID, ch.ID)
			if err != nil || broken.FailingSince == nil {
				t.Fatalf("channel after the sweep: %+v %v", broken, err)
			}
			loc, _ := time.LoadLocation(zone)
			want := broken.FailingSince.In(loc).Format("2006-01-02 15:04")
			seen[zone] = want

			for _, lang := range []string{"en", "zh-TW"} {
				if r := c.Get("/").Form("button[value=" + lang + "]").Submit(); r.Status != http.StatusSeeOther {
					t.Fatalf("switch to %s: %d", lang, r.Status)
				}
				home := c.Get("/")
				banner := home.Body[strings.Index(home.Body, `class="banner"`)+1:]
				banner = banner[:strings.Index(banner, "</div>")]
				if !strings.Contains(banner, want) {
					t.Errorf("%s banner lacks %s:\n%s", lang, want, banner)
				}
				list := c.Get("/channels").Body
				row := list[strings.Index(list, `id="channel-`+strconv.FormatInt(ch.ID, 10)+`"`):]
				row = row[:strings.Index(row, "</tr>")]
				if !strings.Contains(row, want) {
					t.Errorf("%s list row lacks %s:\n%s", lang, want, row)
				}
				if detail := c.Get("/channels/" + strconv.FormatInt(ch.ID, 10) + "/health").Body; !strings.Contains(detail, want) || !strings.Contains(detail, zone) {
					t.Errorf("%s health panel lacks %s in %s:\n%s", lang, want, zone, detail)
				}
			}

			wait, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			msgs, err := a.Mailbox.Wait(wait, 1)
			if err != nil {
				t.Fatalf("no alert email: %v", err)
			}
			if !strings.Contains(msgs[0].Text, want+" ("+zone+")") || !strings.Contains(msgs[0].HTML, want+" ("+zone+")") {
				t.Errorf("the zh-TW email does not show %s (%s):\n%s", want, zone, msgs[0].Text)
			}
			// The same alert in English names the same time and zone.
			alert := models.HealthAlert{Kind: models.AlertBroken, Locale: "en", TeamName: saved.Name, TimeZone: saved.TimeZone, At: *broken.FailingSince,
				Channels: []models.AlertChannel{{ChannelID: ch.ID, Platform: ch.Platform, Name: ch.DisplayName, Cause: models.CausePasswordChanged, Since: *broken.FailingSince}}}
			_, text, _, err := email.HealthAlert(ctx, a.I18n.For("en"), alert)
			if err != nil || !strings.Contains(text, want+" ("+zone+")") {
				t.Errorf("the English email does not show %s (%s): %v\n%s", want, zone, err, text)
			}
		})
	}
	hk, _ := time.Parse("2006-01-02 15:04", seen["Asia/Hong_Kong"])
	utc, _ := time.Parse("2006-01-02 15:04", seen["UTC"])
	if d := hk.Sub(utc); d < 7*time.Hour || d > 9*time.Hour {
		t.Errorf("Hong Kong shows %s and UTC %s: not eight hours apart", seen["Asia/Hong_Kong"], seen["UTC"])
	}
}

// TestTeamSettingsRefusesBadInput: a bad zone or name is a 422 with the field's message and
// what was typed, nothing is saved, and only admins may open the page.
func TestTeamSettingsRefusesBadInput(t *testing.T) {
	a := testutil.NewApp(t)
	ctx := context.Background()
	team := a.Team("Bear")
	a.User(team.ID, models.RoleAdmin, "owner@bear.test")
	a.User(team.ID, models.RoleSupervisor, "sup@bear.test")
	c := a.Client()
	c.Login("owner@bear.test", testutil.Password)

	for _, tc := range []struct {
		name, zone string
		errors     []string
	}{
		{"Renamed", "Mars/Olympus", []string{"請從清單選擇有效的時區"}},
		{"Renamed", "Local", []string{"請從清單選擇有效的時區"}},
		{"Renamed", "", []string{"請從清單選擇有效的時區"}},
		{"Renamed", "../../etc/passwd", []string{"請從清單選擇有效的時區"}},
		{"   ", "Asia/Tokyo", []string{"請輸入 1 到 200 個字的團隊名稱"}},
		{strings.Repeat("熊", 201), "Asia/Tokyo", []string{"請輸入 1 到 200 個字的團隊名稱"}},
		{"", "Nowhere", []string{"請輸入 1 到 200 個字的團隊名稱", "請從清單選擇有效的時區"}},
	} {
		r := c.Get("/settings/team").Form(`form[action="/settings/team"]`).Set("name", tc.name).Forge("time_zone", tc.zone).Submit()
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("name %q zone %q: %d, want 422", tc.name, tc.zone, r.Status)
			continue
		}
		for _, e := range tc.errors {
			if !strings.Contains(r.Body, e) {
				t.Errorf("name %q zone %q: no %q", tc.name, tc.zone, e)
			}
		}
		if strings.TrimSpace(tc.name) != "" && !strings.Contains(r.Body, `value="`+tc.name+`"`) {
			t.Errorf("the typed name %q is not kept", tc.name)
		}
		got, _ := a.Store.TeamSystem(ctx, team.ID)
		if got.Name != "Bear" || got.TimeZone != models.DefaultTimeZone {
			t.Errorf("a refused form changed the team: %+v", got)
		}
	}
	if r := c.Post("/settings/team", url.Values{"name": {"X"}, "time_zone": {"UTC"}}); r.Status != http.StatusForbidden {
		t.Errorf("save without a CSRF token: %d", r.Status)
	}
	sup := a.Client()
	sup.Login("sup@bear.test", testutil.Password)
	if r := sup.Get("/settings/team"); r.Status != http.StatusForbidden {
		t.Errorf("a supervisor opened team settings: %d", r.Status)
	}
	if home := sup.Get("/"); strings.Contains(home.Body, `href="/settings/team"`) {
		t.Errorf("a supervisor's navigation links to team settings")
	}
}
