package omnilink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

type fixture struct {
	st                  *store.Store
	pool                *pgxpool.Pool
	svc                 *omnilink.Service
	team, other         *models.Team
	user, otherUser     *models.User
	ig, fb, line, wa    *models.Channel
	lineNoLiff, otherCh *models.Channel
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	url := testutil.DatabaseURL(t)
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	f := &fixture{st: st, pool: pool, svc: omnilink.New(st, nil, "https://omnilink.test", nil)}
	mk := func(name string) (*models.Team, *models.User) {
		tm := &models.Team{Name: name, Locale: "zh-TW", PlanStatus: models.PlanActive}
		if err := st.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
		u := &models.User{TeamID: tm.ID, Email: strings.ToLower(name) + "@t.test", Name: name, PasswordHash: "x", Role: models.RoleMarketer}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return tm, u
	}
	f.team, f.user = mk("Bear")
	f.other, f.otherUser = mk("Other")
	ch := func(team int64, p models.Platform, ext string, s models.ChannelSettings) *models.Channel {
		c := &models.Channel{TeamID: team, Platform: p, ExternalID: ext, DisplayName: string(p) + " " + ext, Status: models.ChannelActive, Settings: s}
		if err := st.CreateChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.ig = ch(f.team.ID, models.Instagram, "ig1", models.ChannelSettings{})
	f.fb = ch(f.team.ID, models.Facebook, "fb1", models.ChannelSettings{})
	f.line = ch(f.team.ID, models.LINE, "line1", models.ChannelSettings{LiffID: "2000000002-abc", LoginChannelID: "2000000002"})
	f.lineNoLiff = ch(f.team.ID, models.LINE, "line2", models.ChannelSettings{})
	f.wa = ch(f.team.ID, models.WhatsApp, "wa1", models.ChannelSettings{})
	f.otherCh = ch(f.other.ID, models.LINE, "line9", models.ChannelSettings{LiffID: "2000000009-abc", LoginChannelID: "2000000009"})
	return f
}

func (f *fixture) input() models.CampaignInput {
	return models.CampaignInput{Name: "IG → LINE", Status: models.CampaignEnabled, SourceChannelID: f.ig.ID, TargetChannelID: f.line.ID, WAMessage: "left over",
		Title: "加入 LINE 好友", Text: "領取 100 元折價券", Button: "立即加入",
		SuccessSource: models.Action{Kind: models.ActionText, Text: "已完成整合！"},
		SuccessTarget: models.Action{Kind: models.ActionText, Text: "歡迎加入"},
		FailureSource: models.Action{Kind: models.ActionNone}, NewTagSource: "IG 粉絲", NewTagTarget: "LINE 會員", TokenTTLDays: 7}
}

func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateStoresEverythingAndAudits(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	c, err := f.svc.Create(ctx, f.user, f.input())
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Campaign(ctx, f.team.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Card.Title != "加入 LINE 好友" || got.SuccessTarget.Kind != models.ActionText || got.SuccessTarget.Text != "歡迎加入" ||
		got.FailureSource.Kind != models.ActionNone || got.Version != 1 || got.TokenTTLDays != 7 || *got.CreatedBy != f.user.ID {
		t.Fatalf("stored %+v", got)
	}
	if len(got.TagsSource) != 1 || len(got.TagsTarget) != 1 || got.TagsSource[0] == got.TagsTarget[0] {
		t.Fatalf("inline tags not created and applied: %v %v", got.TagsSource, got.TagsTarget)
	}
	tags, _ := f.svc.Tags(ctx, f.team.ID)
	if len(tags) != 2 {
		t.Fatalf("tags %v", tags)
	}
	// The same name again reuses the tag, whatever its case.
	in := f.input()
	in.NewTagSource = "ig 粉絲"
	if _, err := f.svc.Create(ctx, f.user, in); err != nil {
		t.Fatal(err)
	}
	if tags, _ := f.svc.Tags(ctx, f.team.ID); len(tags) != 2 {
		t.Fatalf("inline tag duplicated: %v", tags)
	}
	if got.WAMessage != "" {
		t.Fatal("a WhatsApp message was kept for a LINE target")
	}
	hist, err := f.svc.History(ctx, f.team.ID, c.ID)
	if err != nil || len(hist) != 1 || hist[0].Action != "campaign.create" || hist[0].ActorName != "Bear" {
		t.Fatalf("history %+v %v", hist, err)
	}
}

func TestCreateRefusesEveryBadInputAndWritesNothing(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	otherTag, err := f.st.EnsureTeamTag(ctx, f.other.ID, "theirs", f.otherUser.ID)
	if err != nil {
		t.Fatal(err)
	}
	mod := int64(42)
	cases := []struct {
		name  string
		edit  func(*models.CampaignInput)
		field string
		key   string
	}{
		{"missing name", func(in *models.CampaignInput) { in.Name = "  " }, "name", "campaigns.error_required"},
		{"long name", func(in *models.CampaignInput) { in.Name = strings.Repeat("名", 101) }, "name", "campaigns.error_too_long"},
		{"no source", func(in *models.CampaignInput) { in.SourceChannelID = 0 }, "source", "campaigns.error_choose_source"},
		{"foreign source", func(in *models.CampaignInput) { in.SourceChannelID = f.otherCh.ID }, "source", "campaigns.error_channel_unknown"},
		{"foreign target", func(in *models.CampaignInput) { in.TargetChannelID = f.otherCh.ID }, "target", "campaigns.error_channel_unknown"},
		{"missing target", func(in *models.CampaignInput) { in.TargetChannelID = 99999 }, "target", "campaigns.error_channel_unknown"},
		{"facebook target", func(in *models.CampaignInput) { in.TargetChannelID = f.fb.ID }, "target", "campaigns.error_target_platform"},
		{"instagram target", func(in *models.CampaignInput) { in.SourceChannelID, in.TargetChannelID = f.line.ID, f.ig.ID }, "target", "campaigns.error_target_platform"},
		{"same channel", func(in *models.CampaignInput) { in.SourceChannelID = f.line.ID }, "target", "campaigns.error_same_channel"},
		{"LINE without LIFF", func(in *models.CampaignInput) { in.TargetChannelID = f.lineNoLiff.ID }, "target", "campaigns.error_target_liff"},
		{"title over 80 on Instagram", func(in *models.CampaignInput) { in.Title = strings.Repeat("a", 81) }, "title", "campaigns.error_too_long"},
		{"subtitle over 80 on Instagram", func(in *models.CampaignInput) { in.Text = strings.Repeat("字", 81) }, "text", "campaigns.error_too_long"},
		{"button over 20", func(in *models.CampaignInput) { in.Button = strings.Repeat("b", 21) }, "button", "campaigns.error_too_long"},
		{"missing title", func(in *models.CampaignInput) { in.Title = "" }, "title", "campaigns.error_required"},
		{"missing button", func(in *models.CampaignInput) { in.Button = "" }, "button", "campaigns.error_required"},
		{"WhatsApp body over 1024", func(in *models.CampaignInput) {
			in.SourceChannelID, in.TargetChannelID = f.wa.ID, f.line.ID
			in.Title, in.Text = "t", strings.Repeat("x", 1024)
		}, "text", "campaigns.error_wa_body"},
		{"WhatsApp message too long", func(in *models.CampaignInput) { in.TargetChannelID = f.wa.ID; in.WAMessage = strings.Repeat("m", 201) }, "wa_message", "campaigns.error_too_long"},
		{"no success message for the target", func(in *models.CampaignInput) { in.SuccessTarget = models.Action{Kind: models.ActionNone} }, "success_target", "campaigns.error_action_kind"},
		{"empty success text", func(in *models.CampaignInput) { in.SuccessTarget.Text = " " }, "success_target", "campaigns.error_required"},
		{"unknown action kind", func(in *models.CampaignInput) { in.FailureSource = models.Action{Kind: "email"} }, "failure_source", "campaigns.error_action_kind"},
		{"module that does not exist", func(in *models.CampaignInput) {
			in.SuccessSource = models.Action{Kind: models.ActionModule, ModuleID: &mod}
		}, "success_source", "campaigns.error_module_unknown"},
		{"module kind without module", func(in *models.CampaignInput) { in.FailureSource = models.Action{Kind: models.ActionModule} }, "failure_source", "campaigns.error_module_required"},
		{"another team's tag", func(in *models.CampaignInput) { in.TagsTarget = []int64{otherTag.ID} }, "tags_target", "campaigns.error_tag_unknown"},
		{"long new tag", func(in *models.CampaignInput) { in.NewTagSource = strings.Repeat("t", 51) }, "tags_source", "campaigns.error_tag_too_long"},
		{"token lifetime 0", func(in *models.CampaignInput) { in.TokenTTLDays = 0 }, "token_ttl", "campaigns.error_token_ttl"},
		{"token lifetime 31", func(in *models.CampaignInput) { in.TokenTTLDays = 31 }, "token_ttl", "campaigns.error_token_ttl"},
		{"unknown status", func(in *models.CampaignInput) { in.Status = "paused" }, "status", "campaigns.error_status"},
		{"foreign image", func(in *models.CampaignInput) { in.MediaID = 123456 }, "image", "campaigns.error_image_unknown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := f.input()
			tc.edit(&in)
			_, err := f.svc.Create(ctx, f.user, in)
			var p models.FieldProblems
			if !errors.As(err, &p) {
				t.Fatalf("got %v, want field problems", err)
			}
			if p[tc.field].Key != tc.key {
				t.Fatalf("problems %v, want %s on %s", p, tc.key, tc.field)
			}
		})
	}
	if n, _ := f.st.CountTeamCampaigns(ctx, f.team.ID); n != 0 {
		t.Fatalf("bad input wrote %d campaigns", n)
	}
	if tags, _ := f.svc.Tags(ctx, f.team.ID); len(tags) != 0 {
		t.Fatalf("bad input created tags %v", tags)
	}
}

func TestDisconnectedChannelIsRefusedAndBrokenOneWarns(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.wa.Status = models.ChannelDisconnected
	if err := f.st.SaveChannel(ctx, f.wa); err != nil {
		t.Fatal(err)
	}
	in := f.input()
	in.TargetChannelID = f.wa.ID
	_, err := f.svc.Create(ctx, f.user, in)
	var p models.FieldProblems
	if !errors.As(err, &p) || p["target"].Key != "campaigns.error_channel_disconnected" {
		t.Fatalf("disconnected target: %v", err)
	}
	f.ig.Status = models.ChannelInvalid
	if err := f.st.SaveChannel(ctx, f.ig); err != nil {
		t.Fatal(err)
	}
	in = f.input()
	problems, warnings, _, err := f.svc.Check(ctx, f.team.ID, &in)
	if err != nil || len(problems) != 0 || len(warnings) != 1 || warnings[0].Key != "campaigns.warn_channel_broken" {
		t.Fatalf("broken source: %v %v %v", problems, warnings, err)
	}
}

func TestImagesRulesFollowTheSourcePlatform(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	upload := func(name string) *models.Media {
		b, err := os.ReadFile("../media/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.svc.Upload(ctx, f.user, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tall, small := upload("tall.png"), upload("small.png")
	in := f.input()
	in.SourceChannelID, in.TargetChannelID, in.MediaID = f.line.ID, f.wa.ID, tall.ID
	_, err := f.svc.Create(ctx, f.user, in)
	var p models.FieldProblems
	if !errors.As(err, &p) || p["image"].Key != "campaigns.error_image_line_ratio" {
		t.Fatalf("tall image on a LINE source: %v", err)
	}
	in.SourceChannelID, in.TargetChannelID = f.ig.ID, f.line.ID
	if _, err := f.svc.Create(ctx, f.user, in); err != nil {
		t.Fatalf("tall image on Instagram (cropped) must pass: %v", err)
	}
	in.MediaID = small.ID
	_, warnings, _, _ := f.svc.Check(ctx, f.team.ID, &in)
	if len(warnings) != 1 || warnings[0].Key != "campaigns.warn_image_narrow" {
		t.Fatalf("narrow image warnings %v", warnings)
	}
	// Served over http, the image cannot reach the platforms: said as well.
	plain := omnilink.New(f.st, nil, "http://localhost:8080", nil)
	if _, warnings, _, _ := plain.Check(ctx, f.team.ID, &in); len(warnings) != 2 || warnings[1].Key != "campaigns.warn_image_http" {
		t.Fatalf("image over http warnings %v", warnings)
	}
	// Another team cannot use this team's upload.
	other := f.input()
	other.SourceChannelID, other.TargetChannelID, other.MediaID = f.otherCh.ID, f.otherCh.ID, small.ID
	problems, _, _, _ := f.svc.Check(ctx, f.other.ID, &other)
	if problems["image"].Key != "campaigns.error_image_unknown" {
		t.Fatalf("foreign image: %v", problems)
	}
	// A bad file is a field problem, and nothing is stored.
	before := f.count(t, "media")
	if _, err := f.svc.Upload(ctx, f.user, strings.NewReader("not an image")); !errors.As(err, &p) || p["image"].Key != "campaigns.error_image_format" {
		t.Fatalf("bad upload: %v", err)
	}
	if f.count(t, "media") != before {
		t.Fatal("a refused upload was stored")
	}
}

func TestUpdateDetectsAConcurrentEdit(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	c, err := f.svc.Create(ctx, f.user, f.input())
	if err != nil {
		t.Fatal(err)
	}
	second := &models.User{TeamID: f.team.ID, Email: "b@t.test", Name: "Second", PasswordHash: "x", Role: models.RoleMarketer}
	if err := f.st.CreateUser(ctx, second); err != nil {
		t.Fatal(err)
	}
	a, b := f.input(), f.input()
	a.Version, b.Version = 1, 1
	a.Title = "第一位的標題"
	b.Button = "第二位的按鈕"
	if _, err := f.svc.Update(ctx, second, c.ID, a); err != nil {
		t.Fatal(err)
	}
	// A busy campaign logs activity between the edit and the stale save; the edit still shows.
	for range 60 {
		if err := f.st.AddAudit(ctx, &models.AuditEntry{TeamID: f.team.ID, Action: "campaign.activity", Target: fmt.Sprintf("campaign:%d", c.ID),
			Detail: models.JSONMap{"what": "success_source", "outcome": "skipped_window"}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = f.svc.Update(ctx, f.user, c.ID, b)
	var se *omnilink.StaleError
	if !errors.As(err, &se) || !errors.Is(err, store.ErrStale) {
		t.Fatalf("second save: %v", err)
	}
	if se.Current.Card.Title != "第一位的標題" || se.Current.Version != 2 || len(se.Changes) != 1 || se.Changes[0].ActorName != "Second" {
		t.Fatalf("stale error %+v", se)
	}
	if ch, _ := se.Changes[0].Detail["changes"].(map[string]any); ch["title"] == nil {
		t.Fatalf("the change does not name the title: %v", se.Changes[0].Detail)
	}
	got, _ := f.svc.Campaign(ctx, f.team.ID, c.ID)
	if got.Card.Button != "立即加入" {
		t.Fatal("the stale save was written")
	}
	// Saved again on the current version, it goes through.
	b.Version = 2
	if _, err := f.svc.Update(ctx, f.user, c.ID, b); err != nil {
		t.Fatal(err)
	}
	// Another team cannot update it.
	if _, err := f.svc.Update(ctx, f.otherUser, c.ID, b); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other team's update: %v", err)
	}
}

func TestDuplicateToggleDelete(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	c, err := f.svc.Create(ctx, f.user, f.input())
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.svc.Duplicate(ctx, f.user, c.ID, "IG → LINE（副本）")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == c.ID || d.Status != models.CampaignDisabled || d.Card.Title != c.Card.Title || d.TagsTarget[0] != c.TagsTarget[0] {
		t.Fatalf("duplicate %+v", d)
	}
	if err := f.svc.SetStatus(ctx, f.user, c.ID, models.CampaignDisabled); err != nil {
		t.Fatal(err)
	}
	got, _ := f.svc.Campaign(ctx, f.team.ID, c.ID)
	if got.Status != models.CampaignDisabled || got.Version != 2 {
		t.Fatalf("after disable %+v", got)
	}
	for _, err := range []error{
		f.svc.SetStatus(ctx, f.otherUser, c.ID, models.CampaignEnabled),
		f.svc.Delete(ctx, f.otherUser, c.ID),
		func() error { _, err := f.svc.Duplicate(ctx, f.otherUser, c.ID, "x"); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another team acted on the campaign: %v", err)
		}
	}
	if err := f.svc.Delete(ctx, f.user, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Campaign(ctx, f.team.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted campaign still loads: %v", err)
	}
	if f.count(t, "campaigns") != 2 {
		t.Fatal("delete was not soft")
	}
	rows, total, _ := f.svc.List(ctx, f.team.ID, models.CampaignFilter{})
	if len(rows) != 1 || total != 1 || rows[0].ID != d.ID || rows[0].SourceName != f.ig.DisplayName || rows[0].CreatorName != "Bear" {
		t.Fatalf("list after delete %+v", rows)
	}
	if rows, _, _ := f.svc.List(ctx, f.team.ID, models.CampaignFilter{Query: "副本", Status: models.CampaignEnabled}); len(rows) != 0 {
		t.Fatal("status filter ignored")
	}
	if rows, _, _ := f.svc.List(ctx, f.team.ID, models.CampaignFilter{Query: "%"}); len(rows) != 0 {
		t.Fatal("search treats % as a wildcard")
	}
	if rows, _, _ := f.svc.List(ctx, f.other.ID, models.CampaignFilter{}); len(rows) != 0 {
		t.Fatal("another team sees the campaigns")
	}
}

// listedModules stands in for the bot modules, which do not have a table yet: a fixed list
// answered through the same seam the real directory will use.
type listedModules []models.ModuleRef

func (l listedModules) TeamModules(_ context.Context, _ int64, p models.Platform) ([]models.ModuleRef, error) {
	var out []models.ModuleRef
	for _, m := range l {
		if m.Platform == p {
			out = append(out, m)
		}
	}
	return out, nil
}

func (l listedModules) TeamModulePlatforms(_ context.Context, _ int64, ids []int64) (map[int64]models.Platform, error) {
	out := map[int64]models.Platform{}
	for _, m := range l {
		for _, id := range ids {
			if m.ID == id {
				out[id] = m.Platform
			}
		}
	}
	return out, nil
}

func TestModulesMustMatchTheirChannelsPlatform(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	svc := omnilink.New(f.st, listedModules{{ID: 1, Name: "IG 歡迎", Platform: models.Instagram}, {ID: 2, Name: "LINE 歡迎", Platform: models.LINE}}, "https://omnilink.test", nil)
	if mods, _ := svc.Modules(ctx, f.team.ID, models.LINE); len(mods) != 1 || mods[0].ID != 2 {
		t.Fatalf("LINE modules %v", mods)
	}
	ig, line := int64(1), int64(2)
	in := f.input()
	in.SuccessSource = models.Action{Kind: models.ActionModule, ModuleID: &line} // source is Instagram
	_, err := svc.Create(ctx, f.user, in)
	var p models.FieldProblems
	if !errors.As(err, &p) || p["success_source"].Key != "campaigns.error_module_platform" {
		t.Fatalf("wrong-platform module: %v", err)
	}
	in.SuccessSource = models.Action{Kind: models.ActionModule, ModuleID: &ig}
	in.SuccessTarget = models.Action{Kind: models.ActionModule, ModuleID: &line}
	c, err := svc.Create(ctx, f.user, in)
	if err != nil {
		t.Fatal(err)
	}
	if *c.SuccessSource.ModuleID != 1 || *c.SuccessTarget.ModuleID != 2 || c.SuccessTarget.Text != "" {
		t.Fatalf("stored actions %+v %+v", c.SuccessSource, c.SuccessTarget)
	}
}
