package meta_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/sandbox"
)

// The Page list is what every connect, reauthorise and health-check re-subscribe sends, so the
// strict Graph stand-in must accept it on the Page edge, and it must hold no Instagram-only field.
func TestPageWebhookFieldsAreAcceptedByThePageEdge(t *testing.T) {
	w, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.APIHandler())
	t.Cleanup(srv.Close)
	mc := meta.New(meta.Config{AppID: w.AppID(), AppSecret: w.AppSecret(), GraphURL: srv.URL + "/graph"})
	ctx := context.Background()
	const redirect = "https://omnilink.test/oauth/meta/callback"
	loc, err := w.Authorize(sandbox.MeiUserID, w.DefaultGrant(sandbox.MeiUserID, sandbox.AppScopes()), redirect, "s")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	short, err := mc.ExchangeCode(ctx, u.Query().Get("code"), redirect)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := mc.Accounts(ctx, short.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, p := range pages {
		if p.ID == sandbox.BearBakeryPageID {
			token = p.AccessToken
		}
	}
	fields := meta.WebhookFields(meta.ObjectPage)
	if err := mc.SubscribeApp(ctx, sandbox.BearBakeryPageID, token, fields); err != nil {
		t.Fatalf("the Page edge refuses our Page fields %v: %v", fields, err)
	}
	got, ok := w.Subscription(sandbox.BearBakeryPageID)
	if !ok || !slices.Equal(got, fields) {
		t.Fatalf("subscribed %v, want %v", got, fields)
	}
	if slices.Contains(fields, "messaging_seen") || !slices.Contains(fields, "message_reads") {
		t.Fatalf("Page fields %v: Messenger's read receipt is message_reads", fields)
	}
	// Fields of one object are never another's: the lists are kept apart.
	if err := mc.SubscribeApp(ctx, sandbox.BearBakeryPageID, token, meta.WebhookFields(meta.ObjectInstagram)); err == nil {
		t.Fatal("the strict Page edge accepted Instagram's fields")
	}
}

// The README tells operators which fields to tick per object in the App Dashboard; it must say
// what the code subscribes.
func TestREADMEListsTheWebhookFieldsPerObject(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(raw)), " ")
	for _, obj := range meta.WebhookObjects {
		re := regexp.MustCompile("`" + regexp.QuoteMeta(obj) + "` object \\(fields? ([^)]*)\\)")
		m := re.FindStringSubmatch(readme)
		if m == nil {
			t.Errorf("README does not list the fields of the %q object", obj)
			continue
		}
		var listed []string
		for _, f := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[1], -1) {
			listed = append(listed, f[1])
		}
		want := meta.WebhookFields(obj)
		slices.Sort(listed)
		slices.Sort(want)
		if !slices.Equal(listed, want) {
			t.Errorf("README lists %v for %q, the code subscribes %v", listed, obj, want)
		}
	}
}
