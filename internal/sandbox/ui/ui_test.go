package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/sandbox/ui"
	"github.com/omnilink/omnilink/models"
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

	p := s.Panel()
	if len(p.Targets) == 0 || p.Targets[0].Value != "app" || len(p.Causes) != len(sandbox.Causes()) {
		t.Fatalf("panel: %+v", p)
	}
	if err := s.Break("app", "expired"); err == nil {
		t.Error("the app target took a cause other than rate_limited")
	}
	if err := s.Break("fbuser:mei", "melted"); err == nil {
		t.Error("an unknown cause was accepted")
	}
	if err := s.Transient("line:"+sandbox.LINEChannelID, "2", "timeout"); err != nil {
		t.Fatal(err)
	}
	for _, tv := range s.Panel().Targets {
		if tv.Value == "line:"+sandbox.LINEChannelID && (tv.TransientLeft != 2 || tv.Healthy()) {
			t.Errorf("LINE target after injecting: %+v", tv)
		}
	}
}
