package automation_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

func TestRichMenuRulesByPriorityWithFallbackOnRemoval(t *testing.T) {
	e := newEnv(t)
	m := e.menus()
	member, vip := e.tag("會員"), e.tag("VIP")
	e.menuRule(member, m["Members"], "10")
	e.menuRule(vip, m["VIP"], "20")
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	jun := e.contact(e.lineCh, sandbox.LINEUserYijun)

	e.apply(ming, member)
	e.drain()
	if got := e.userMenu(sandbox.LINEUserXiaoming); got != m["Members"] {
		t.Fatalf("after 會員: menu %q, want Members", got)
	}
	// The higher priority wins whatever the order tags arrive in.
	e.apply(ming, vip)
	e.apply(jun, vip)
	e.apply(jun, member)
	e.drain()
	if e.userMenu(sandbox.LINEUserXiaoming) != m["VIP"] || e.userMenu(sandbox.LINEUserYijun) != m["VIP"] {
		t.Fatalf("VIP should win: %q %q", e.userMenu(sandbox.LINEUserXiaoming), e.userMenu(sandbox.LINEUserYijun))
	}
	// Removing the winning tag falls back to the next rule; removing the last, to the default.
	e.remove(ming, vip)
	e.drain()
	if got := e.userMenu(sandbox.LINEUserXiaoming); got != m["Members"] {
		t.Fatalf("after removing VIP: %q, want Members", got)
	}
	e.remove(ming, member)
	e.drain()
	if got := e.userMenu(sandbox.LINEUserXiaoming); got != "" {
		t.Fatalf("after removing every tag: %q, want the default", got)
	}
	if e.userMenu(sandbox.LINEUserYijun) != m["VIP"] {
		t.Fatal("another user's menu changed")
	}
	if n := e.lineCalls("DELETE /v2/bot/user/" + sandbox.LINEUserXiaoming + "/richmenu"); n != 1 {
		t.Fatalf("unlink calls %d, want 1", n)
	}
}

func TestApplyingATagAgainChangesNothing(t *testing.T) {
	e := newEnv(t)
	m := e.menus()
	member := e.tag("會員")
	e.menuRule(member, m["Members"], "")
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	e.apply(ming, member)
	e.apply(ming, member)
	if err := e.tags.ApplyCampaignTags(context.Background(), e.app.Store, e.team.ID, ming.ID, 7, []int64{member.ID, member.ID}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	e.apply(ming, member)
	e.drain()
	if n := e.count(`SELECT count(*) FROM outbox WHERE kind = $1`, automation.KindRichMenu); n != 1 {
		t.Fatalf("rich menu work items %d, want 1", n)
	}
	if n := e.lineCalls("POST /v2/bot/user/"); n != 1 {
		t.Fatalf("link calls %d, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM contact_tags WHERE contact_id = $1 AND source = 'user'`, ming.ID); n != 1 {
		t.Fatalf("contact tags %d, want 1 (the first application's)", n)
	}
	if e.userMenu(sandbox.LINEUserXiaoming) != m["Members"] {
		t.Fatal("menu not linked")
	}
}

func TestAnotherTeamsIDsAreNotFound(t *testing.T) {
	e := newEnv(t)
	other := e.app.Team("Other")
	stranger := e.app.User(other.ID, models.RoleMarketer, "x@other.test")
	theirs, err := e.tags.Create(context.Background(), stranger, models.TagInput{Name: "別人的"})
	if err != nil {
		t.Fatal(err)
	}
	ours := e.tag("會員")
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	ctx := context.Background()
	for name, err := range map[string]error{
		"their tag on our contact": e.tags.Apply(ctx, e.admin, ming.ID, theirs.ID),
		"our tag by them":          e.tags.Apply(ctx, stranger, ming.ID, ours.ID),
		"campaign tags mixed":      e.tags.ApplyCampaignTags(ctx, e.app.Store, e.team.ID, ming.ID, 1, []int64{ours.ID, theirs.ID}),
		"remove their tag":         e.tags.Remove(ctx, e.admin, ming.ID, theirs.ID),
	} {
		if !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
	_, err = e.tags.SaveRule(ctx, stranger, ours.ID, models.RuleInput{Action: models.RuleRichMenu, Menu: idStr(e.lineCh.ID) + ":" + e.menus()["VIP"]})
	if !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("rule on another team's tag: %v", err)
	}
	_, err = e.tags.SaveRule(ctx, stranger, theirs.ID, models.RuleInput{Action: models.RuleRichMenu, Menu: idStr(e.lineCh.ID) + ":" + e.menus()["VIP"]})
	if !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("rule on another team's channel: %v", err)
	}
	if n := e.count(`SELECT count(*) FROM contact_tags`); n != 0 {
		t.Fatalf("%d contact tags written", n)
	}
}

func TestRuleMenusArePickedFromLINE(t *testing.T) {
	e := newEnv(t)
	tag := e.tag("會員")
	ctx := context.Background()
	_, err := e.tags.SaveRule(ctx, e.admin, tag.ID, models.RuleInput{Action: models.RuleRichMenu, Menu: idStr(e.lineCh.ID) + ":richmenu-typed-by-hand", Priority: "1"})
	var p models.FieldProblems
	if !errors.As(err, &p) || p["menu"].Key != "tags.error.menu_not_listed" {
		t.Fatalf("typed menu id: %v", err)
	}
	_, err = e.tags.SaveRule(ctx, e.admin, tag.ID, models.RuleInput{Action: models.RuleRichMenu, Menu: "nonsense", Priority: "-3"})
	if !errors.As(err, &p) || p["menu"].Key == "" || p["priority"].Key == "" {
		t.Fatalf("every problem at once: %v", err)
	}
	choices, unavailable, err := e.tags.MenuChoices(ctx, e.team.ID)
	if err != nil || len(unavailable) != 0 || len(choices) != 3 || choices[0].Menu.Name == "" {
		t.Fatalf("choices %+v %v %v", choices, unavailable, err)
	}
	if n := e.count(`SELECT count(*) FROM tag_rules`); n != 0 {
		t.Fatalf("%d rules written", n)
	}
}

func TestRuleToADeletedMenuIsDetectedAndNotApplied(t *testing.T) {
	e := newEnv(t)
	m := e.menus()
	member, vip := e.tag("會員"), e.tag("VIP")
	e.menuRule(member, m["Members"], "1")
	vipRule := e.menuRule(vip, m["VIP"], "5")
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	e.apply(ming, member)
	e.drain()
	// Someone deletes the VIP menu in LINE's console (here: LINE's API, over HTTP).
	req, _ := http.NewRequest(http.MethodDelete, e.api.URL+"/line/v2/bot/richmenu/"+m["VIP"], nil)
	req.Header.Set("Authorization", "Bearer "+lineToken(e))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("delete menu: %v %v", res, err)
	}
	res.Body.Close()
	// Applying the tag tries the menu, LINE answers 404, the rule is marked, the user falls back.
	e.apply(ming, vip)
	e.drain()
	e.drain()
	rule, err := e.app.Store.TeamTagRule(context.Background(), e.team.ID, vipRule.ID)
	if err != nil || rule.MenuMissingAt == nil {
		t.Fatalf("rule not marked missing: %+v %v", rule, err)
	}
	if got := e.userMenu(sandbox.LINEUserXiaoming); got != m["Members"] {
		t.Fatalf("menu %q, want the fallback Members", got)
	}
	// Marked, it is never tried again.
	before := e.lineCalls("POST /v2/bot/user/" + sandbox.LINEUserXiaoming + "/richmenu/" + m["VIP"])
	e.remove(ming, member)
	e.apply(ming, member)
	e.drain()
	if after := e.lineCalls("POST /v2/bot/user/" + sandbox.LINEUserXiaoming + "/richmenu/" + m["VIP"]); after != before {
		t.Fatalf("missing menu tried again (%d → %d)", before, after)
	}
	// The tag page's check finds it from LINE's list too, for rules never tried.
	jun := e.contact(e.lineCh, sandbox.LINEUserYijun)
	_ = jun
	if err := e.app.Store.SetRuleMenuMissingSystem(context.Background(), vipRule.ID, nil); err != nil {
		t.Fatal(err)
	}
	choices, unavailable, err := e.tags.MenuChoices(context.Background(), e.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := e.tags.Rules(context.Background(), e.team.ID, vip.ID, choices, unavailable)
	if err != nil || len(rules) != 1 || rules[0].MenuMissingAt == nil {
		t.Fatalf("list check: %+v %v", rules, err)
	}
}

func lineToken(e *env) string {
	acct, _ := e.world.LINEAccount(sandbox.LINEChannelID)
	return acct.AccessToken
}

func TestRichMenuReappliedAfterTheChannelRecovers(t *testing.T) {
	e := newEnv(t)
	m := e.menus()
	member := e.tag("會員")
	e.menuRule(member, m["Members"], "")
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	target := sandbox.Target{Kind: sandbox.TargetLINE, ID: sandbox.LINEChannelID}
	if err := e.world.BreakToken(target, sandbox.CauseExpired); err != nil {
		t.Fatal(err)
	}
	e.apply(ming, member)
	e.drain()
	if e.userMenu(sandbox.LINEUserXiaoming) != "" {
		t.Fatal("linked with a broken token")
	}
	ch, err := e.app.Store.Channel(context.Background(), e.team.ID, e.lineCh.ID)
	if err != nil || ch.Status != models.ChannelInvalid {
		t.Fatalf("the auth failure should break the channel: %+v %v", ch, err)
	}
	row, _ := e.app.Store.ContactRichMenu(context.Background(), ming.ID)
	if row == nil || row.Status != models.RichMenuFailed {
		t.Fatalf("change should be failed: %+v", row)
	}
	// The token works again; the next health check closes the episode and the change is re-queued.
	if err := e.world.Repair(target); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Health.CheckChannel(context.Background(), e.team.ID, e.lineCh.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour) // past anything queued on the monitor's own clock
	e.drain()
	if got := e.userMenu(sandbox.LINEUserXiaoming); got != m["Members"] {
		t.Fatalf("after recovery: %q, want Members", got)
	}
	row, _ = e.app.Store.ContactRichMenu(context.Background(), ming.ID)
	if row.Status != models.RichMenuApplied || row.Applied == nil || *row.Applied != m["Members"] {
		t.Fatalf("row %+v", row)
	}
}
