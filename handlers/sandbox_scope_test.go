package handlers_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// credentialFields reads the values the control panel shows in one credentials block.
func credentialFields(t *testing.T, body, blockID string) url.Values {
	t.Helper()
	start := strings.Index(body, `id="`+blockID+`"`)
	if start < 0 {
		t.Fatalf("the panel shows no %s", blockID)
	}
	block := body[start:]
	block = block[:strings.Index(block, "</article>")]
	out := url.Values{}
	for _, m := range regexp.MustCompile(`data-field="([a-z_]+)">([^<]*)</code>`).FindAllStringSubmatch(block, -1) {
		out.Set(m[1], html.UnescapeString(m[2]))
	}
	return out
}

// articleOf is the markup of one panel row.
func articleOf(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	a := body[i:]
	return a[:strings.Index(a, "</article>")]
}

// TestSandboxPanelCredentialsConnectAndStayInTheirTeam copies the LINE and WhatsApp credentials
// from the control panel into the connect forms, then checks that the panel offers each
// platform its own causes and that another team sees neither the accounts nor their secrets.
func TestSandboxPanelCredentialsConnectAndStayInTheirTeam(t *testing.T) {
	a := testutil.NewApp(t)
	teamA := a.Team("Team A")
	a.User(teamA.ID, models.RoleAdmin, "admin@a.test")
	teamB := a.Team("Team B")
	a.User(teamB.ID, models.RoleAdmin, "admin@b.test")
	ca, cb := a.Client(), a.Client()
	ca.Login("admin@a.test", testutil.Password)
	cb.Login("admin@b.test", testutil.Password)

	panel := ca.Get("/sandbox")
	if panel.Status != http.StatusOK {
		t.Fatalf("panel: %d", panel.Status)
	}
	line := credentialFields(t, panel.Body, "line-credentials-"+sandbox.LINEChannelID)
	for _, f := range []string{"channel_id", "channel_secret", "access_token", "login_channel_id", "liff_id"} {
		if line.Get(f) == "" {
			t.Fatalf("the LINE credentials lack %s: %v", f, line)
		}
	}
	r := ca.Submit("/channels/line/new", "/channels/line", line)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/channels/") {
		t.Fatalf("connecting LINE with the panel's credentials: %d %q\n%s", r.Status, r.Location, r.Body)
	}
	wa := credentialFields(t, panel.Body, "whatsapp-credentials-"+sandbox.WhatsAppPhoneNumberID)
	r = ca.Submit("/channels/whatsapp/new", "/channels/whatsapp", wa)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/channels/") {
		t.Fatalf("connecting WhatsApp with the panel's credentials: %d %q\n%s", r.Status, r.Location, r.Body)
	}

	// Now team A's panel has a row per connected account, each with its own platform's causes.
	panel = ca.Get("/sandbox")
	lineRow := articleOf(panel.Body, "target-line-"+sandbox.LINEChannelID)
	waRow := articleOf(panel.Body, "target-whatsapp-"+sandbox.WhatsAppPhoneNumberID)
	if !strings.Contains(lineRow, `value="token_revoked"`) || !strings.Contains(lineRow, `value="channel_deleted"`) || strings.Contains(lineRow, `value="password_changed"`) {
		t.Errorf("LINE row causes:\n%s", lineRow)
	}
	if !strings.Contains(waRow, `value="number_disconnected"`) || !strings.Contains(waRow, `value="token_invalid"`) || strings.Contains(waRow, `value="checkpoint"`) {
		t.Errorf("WhatsApp row causes:\n%s", waRow)
	}
	if !strings.Contains(panel.Body, "已由你的團隊串接") {
		t.Errorf("the credentials do not say the team connected them")
	}
	// A cause from another platform is refused with a translated message, and nothing breaks.
	r = ca.Submit("/sandbox", "/sandbox/break", url.Values{"target": {"line:" + sandbox.LINEChannelID}, "cause": {"checkpoint"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("a Facebook cause on LINE: %d", r.Status)
	}
	if body := ca.Get("/sandbox").Body; !strings.Contains(body, "請選擇這個平台會發生的原因") || strings.Contains(articleOf(body, "target-line-"+sandbox.LINEChannelID), "badge-bad") {
		t.Errorf("a Facebook cause on LINE was not refused plainly")
	}

	// Team B sees neither the accounts nor their secrets, and cannot damage them.
	other := cb.Get("/sandbox")
	if other.Status != http.StatusOK {
		t.Fatalf("team B's panel: %d", other.Status)
	}
	for _, leak := range []string{line.Get("channel_secret"), line.Get("access_token"), wa.Get("access_token"),
		"target-line-", "target-whatsapp-", "line-credentials-", "whatsapp-credentials-"} {
		if strings.Contains(other.Body, leak) {
			t.Errorf("team B's panel shows %q", leak)
		}
	}
	for _, target := range []string{"line:" + sandbox.LINEChannelID, "whatsapp:" + sandbox.WhatsAppPhoneNumberID} {
		if r := cb.Submit("/sandbox", "/sandbox/break", url.Values{"target": {target}, "cause": {"rate_limited"}}); r.Status != http.StatusNotFound {
			t.Errorf("team B breaks %s: %d, want 404", target, r.Status)
		}
	}
	for _, ts := range a.Sandbox.Targets() {
		if (ts.Target.Kind == sandbox.TargetLINE || ts.Target.Kind == sandbox.TargetWhatsApp) && (ts.RateLimited || ts.Broken != "") {
			t.Errorf("team B's refused break still damaged %s", ts.Target)
		}
	}
}
