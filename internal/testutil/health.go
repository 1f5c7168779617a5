package testutil

import (
	"context"
	"net/url"
	"testing"

	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

// SandboxPageToken mints a long-lived Page token for a sandbox Facebook user's Page through the
// OAuth code flow the connect flow uses: dialog grant, code exchange, long-lived exchange,
// me/accounts. mc must talk to w's Graph API.
func SandboxPageToken(t testing.TB, w *sandbox.World, mc *meta.Client, userKey, pageID string) string {
	t.Helper()
	ctx := context.Background()
	u, ok := w.FacebookUser(userKey)
	if !ok {
		t.Fatalf("sandbox has no Facebook user %q", userKey)
	}
	const redirect = "https://omnilink.test/oauth/meta/callback"
	loc, err := w.Authorize(u.ID, w.DefaultGrant(u.ID, sandbox.AppScopes()), redirect, "state")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	short, err := mc.ExchangeCode(ctx, parsed.Query().Get("code"), redirect)
	if err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	long, err := mc.ExchangeLongLived(ctx, short.AccessToken)
	if err != nil {
		t.Fatalf("long-lived token: %v", err)
	}
	pages, err := mc.Accounts(ctx, long.AccessToken)
	if err != nil {
		t.Fatalf("me/accounts: %v", err)
	}
	for _, p := range pages {
		if p.ID == pageID {
			return p.AccessToken
		}
	}
	t.Fatalf("%s has no role on Page %s", userKey, pageID)
	return ""
}

// SandboxChannel connects a sandbox account to a team with working credentials and the names,
// handles and settings the connect flow stores: a Facebook Page or Instagram account (through
// userKey's Page token), the LINE official account or the WhatsApp number.
func (a *TestApp) SandboxChannel(teamID int64, w *sandbox.World, mc *meta.Client, p models.Platform, account, userKey string) *models.Channel {
	a.t.Helper()
	var creds models.Credentials
	var name, username string
	var settings models.ChannelSettings
	switch p {
	case models.Facebook:
		for _, pg := range w.Pages() {
			if pg.ID == account {
				name = pg.Name
			}
		}
		creds.AccessToken = SandboxPageToken(a.t, w, mc, userKey, account)
	case models.Instagram:
		for _, ig := range w.InstagramAccounts() {
			if ig.ID == account {
				name, username, settings.PageID = ig.Name, ig.Username, ig.PageID
			}
		}
		creds.AccessToken = SandboxPageToken(a.t, w, mc, userKey, settings.PageID)
	case models.LINE:
		acct, ok := w.LINEAccount(account)
		if !ok {
			a.t.Fatalf("sandbox has no LINE account %s", account)
		}
		account, name, username = acct.BotUserID, acct.DisplayName, acct.BasicID
		settings.LineChannelID, settings.BasicID = acct.ChannelID, acct.BasicID
		creds = models.Credentials{AccessToken: acct.AccessToken, ChannelSecret: acct.ChannelSecret}
	case models.WhatsApp:
		for _, n := range w.WhatsAppNumbers() {
			if n.PhoneNumberID == account {
				name, username = n.VerifiedName, n.DisplayPhoneNumber
				settings.WABAID, settings.DisplayNumber, settings.VerifiedName = n.WABAID, n.DisplayPhoneNumber, n.VerifiedName
				creds.AccessToken = n.AccessToken
			}
		}
	}
	if name == "" || creds.AccessToken == "" {
		a.t.Fatalf("sandbox has no %s account %s", p, account)
	}
	// Connecting subscribes the app to the account's webhooks; without it the sandbox, as Meta
	// does, delivers nothing.
	switch p {
	case models.Facebook, models.Instagram:
		if err := w.SubscribeApp(account, meta.WebhookFields(meta.ObjectPage)...); err != nil {
			a.t.Fatal(err)
		}
	case models.WhatsApp:
		if err := w.SubscribeApp(account, meta.WebhookFields(meta.ObjectWhatsApp)...); err != nil {
			a.t.Fatal(err)
		}
	}
	ch := a.Channel(teamID, p, account, creds)
	ch.DisplayName, ch.Username, ch.Settings = name, username, settings
	if err := a.Store.SaveChannel(context.Background(), ch); err != nil {
		a.t.Fatal(err)
	}
	return ch
}
