package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// A customer who writes on Instagram, Messenger or LINE arrives without a name (their webhooks
// carry none); the platform's profile names the contact and its customer soon after, and the
// console shows the name instead of a number.
func TestContactsNamedFromTheirPlatformProfile(t *testing.T) {
	a := testutil.NewApp(t)
	team, admin := sbTeam(t, a)
	c := a.Client()
	c.Login(admin.Email, testutil.Password)
	for _, p := range []models.Platform{models.Instagram, models.Facebook, models.LINE} {
		ch := sbChannel(t, a, team.ID, p)
		customer, ok := a.Sandbox.CustomerID("yijun", sandbox.Platform(p), ch.ExternalID)
		if !ok {
			t.Fatalf("no %s id for 陳怡君", p)
		}
		page := c.Get("/sandbox/simulator?" + url.Values{"account": {itoa(ch.ID)}, "customer": {customer}}.Encode())
		if r := page.Form("#simulator-send").Set("text", "請問營業時間？").Submit(); r.Status != http.StatusSeeOther {
			t.Fatalf("%s send: %d", p, r.Status)
		}
		var name, display string
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := a.SQL().QueryRow(context.Background(), `SELECT ct.name, cu.display_name FROM contacts ct JOIN customers cu ON cu.id = ct.customer_id
				WHERE ct.channel_id = $1 AND ct.external_user_id = $2`, ch.ID, customer).Scan(&name, &display)
			if err == nil && name != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s contact never named (%q, %v)", p, name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if name != "陳怡君" || display != "陳怡君" {
			t.Errorf("%s contact %q, customer %q", p, name, display)
		}
	}
	if r := c.Get("/customers?q=" + url.QueryEscape("陳怡君")); !strings.Contains(r.Body, "陳怡君") {
		t.Error("the customer list does not find the named customer")
	}
	// A name is read once: a person who never wrote (Meta's consent rule) gives nothing and is
	// not asked again; a broken channel's contact waits for the repair.
	ctx := context.Background()
	ig, fb := sbChannel(t, a, team.ID, models.Instagram), sbChannel(t, a, team.ID, models.Facebook)
	silent, _ := a.Sandbox.CustomerID("alice", sandbox.PlatformInstagram, ig.ExternalID)
	a.SQL().Exec(ctx, `INSERT INTO contacts (team_id, channel_id, external_user_id, name) VALUES ($1, $2, $3, ''), ($1, $4, '25000000000000777', '')`,
		team.ID, ig.ID, silent, fb.ID)
	a.SQL().Exec(ctx, `UPDATE channels SET status = 'invalid' WHERE id = $1`, fb.ID)
	if _, err := a.Profiles.ReadPending(ctx); err != nil {
		t.Fatal(err)
	}
	var read, waiting int
	a.SQL().QueryRow(ctx, `SELECT count(*) FILTER (WHERE channel_id = $1 AND profile_read_at IS NOT NULL AND name = ''),
		count(*) FILTER (WHERE channel_id = $2 AND profile_read_at IS NULL) FROM contacts`, ig.ID, fb.ID).Scan(&read, &waiting)
	if read != 1 || waiting != 1 {
		t.Errorf("without consent read %d (want 1), broken channel's contacts waiting %d (want 1)", read, waiting)
	}

	// A channel whose platform is failing holds no one else back, and its contacts are asked
	// again later rather than at every round.
	for i := range 60 {
		a.SQL().Exec(ctx, `INSERT INTO contacts (team_id, channel_id, external_user_id, name) VALUES ($1, $2, $3, '')`, team.ID, ig.ID, "1784290000000"+itoa(int64(1000+i)))
	}
	line := sbChannel(t, a, team.ID, models.LINE)
	a.SQL().Exec(ctx, `INSERT INTO contacts (team_id, channel_id, external_user_id, name) VALUES ($1, $2, $3, '')`, team.ID, line.ID, sandbox.LINEUserXiaoming)
	if err := a.Sandbox.SetTransientFailure(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryPageID}, 1000, sandbox.FailUnknown); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Profiles.ReadPending(ctx); err != nil {
		t.Fatal(err)
	}
	var lineName string
	a.SQL().QueryRow(ctx, `SELECT name FROM contacts WHERE channel_id = $1 AND external_user_id = $2`, line.ID, sandbox.LINEUserXiaoming).Scan(&lineName)
	if lineName != "王小明" {
		t.Errorf("a failing Instagram account kept the LINE contact waiting (%q)", lineName)
	}
	var due int
	a.SQL().QueryRow(ctx, `SELECT count(*) FROM contacts WHERE channel_id = $1 AND name = '' AND profile_read_at IS NULL
		AND (profile_retry_at IS NULL OR profile_retry_at <= now())`, ig.ID).Scan(&due)
	if due != 50 {
		t.Errorf("%d Instagram contacts due again at once, want the 50 not tried this round", due)
	}
}
