package seed_test

import (
	"context"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestDemoTagSwitchesTheSandboxRichMenu(t *testing.T) {
	a := testutil.NewIdleApp(t)
	ctx := context.Background()
	res, err := seed.Demo(ctx, a.Store, a.Accounts, "demo-password-long-enough")
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.SandboxChannels(ctx, a.Store, a.InProcessChannels(), a.Sandbox, res.AdminID); err != nil {
		t.Fatal(err)
	}
	if err := seed.SandboxTagRules(ctx, a.Store, a.Sandbox, res.TeamID, res.AdminID); err != nil {
		t.Fatal(err)
	}
	ch, err := a.Store.TeamChannel(ctx, res.TeamID, models.LINE, sandbox.LINEBotUserID)
	if err != nil {
		t.Fatal(err)
	}
	// The seed recorded the account's friends as contacts; 王小明 is one.
	now := time.Now()
	contact, created, err := a.Store.UpsertContact(ctx, store.ContactActivity{TeamID: res.TeamID, ChannelID: ch.ID, ExternalUserID: sandbox.LINEUserXiaoming,
		Name: "王小明", InboundAt: &now, Friendship: models.FriendshipFriend, FriendshipAt: &now})
	if err != nil || created {
		t.Fatalf("王小明 should already be a contact: created=%v %v", created, err)
	}
	tags, _ := a.Store.TeamTags(ctx, res.TeamID)
	if len(tags) != 1 || tags[0].Name != seed.DemoTag {
		t.Fatalf("tags %+v", tags)
	}
	admin, _ := a.Store.UserByID(ctx, res.AdminID)
	if err := a.Tags.Apply(ctx, admin, contact, tags[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Outbox.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	got := a.Sandbox.CurrentRichMenu(sandbox.LINEChannelID, sandbox.LINEUserXiaoming)
	if got == nil || got.ChatBarText != "會員專區" {
		t.Fatalf("sandbox menu %+v, want the members' menu", got)
	}
	js, _ := a.Store.TeamJourneys(ctx, res.TeamID)
	if len(js) != 1 || len(js[0].Steps) != 2 || js[0].Steps[0].Minutes != 1 {
		t.Fatalf("journeys %+v", js)
	}
}
