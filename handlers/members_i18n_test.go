package handlers_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

var (
	tags = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]+>`)
	han  = regexp.MustCompile(`\p{Han}`)
)

// visibleText is what a page shows, without markup and the language switch's own names.
func visibleText(body string) string {
	text := html.UnescapeString(tags.ReplaceAllString(body, " "))
	return strings.ReplaceAll(text, "繁體中文", "")
}

// Every member page, public or console, shows no raw message key in either language, and the
// English pages carry no Chinese left untranslated.
func TestMemberPagesTranslated(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("Bear")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	admin := a.Client()
	admin.Login("boss@t.test", testutil.Password)
	link := invite(t, a, admin, "amy@t.test", "Amy", "agent", "en", 0)
	amy, _ := a.Store.UserByEmailSystem(context.Background(), "amy@t.test")
	keys := a.I18n.Keys("zh-TW")

	for _, lang := range []string{"zh-TW", "en"} {
		console, public := a.Client(), a.Client()
		console.Login("boss@t.test", testutil.Password)
		for c, page := range map[*testutil.Client]string{console: "/", public: "/login"} {
			if r := c.Submit(page, "/settings/language", url.Values{"locale": {lang}, "next": {"/"}}); r.Status != http.StatusSeeOther {
				t.Fatalf("switch to %s: %d", lang, r.Status)
			}
		}
		pages := map[string]*testutil.Response{
			"members":      console.Get("/users"),
			"invite":       console.Get("/users/invite"),
			"edit":         console.Get("/users/" + itoa(amy.ID) + "/edit"),
			"alerts":       console.Get("/settings/alerts"),
			"invite link":  public.Get(link),
			"bad link":     public.Get("/password/reset/AAAAAAAAAAAAAAAAAAAAAA"),
			"forgot":       public.Get("/password/forgot"),
			"forgot sent":  public.Submit("/password/forgot", "/password/forgot", url.Values{"email": {"x@t.test"}}),
			"bad password": public.Submit(link, link, url.Values{"password": {"x"}, "password_confirm": {"y"}}),
		}
		for name, r := range pages {
			if r.Status >= 500 {
				t.Errorf("%s %s: %d", lang, name, r.Status)
				continue
			}
			text := visibleText(r.Body)
			for _, k := range keys {
				if strings.Contains(text, k) {
					t.Errorf("%s %s shows the raw key %q", lang, name, k)
				}
			}
			if lang == "en" && han.MatchString(text) {
				t.Errorf("en %s has untranslated text: %q", name, han.FindAllString(text, 5))
			}
			if lang == "zh-TW" && !han.MatchString(text) {
				t.Errorf("zh-TW %s shows no Chinese", name)
			}
		}
	}
}
