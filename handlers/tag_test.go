package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

type tagApp struct {
	*testutil.TestApp
	team, other *models.Team
	mkt         *testutil.Client
	admin       *models.User
	line        *models.Channel
	ming        int64 // 王小明's LINE contact
	otherMing   int64 // a contact of the other team
}

func newTagApp(t *testing.T) *tagApp {
	t.Helper()
	a := testutil.NewIdleApp(t)
	ta := &tagApp{TestApp: a, team: a.Team("小熊烘焙坊 Bear Bakery"), other: a.Team("Other")}
	admin := a.User(ta.team.ID, models.RoleAdmin, "owner@bear.test")
	ta.admin = admin
	if err := seed.SandboxChannels(context.Background(), a.Store, a.Channels, a.Sandbox, admin.ID); err != nil {
		t.Fatal(err)
	}
	a.User(ta.team.ID, models.RoleMarketer, "mkt@bear.test")
	ta.mkt = a.Client()
	ta.mkt.Login("mkt@bear.test", testutil.Password)
	ta.line = sbChannel(t, a, ta.team.ID, models.LINE)
	ta.ming = ta.contact(t, ta.team.ID, ta.line.ID, sandbox.LINEUserXiaoming)
	otherCh := a.Channel(ta.other.ID, models.LINE, "Uother0001", models.Credentials{AccessToken: "tok-other"})
	ta.otherMing = ta.contact(t, ta.other.ID, otherCh.ID, sandbox.LINEUserXiaoming)
	return ta
}

func (ta *tagApp) contact(t *testing.T, team, channel int64, ext string) int64 {
	t.Helper()
	now := time.Now()
	id, _, err := ta.Store.UpsertContact(context.Background(), store.ContactActivity{TeamID: team, ChannelID: channel, ExternalUserID: ext,
		Name: "王小明", InboundAt: &now, Friendship: models.FriendshipFriend, FriendshipAt: &now})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (ta *tagApp) drain(t *testing.T) {
	t.Helper()
	if _, err := ta.Outbox.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (ta *tagApp) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := ta.SQL().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var locationID = regexp.MustCompile(`/(\d+)$`)

// optionValue finds the value of the <option> whose label contains label in a served page.
func optionValue(t *testing.T, body, label string) string {
	t.Helper()
	re := regexp.MustCompile(`<option value="([^"]+)"[^>]*>([^<]*)</option>`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[2], label) {
			return m[1]
		}
	}
	t.Fatalf("no option %q on the page", label)
	return ""
}

func TestTagRuleSwitchesTheRichMenuSeenInTheSimulator(t *testing.T) {
	ta := newTagApp(t)
	c := ta.mkt
	// Bad input first: nothing is written, the form says why and keeps what was typed.
	r := c.Submit("/tags", "/tags", url.Values{"name": {"   "}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="name-error"`) {
		t.Fatalf("empty name: %d", r.Status)
	}
	long := strings.Repeat("長", 51)
	if r = c.Submit("/tags", "/tags", url.Values{"name": {long}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, long) {
		t.Fatalf("long name: %d", r.Status)
	}
	r = c.Submit("/tags", "/tags", url.Values{"name": {"已綁定"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	tagPath := r.Location
	if r = c.Submit("/tags", "/tags", url.Values{"name": {"已綁定"}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "已經有同名的標籤") {
		t.Fatalf("duplicate: %d", r.Status)
	}
	if n := ta.count(t, `SELECT count(*) FROM tags`); n != 1 {
		t.Fatalf("%d tags", n)
	}
	// The rule's menu is picked from what LINE lists on the channel.
	page := c.Get(tagPath)
	if page.Status != 200 || !strings.Contains(page.Body, "會員選單 Members") {
		t.Fatalf("tag page %d lacks LINE's menus", page.Status)
	}
	menu := optionValue(t, page.Body, "會員選單 Members")
	if r = c.Submit(tagPath, tagPath+"/rules", url.Values{"action": {"rich_menu"}, "menu": {menu}, "priority": {"abc"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, `id="priority-error"`) || !strings.Contains(r.Body, `selected value="`+menu) && !strings.Contains(r.Body, `value="`+menu+`" selected`) {
		t.Fatalf("bad priority: %d", r.Status)
	}
	if r = c.Submit(tagPath, tagPath+"/rules", url.Values{"action": {"rich_menu"}, "menu": {menu}, "priority": {"10"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("rule: %d %s", r.Status, r.Body)
	}
	// Apply the tag to 王小明 on LINE with the picker (it names each contact's platform); the
	// simulator shows his new menu.
	page = c.Get(tagPath)
	contact := optionValue(t, page.Body, "王小明 · LINE · ")
	if r = c.Submit(tagPath, tagPath+"/apply", url.Values{"contact_id": {contact}}); r.Status != http.StatusSeeOther {
		t.Fatalf("apply: %d", r.Status)
	}
	ta.drain(t)
	sim := c.Get("/sandbox/simulator/conversation?account=" + itoa(ta.line.ID) + "&customer=" + sandbox.LINEUserXiaoming)
	if sim.Status != 200 || !strings.Contains(sim.Body, "會員選單 Members") {
		t.Fatalf("simulator after apply: %d %s", sim.Status, sim.Body)
	}
	page = c.Get(tagPath)
	if !strings.Contains(page.Body, `id="contact-`+contact+`"`) || !strings.Contains(page.Body, "成員") || !strings.Contains(page.Body, "圖文選單已套用") {
		t.Fatal("tag page does not list the contact and who applied the tag")
	}
	// Remove: back to the default menu.
	if r = c.Submit(tagPath, tagPath+"/remove", url.Values{"contact_id": {contact}}); r.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.Status)
	}
	ta.drain(t)
	sim = c.Get("/sandbox/simulator/conversation?account=" + itoa(ta.line.ID) + "&customer=" + sandbox.LINEUserXiaoming)
	if strings.Contains(sim.Body, "會員選單 Members") || !strings.Contains(sim.Body, `id="rich-menu" data-menu=""`) {
		t.Fatalf("simulator after remove: %s", sim.Body)
	}
}

func TestTagRoutesAnswer404ForAnotherTeamsIDs(t *testing.T) {
	ta := newTagApp(t)
	ctx := context.Background()
	theirTag, err := ta.Store.EnsureTeamTag(ctx, ta.other.ID, "別人的", ta.User(ta.other.ID, models.RoleAdmin, "o@other.test").ID)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := ta.Store.EnsureTeamTag(ctx, ta.team.ID, "我們的", ta.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	their := "/tags/" + itoa(theirTag.ID)
	c := ta.mkt
	if r := c.Get(their); r.Status != http.StatusNotFound {
		t.Fatalf("their tag page: %d", r.Status)
	}
	for path, form := range map[string]url.Values{
		their + "/apply":                             {"contact_id": {itoa(ta.ming)}},
		their + "/remove":                            {"contact_id": {itoa(ta.ming)}},
		their + "/rules":                             {"action": {"rich_menu"}, "menu": {itoa(ta.line.ID) + ":x"}},
		their + "/delete":                            {},
		"/tags/" + itoa(ours.ID) + "/apply":          {"contact_id": {itoa(ta.otherMing)}},
		"/tags/" + itoa(ours.ID) + "/rules":          {"action": {"journey"}, "journey_id": {"999999"}},
		"/tags/" + itoa(ours.ID) + "/rules/1/delete": {},
	} {
		if r := handMade(c, path, form); r.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, r.Status)
		}
	}
	if n := ta.count(t, `SELECT count(*) FROM contact_tags`) + ta.count(t, `SELECT count(*) FROM tag_rules`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
	if n := ta.count(t, `SELECT count(*) FROM tags WHERE id = $1`, theirTag.ID); n != 1 {
		t.Fatal("their tag was deleted")
	}
}

func TestJourneyPageShowsSkippedStepsWithWhy(t *testing.T) {
	ta := newTagApp(t)
	c := ta.mkt
	tag, err := ta.Store.EnsureTeamTag(context.Background(), ta.team.ID, "已綁定", ta.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Submit("/journeys", "/journeys", url.Values{"name": {""}, "trigger_tag_id": {""}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, `id="name-error"`) || !strings.Contains(r.Body, `id="trigger-error"`) {
		t.Fatalf("empty journey form: %d", r.Status)
	}
	r := c.Submit("/journeys", "/journeys", url.Values{"name": {"綁定後歡迎"}, "trigger_tag_id": {itoa(tag.ID)}, "enabled": {"1"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create journey: %d %s", r.Status, r.Body)
	}
	jPath := r.Location
	wa := sbChannel(t, ta.TestApp, ta.team.ID, models.WhatsApp)
	for _, form := range []url.Values{
		{"kind": {"send_text"}, "channel_id": {itoa(ta.line.ID)}, "text": {"歡迎！"}},
		{"kind": {"send_text"}, "channel_id": {itoa(wa.ID)}, "text": {"WhatsApp 見"}},
	} {
		if r := c.Submit(jPath, jPath+"/steps", form); r.Status != http.StatusSeeOther {
			t.Fatalf("step %v: %d %s", form, r.Status, r.Body)
		}
	}
	if r := c.Submit(jPath, jPath+"/steps", url.Values{"kind": {"wait"}, "wait": {"0"}, "unit": {"minutes"}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="wait-error"`) {
		t.Fatalf("zero wait: %d", r.Status)
	}
	tagPath := "/tags/" + itoa(tag.ID)
	if r := c.Submit(tagPath, tagPath+"/apply", url.Values{"contact_id": {itoa(ta.ming)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("apply: %d", r.Status)
	}
	if _, err := ta.Journeys.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := c.Get(jPath)
	if page.Status != 200 || !strings.Contains(page.Body, "已完成 1") || !strings.Contains(page.Body, "顧客在該渠道沒有聯絡人") {
		t.Fatalf("journey page: %d %s", page.Status, page.Body)
	}
	// Another team's journey is a 404.
	otherAdmin := ta.User(ta.other.ID, models.RoleAdmin, "x@other.test")
	oc := ta.Client()
	oc.Login(otherAdmin.Email, testutil.Password)
	if r := oc.Get(jPath); r.Status != http.StatusNotFound {
		t.Fatalf("their journey: %d", r.Status)
	}
	if r := handMade(oc, jPath+"/steps", url.Values{"kind": {"wait"}, "wait": {"1"}, "unit": {"minutes"}}); r.Status != http.StatusNotFound {
		t.Fatalf("their journey's steps: %d", r.Status)
	}
	_ = locationID
}
