package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/sandbox/ui"
	"github.com/omnilink/omnilink/models"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// oneChannel is a team (id 1) with one WhatsApp channel on the sandbox's number.
type oneChannel struct{ ch models.Channel }

func (o oneChannel) TeamChannels(_ context.Context, teamID int64) ([]models.Channel, error) {
	if teamID != o.ch.TeamID {
		return nil, nil
	}
	return []models.Channel{o.ch}, nil
}

func (o oneChannel) Channel(_ context.Context, teamID, id int64) (*models.Channel, error) {
	if teamID != o.ch.TeamID || id != o.ch.ID {
		return nil, apperr.ErrNotFound
	}
	c := o.ch
	return &c, nil
}

func (o oneChannel) LiveChannelByAccountSystem(_ context.Context, p models.Platform, externalID string) (*models.Channel, error) {
	if p != o.ch.Platform || externalID != o.ch.ExternalID {
		return nil, apperr.ErrNotFound
	}
	c := o.ch
	return &c, nil
}

func newService(t *testing.T, base string) (*ui.Service, *sandbox.World) {
	t.Helper()
	w, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := models.Channel{ID: 7, TeamID: 1, Platform: models.WhatsApp, ExternalID: sandbox.WhatsAppPhoneNumberID, DisplayName: "Bear", Status: models.ChannelActive}
	// Connected: the app is subscribed to the number's business account, so Meta delivers.
	if err := w.SubscribeApp(sandbox.WhatsAppPhoneNumberID); err != nil {
		t.Fatal(err)
	}
	return ui.New(ui.Deps{World: w, Channels: oneChannel{ch}, BaseURL: base}), w
}

// Before the webhook routes exist, a delivery answers 404: the simulator says so plainly.
func TestActReportsAMissingWebhookRoute(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/webhooks/meta" || r.Header.Get("X-Hub-Signature-256") == "" {
			t.Errorf("delivery to %s without a Meta signature", r.URL.Path)
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	s, w := newService(t, srv.URL)
	wa, _ := w.CustomerID("alice", sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID)
	d, err := s.Act(context.Background(), 1, ui.Action{ChannelID: 7, Customer: wa, Kind: ui.ActText, Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if kind, key := d.Outcome(); d.Status != http.StatusNotFound || kind != "error" || key != "sandbox.delivery_missing" || hits.Load() != 1 {
		t.Errorf("delivery %+v → %s %s", d, kind, key)
	}
	if conv := w.Conversation(sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, wa); len(conv) != 1 || conv[0].Text != "hello" {
		t.Errorf("the customer's message is not in the conversation: %+v", conv)
	}
}

func TestActRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s, w := newService(t, srv.URL)
	wa, _ := w.CustomerID("alice", sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID)
	ctx := context.Background()
	cases := []struct {
		name   string
		team   int64
		a      ui.Action
		status int
	}{
		{"empty text", 1, ui.Action{ChannelID: 7, Customer: wa, Kind: ui.ActText, Text: "  "}, http.StatusUnprocessableEntity},
		{"follow on WhatsApp", 1, ui.Action{ChannelID: 7, Customer: wa, Kind: ui.ActFollow}, http.StatusUnprocessableEntity},
		{"bad wa_id", 1, ui.Action{ChannelID: 7, Customer: "+886", Kind: ui.ActText, Text: "hi"}, http.StatusUnprocessableEntity},
		{"another team", 2, ui.Action{ChannelID: 7, Customer: wa, Kind: ui.ActText, Text: "hi"}, http.StatusNotFound},
	}
	for _, tc := range cases {
		_, err := s.Act(ctx, tc.team, tc.a)
		ae, ok := apperr.From(err)
		if !ok || ae.Status != tc.status {
			t.Errorf("%s: %v, want status %d", tc.name, err, tc.status)
		}
	}
	d, err := s.Act(ctx, 1, ui.Action{ChannelID: 7, Customer: wa, Kind: ui.ActText, Text: "ok"})
	if err != nil || !d.OK() {
		t.Errorf("a good delivery: %+v %v", d, err)
	}
}

func TestDialogAndPanel(t *testing.T) {
	s, w := newService(t, "http://omnilink.test")
	q := map[string][]string{"client_id": {w.AppID()}, "redirect_uri": {"http://omnilink.test/oauth/meta/callback"}, "state": {"s"},
		"config_id": {"123"}, "sandbox_user": {"kai"}}
	vm, err := s.Dialog("/sandbox/dialog/v25.0/dialog/oauth", q)
	if err != nil {
		t.Fatal(err)
	}
	if vm.Selected == nil || vm.Selected.Key != "kai" || len(vm.Permissions) != len(sandbox.AppScopes()) {
		t.Fatalf("a config_id request for kai: %+v", vm)
	}
	if len(vm.Pages) != 1 || vm.Pages[0].Instagram != "" {
		t.Errorf("kai's Page has no Instagram: %+v", vm.Pages)
	}
	to, err := s.Decide(map[string][]string{"client_id": {w.AppID()}, "redirect_uri": {"http://omnilink.test/oauth/meta/callback"},
		"state": {"s"}, "scope": {"pages_show_list"}, "sandbox_user": {"kai"}, "perm": {"pages_show_list", "ads_management"}, "decision": {"continue"}})
	if err != nil || to == "" {
		t.Fatalf("decide: %q %v", to, err)
	}

	ctx := context.Background()
	p, err := s.Panel(ctx, 1)
	if err != nil || len(p.Targets) == 0 || p.Targets[0].Value != "app" {
		t.Fatalf("panel: %+v %v", p, err)
	}
	// Each target offers its own platform's causes: the WhatsApp number none of Facebook's.
	for _, tv := range p.Targets {
		var causes []string
		for _, c := range tv.Causes {
			causes = append(causes, c.Value)
		}
		switch tv.Kind {
		case "whatsapp":
			if slices.Contains(causes, "password_changed") || !slices.Contains(causes, "number_disconnected") {
				t.Errorf("WhatsApp causes: %v", causes)
			}
		case "app":
			if len(causes) != 1 || causes[0] != "rate_limited" {
				t.Errorf("app causes: %v", causes)
			}
		case "line":
			t.Errorf("team 1 has no LINE channel, yet the panel shows %s", tv.Value)
		}
	}
	if len(p.LINE) == 0 || len(p.WhatsApp) != 1 || !p.WhatsApp[0].Connected || p.WhatsApp[0].AccessToken == "" {
		t.Errorf("credentials: LINE %+v WhatsApp %+v", p.LINE, p.WhatsApp)
	}
	if other, _ := s.Panel(ctx, 2); len(other.WhatsApp) != 0 {
		t.Errorf("team 2 sees the number team 1 connected: %+v", other.WhatsApp)
	}
	if err := s.Break(ctx, 1, "app", "expired"); err == nil {
		t.Error("the app target took a cause other than rate_limited")
	}
	if err := s.Break(ctx, 1, "fbuser:mei", "melted"); err == nil {
		t.Error("an unknown cause was accepted")
	}
	wa := "whatsapp:" + sandbox.WhatsAppPhoneNumberID
	if err := s.Break(ctx, 1, wa, "checkpoint"); err == nil {
		t.Error("a WhatsApp number took a Facebook checkpoint")
	}
	if err := s.Break(ctx, 2, wa, "number_disconnected"); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("team 2 broke team 1's number: %v", err)
	}
	if err := s.Transient(ctx, 1, wa, "2", "timeout"); err != nil {
		t.Fatal(err)
	}
	p, _ = s.Panel(ctx, 1)
	for _, tv := range p.Targets {
		if tv.Value == wa && (tv.TransientLeft != 2 || tv.Healthy()) {
			t.Errorf("WhatsApp target after injecting: %+v", tv)
		}
	}
}

// An Instagram account's row damages its Page's tokens, so it offers the Page's causes.
func TestPanelInstagramRowOffersPageCauses(t *testing.T) {
	w, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ig := w.InstagramAccounts()[0]
	ch := models.Channel{ID: 9, TeamID: 1, Platform: models.Instagram, ExternalID: ig.ID, DisplayName: ig.Username, Status: models.ChannelActive}
	s := ui.New(ui.Deps{World: w, Channels: oneChannel{ch}, BaseURL: "http://omnilink.test"})
	p, err := s.Panel(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var row *sbview.TargetVM
	for i := range p.Targets {
		if p.Targets[i].Kind == "instagram" {
			row = &p.Targets[i]
		}
	}
	if row == nil {
		t.Fatalf("no Instagram row: %+v", p.Targets)
	}
	if !slices.ContainsFunc(row.Causes, func(c sbview.CauseVM) bool { return c.Value == "password_changed" }) {
		t.Fatalf("Instagram row causes: %+v", row.Causes)
	}
	var ae *apperr.Error
	if err := s.Break(context.Background(), 1, row.Value, "checkpoint"); errors.As(err, &ae) && ae.Field == "cause" {
		t.Errorf("the Instagram row refused a Page cause: %v", err)
	}
}
