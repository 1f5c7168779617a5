package automation_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestSendModuleRendersCardsWithAFreshLinkOrRefuses(t *testing.T) {
	a := testutil.NewIdleApp(t)
	ctx := context.Background()
	team := a.Team("小熊烘焙坊")
	admin := a.User(team.ID, models.RoleAdmin, "owner@bear.test")
	ig := a.Channel(team.ID, models.Instagram, "17841400000000001", models.Credentials{AccessToken: "tok"})
	line := a.Channel(team.ID, models.LINE, "Uline0001", models.Credentials{AccessToken: "tok", ChannelSecret: "s"})
	line.Settings = models.ChannelSettings{LiffID: "2000000002-BearBkry", LoginChannelID: "2000000002"}
	if err := a.Store.SaveChannel(ctx, line); err != nil {
		t.Fatal(err)
	}
	in := models.NewCampaignInput()
	in.Name, in.SourceChannelID, in.TargetChannelID = "IG 加 LINE", ig.ID, line.ID
	in.Title, in.Text, in.Button = "加入 LINE 好友", "領折價券", "立即加入"
	in.SuccessTarget = models.Action{Kind: models.ActionText, Text: "歡迎"}
	camp, err := a.Campaigns.Create(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	contactID, _, err := a.Store.UpsertContact(ctx, store.ContactActivity{TeamID: team.ID, ChannelID: ig.ID, ExternalUserID: "17842000000000001", InboundAt: &now})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := a.Modules.Create(ctx, admin, models.ModuleInput{Name: "IG 綁定", Platform: models.Instagram, Blocks: models.ModuleBlocks{
		{Block: models.Block{Kind: models.BlockText, Text: "點卡片綁定"}},
		{Block: models.Block{Kind: models.BlockOmniLinkCard}, CampaignID: camp.ID},
	}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(m *automation.Modules, moduleID int64, key string) (messaging.Result, error) {
		var res messaging.Result
		err := a.Store.WithTx(ctx, func(tx *store.Store) error {
			var err error
			res, err = m.SendModule(ctx, tx, team.ID, contactID, moduleID, key, "test")
			return err
		})
		return res, err
	}

	// Without the runtime: refused with the clear error, nothing queued.
	if _, err := send(automation.NewModules(a.Store, a.Messaging, nil, a.Config.BaseURL, nil), mod.ID, "k1"); !errors.Is(err, automation.ErrCardLinksUnavailable) {
		t.Fatalf("card without links: %v", err)
	}
	if items, _ := a.Store.OutboxItems(ctx, messaging.KindSend); len(items) != 0 {
		t.Fatal("a refused send was queued")
	}

	// With the OmniLink runtime: the card's button is a freshly minted link; a repeat of the key
	// mints nothing more.
	m := a.Modules
	tokens := func() (n int) {
		if err := a.SQL().QueryRow(ctx, `SELECT count(*) FROM link_tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	res, err := send(m, mod.ID, "k2")
	if err != nil || res.Outcome != models.SendQueued {
		t.Fatalf("send: %+v %v", res, err)
	}
	items, _ := a.Store.OutboxItems(ctx, messaging.KindSend)
	if len(items) != 1 || !strings.Contains(items[0].Payload, a.Config.BaseURL+"/l/") || !strings.Contains(items[0].Payload, "加入 LINE 好友") ||
		!strings.Contains(items[0].Payload, `"template_type": "generic"`) {
		t.Fatalf("queued: %+v", items)
	}
	if res, err := send(m, mod.ID, "k2"); err != nil || !res.Duplicate || tokens() != 1 {
		t.Errorf("repeat: %+v %v, %d links minted", res, err, tokens())
	}

	// A LINE module cannot go to an Instagram contact; another team's module is not found.
	lm, err := a.Modules.Create(ctx, admin, models.ModuleInput{Name: "LINE", Platform: models.LINE,
		Blocks: models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText, Text: "hi"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := send(m, lm.ID, "k3"); !errors.Is(err, automation.ErrWrongPlatform) {
		t.Errorf("wrong platform: %v", err)
	}
	other := a.Team("Other")
	stranger := a.User(other.ID, models.RoleAdmin, "x@other.test")
	om, err := a.Modules.Create(ctx, stranger, models.ModuleInput{Name: "theirs", Platform: models.Instagram,
		Blocks: models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText, Text: "hi"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := send(m, om.ID, "k4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another team's module: %v", err)
	}
}
