package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// TestBrowserTagRuleSwitchesTheSimulatorsRichMenu walks the marketer's path in chromium: a tag,
// a rule picking LINE's members' menu, the tag applied to 王小明, and the simulator showing the
// menu he now sees.
func TestBrowserTagRuleSwitchesTheSimulatorsRichMenu(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("小熊烘焙坊 Bear Bakery")
	admin := a.User(team.ID, models.RoleAdmin, "owner@bear.test")
	if err := seed.SandboxChannels(context.Background(), a.Store, a.Channels, a.Sandbox, admin.ID); err != nil {
		t.Fatal(err)
	}
	line := sbChannel(t, a, team.ID, models.LINE)
	now := time.Now()
	if _, _, err := a.Store.UpsertContact(context.Background(), store.ContactActivity{TeamID: team.ID, ChannelID: line.ID, ExternalUserID: sandbox.LINEUserXiaoming,
		Name: "王小明", InboundAt: &now, Friendship: models.FriendshipFriend, FriendshipAt: &now}); err != nil {
		t.Fatal(err)
	}
	var member string
	for _, m := range a.Sandbox.RichMenus(sandbox.LINEChannelID) {
		if strings.Contains(m.Name, "Members") {
			member = m.ID
		}
	}
	ctx := testutil.Browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "owner@bear.test"),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
		chromedp.Navigate(a.URL+"/tags"),
		chromedp.WaitVisible(`#tag-new input[name=name]`),
		chromedp.SendKeys(`#tag-new input[name=name]`, "已綁定"),
		chromedp.Submit(`#tag-new input[name=name]`),
		chromedp.WaitVisible(`#rule-new`),
		chromedp.SetValue(`#rule-new select[name=menu]`, itoa(line.ID)+":"+member),
		chromedp.SetValue(`#rule-new input[name=priority]`, "10"),
		chromedp.Submit(`#rule-new select[name=menu]`),
		chromedp.WaitVisible(`#tag-rules tbody tr`),
	)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Screenshot(t, ctx, "tags-1-rule")
	err = chromedp.Do(ctx,
		chromedp.Submit(`#tag-apply select[name=contact_id]`),
		chromedp.WaitVisible(`#tag-contacts tbody tr`),
		chromedp.Navigate(a.URL+"/sandbox/simulator?account="+itoa(line.ID)+"&customer="+sandbox.LINEUserXiaoming),
		chromedp.WaitVisible(`#rich-menu[data-menu="`+member+`"]`),
	)
	if err != nil {
		t.Fatalf("the simulator never showed the members' menu: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(`#rich-menu`))
	if err != nil || !strings.Contains(text, "會員選單") {
		t.Fatalf("rich menu shown: %q %v", text, err)
	}
	testutil.Screenshot(t, ctx, "tags-2-simulator-menu")
}
