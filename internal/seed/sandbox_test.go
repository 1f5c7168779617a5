package seed_test

import (
	"context"
	"github.com/omnilink/omnilink/internal/omnilink"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// Seeding runs before the server listens: the base URL here leads nowhere, so every platform
// call must reach the sandbox in process.
func TestSandboxChannelsConnectsAllFourPlatforms(t *testing.T) {
	a := testutil.NewApp(t, func(c *config.Config) { c.BaseURL = "http://omnilink.invalid" })
	ctx := context.Background()
	res, err := seed.Demo(ctx, a.Store, a.Accounts, "demo-password-long-enough")
	if err != nil || !res.Seeded {
		t.Fatalf("demo team: %+v %v", res, err)
	}
	if err := seed.SandboxChannels(ctx, a.Store, a.InProcessChannels(), a.Sandbox, res.AdminID); err != nil {
		t.Fatal(err)
	}
	list, err := a.Channels.List(ctx, res.TeamID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[models.Platform]string{
		models.Instagram: sandbox.BearBakeryIGID,
		models.Facebook:  sandbox.BearBakeryPageID,
		models.LINE:      sandbox.LINEBotUserID,
		models.WhatsApp:  sandbox.WhatsAppPhoneNumberID,
	}
	if len(list) != len(want) {
		t.Fatalf("seeded %d channels, want %d: %+v", len(list), len(want), list)
	}
	for _, ch := range list {
		if want[ch.Platform] != ch.ExternalID || ch.Status != models.ChannelActive {
			t.Errorf("%s channel %s is %s", ch.Platform, ch.ExternalID, ch.Status)
		}
		if ch.Credentials == "" {
			t.Errorf("%s credentials are not sealed", ch.Platform)
		}
		creds, err := a.Channels.Credentials(&ch)
		if err != nil || creds.AccessToken == "" {
			t.Errorf("%s credentials do not open: %v", ch.Platform, err)
		}
		if ch.Platform == models.LINE && creds.ChannelSecret == "" {
			t.Errorf("the LINE channel secret was not kept")
		}
		if ch.Platform.ViaFacebookLogin() && ch.AuthorizedBy == nil {
			t.Errorf("%s was not connected through Facebook Login", ch.Platform)
		}
	}
	if _, ok := a.Sandbox.Subscription(sandbox.BearBakeryPageID); !ok {
		t.Error("connecting did not subscribe the app to Bear Bakery's webhooks")
	}
	if again, err := seed.Demo(ctx, a.Store, a.Accounts, ""); err != nil || again.Seeded {
		t.Errorf("a second seed on a used database: %+v %v", again, err)
	}
}

func TestDemoModulesAnswerTheKeywordOnInstagram(t *testing.T) {
	a := testutil.NewApp(t)
	ctx := context.Background()
	res, err := seed.Demo(ctx, a.Store, a.Accounts, "demo-password-long-enough")
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.SandboxChannels(ctx, a.Store, a.InProcessChannels(), a.Sandbox, res.AdminID); err != nil {
		t.Fatal(err)
	}
	ids, err := seed.Campaigns(ctx, a.Store, a.Campaigns, res.AdminID)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.DemoModules(ctx, a.Store, a.Modules, a.Triggers, res.AdminID); err != nil {
		t.Fatal(err)
	}
	mods, err := a.Modules.List(ctx, res.TeamID)
	if err != nil || len(mods) != 4 {
		t.Fatalf("modules: %v %v", mods, err)
	}
	// Each Instagram module's text promises one target: its card is that campaign's.
	cards := map[int64]int64{}
	for _, m := range mods {
		if m.Platform != models.Instagram {
			continue
		}
		full, err := a.Modules.Module(ctx, res.TeamID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range full.Blocks {
			if b.Kind == models.BlockOmniLinkCard {
				cards[m.ID] = b.CampaignID
			}
		}
		want := ids[0]
		if strings.Contains(m.Name, "WhatsApp") {
			want = ids[1]
		}
		if cards[m.ID] != want {
			t.Errorf("module %q carries campaign %d's card, want %d", m.Name, cards[m.ID], want)
		}
	}
	// Every keyword answers on Instagram with a card; the English one in English.
	rows, err := a.Triggers.List(ctx, res.TeamID)
	if err != nil || len(rows) != 4 {
		t.Fatalf("triggers: %v %v", rows, err)
	}
	want := map[string]int64{"綁定": ids[0], "link": ids[0], "WhatsApp": ids[1], "通知": ids[1]}
	for _, r := range rows {
		if r.ChannelPlatform != models.Instagram || r.Kind != models.TriggerExact || cards[r.ModuleID] != want[r.Pattern] {
			t.Errorf("trigger %+v", r)
		}
		if r.Pattern == "link" && !strings.Contains(r.ModuleName, "English") {
			t.Errorf("the English keyword answers with %q", r.ModuleName)
		}
	}
}

func TestDemoCampaignsAreEnabledAndLinkable(t *testing.T) {
	a := testutil.NewApp(t)
	ctx := context.Background()
	res, err := seed.Demo(ctx, a.Store, a.Accounts, "demo-password-long-enough")
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.SandboxChannels(ctx, a.Store, a.InProcessChannels(), a.Sandbox, res.AdminID); err != nil {
		t.Fatal(err)
	}
	ids, err := seed.Campaigns(ctx, a.Store, a.Campaigns, res.AdminID)
	if err != nil || len(ids) != 2 {
		t.Fatalf("campaigns %v: %v", ids, err)
	}
	c, err := a.Campaigns.Campaign(ctx, res.TeamID, ids[0])
	if err != nil || c.Status != models.CampaignEnabled || c.Card.MediaID == nil {
		t.Fatalf("Instagram → LINE campaign: %+v, %v", c, err)
	}
	// A card can be minted for an Instagram contact of the demo team.
	chans, _ := a.Store.TeamChannels(ctx, res.TeamID)
	var ig int64
	for _, ch := range chans {
		if ch.Platform == models.Instagram {
			ig = ch.ID
		}
	}
	contact, _, err := a.Store.UpsertContact(ctx, store.ContactActivity{TeamID: res.TeamID, ChannelID: ig, ExternalUserID: "igsid-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		err = a.Store.WithTx(ctx, func(tx *store.Store) error {
			_, err := a.Links.CardLink(ctx, tx, res.TeamID, id, contact)
			return err
		})
		if err != nil {
			t.Fatalf("campaign %d: %v", id, err)
		}
	}

	// Linked through the LINE campaign, 王小明's LINE contact gets the demo tag, whose rule
	// switches him to the members' menu, as the demo walk promises.
	if err := seed.SandboxTagRules(ctx, a.Store, a.Sandbox, res.TeamID, res.AdminID); err != nil {
		t.Fatal(err)
	}
	ming, _, err := a.Store.UpsertContact(ctx, store.ContactActivity{TeamID: res.TeamID, ChannelID: ig, ExternalUserID: "17842000000000001", Name: "王小明"})
	if err != nil {
		t.Fatal(err)
	}
	var link string
	if err := a.Store.WithTx(ctx, func(tx *store.Store) error {
		link, err = a.Links.CardLink(ctx, tx, res.TeamID, ids[0], ming)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r, err := a.Links.LinkLIFF(ctx, omnilink.LIFFSubmission{Token: link[strings.LastIndex(link, "/")+1:],
		IDToken: a.Sandbox.IssueIDToken(sandbox.LINEUserXiaoming, sandbox.LINELoginChannelID)})
	if err != nil || r.Status != omnilink.StatusLinked {
		t.Fatalf("link: %+v %v", r, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := a.Sandbox.CurrentRichMenu(sandbox.LINEChannelID, sandbox.LINEUserXiaoming)
		if m != nil && strings.Contains(m.Name, "Members") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the link did not switch the rich menu: %+v", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
