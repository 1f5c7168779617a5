package health_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

// A number whose status says it cannot serve is broken, with a cause that names what to do; a
// status we do not know proves nothing and leaves the verdict unknown, never healthy.
func TestWhatsAppNumberStatusDecidesTheVerdict(t *testing.T) {
	cases := []struct {
		status string
		want   models.HealthVerdict
		cause  models.HealthCause
	}{
		{"CONNECTED", models.VerdictHealthy, ""},
		{"FLAGGED", models.VerdictHealthy, ""},
		{"DISCONNECTED", models.VerdictBroken, models.CauseNumberNotConnected},
		{"PENDING", models.VerdictBroken, models.CauseNumberNotConnected},
		{"UNVERIFIED", models.VerdictBroken, models.CauseNumberNotConnected},
		{"BANNED", models.VerdictBroken, models.CauseAccountGone},
		{"MIGRATED", models.VerdictBroken, models.CauseAccountGone},
		{"RATE_LIMITED", models.VerdictUnknown, ""},
		{"UNKNOWN", models.VerdictUnknown, ""},
		{"SOMETHING_NEW", models.VerdictUnknown, ""},
	}
	for _, tc := range cases {
		t.Run(tc.status, func(t *testing.T) {
			e := newEnv(t)
			ch := e.channel(models.WhatsApp, sandbox.WhatsAppPhoneNumberID, "")
			if err := e.world.SetPhoneNumberStatus(sandbox.WhatsAppPhoneNumberID, tc.status); err != nil {
				t.Fatal(err)
			}
			r := resultFor(t, e.sweep(nil), ch)
			if r.Verdict.State != tc.want || r.Verdict.Cause != tc.cause {
				t.Fatalf("verdict = %s/%s (%s), want %s/%s", r.Verdict.State, r.Verdict.Cause, r.Verdict.Detail, tc.want, tc.cause)
			}
			if !strings.Contains(r.Verdict.Detail, tc.status) && tc.want != models.VerdictHealthy {
				t.Fatalf("detail %q does not name the status", r.Verdict.Detail)
			}
		})
	}
}

// An answer of the wrong shape (a 200 whose body is not what the call documents, or an HTML
// error page from a proxy) says nothing about the channel: the verdict is unknown, no episode
// opens and nobody is emailed.
func TestUnexpectedAnswersLeaveTheVerdictUnknown(t *testing.T) {
	html502 := func(rw http.ResponseWriter) {
		rw.Header().Set("Content-Type", "text/html")
		rw.WriteHeader(http.StatusBadGateway)
		_, _ = rw.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	}
	json200 := func(body string) func(http.ResponseWriter) {
		return func(rw http.ResponseWriter) {
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write([]byte(body))
		}
	}
	cases := []struct {
		name     string
		platform models.Platform
		path     string // the call answered in the platform's place
		answer   func(http.ResponseWriter)
	}{
		{"debug_token without is_valid", models.Facebook, "/debug_token", json200(`{"data":{}}`)},
		{"debug_token as a list", models.Facebook, "/debug_token", json200(`{"data":[]}`)},
		{"debug_token HTML 502", models.Instagram, "/debug_token", html502},
		{"page read of another shape", models.Facebook, "/" + sandbox.BearBakeryPageID, json200(`{}`)},
		{"instagram read of another shape", models.Instagram, "/" + sandbox.BearBakeryIGID, json200(`{"id":17}`)},
		{"subscribed_apps HTML 502", models.Facebook, "/subscribed_apps", html502},
		{"whatsapp number without status", models.WhatsApp, "/" + sandbox.WhatsAppPhoneNumberID, json200(`{"id":"` + sandbox.WhatsAppPhoneNumberID + `"}`)},
		{"line bot info of another shape", models.LINE, "/v2/bot/info", json200(`{"displayName":"x"}`)},
		{"line bot info HTML 502", models.LINE, "/v2/bot/info", html502},
	}
	accounts := map[models.Platform]string{
		models.Instagram: sandbox.BearBakeryIGID, models.Facebook: sandbox.BearBakeryPageID,
		models.LINE: sandbox.LINEChannelID, models.WhatsApp: sandbox.WhatsAppPhoneNumberID,
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ch := e.channel(tc.platform, accounts[tc.platform], "mei")
			e.gateMu.Lock()
			e.answer = func(rw http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, tc.path) {
					return false
				}
				tc.answer(rw)
				return true
			}
			e.gateMu.Unlock()
			r := resultFor(t, e.sweep(nil), ch)
			if r.Verdict.State != models.VerdictUnknown {
				t.Fatalf("verdict = %s/%s (%s), want unknown", r.Verdict.State, r.Verdict.Cause, r.Verdict.Detail)
			}
			if r.Transition.Opened || len(e.episodes(ch)) != 0 || len(e.mails()) != 0 {
				t.Fatalf("an unexpected answer opened an episode or sent mail: %+v", r.Transition)
			}
			if got := e.reload(ch); got.Status != models.ChannelActive {
				t.Fatalf("channel status %s", got.Status)
			}
		})
	}
}

// The alert for a broken Facebook or Instagram channel names the Facebook user to reauthorise
// with, since reauthorising as anyone else fails the one-user rule.
func TestBrokenAlertNamesTheFacebookUserToUse(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	auth := &models.MetaAuthorization{TeamID: e.team.ID, FBUserID: sandbox.MeiUserID, FBUserName: "林美玲", AccessToken: "sealed"}
	if err := e.app.Store.UpsertMetaAuthorization(context.Background(), auth); err != nil {
		t.Fatal(err)
	}
	ch.AuthorizedBy = &auth.ID
	if err := e.app.Store.SaveChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	if r := resultFor(t, e.sweep(nil), ch); r.Verdict.State != models.VerdictBroken {
		t.Fatalf("verdict %+v", r.Verdict)
	}
	msgs := e.mails()
	if len(msgs) != 1 {
		t.Fatalf("%d emails", len(msgs))
	}
	for _, body := range []string{msgs[0].Text, msgs[0].HTML} {
		if !strings.Contains(body, "請使用 Facebook 用戶「林美玲」重新授權") {
			t.Fatalf("the alert does not name the Facebook user to use:\n%s", body)
		}
	}
}

// LINE answers "access token expired" for every token it no longer accepts, so a revoked
// long-lived token must not be reported as expired: expiry is decided by the expiry LINE
// reported for the token, and each cause gets LINE's own fix.
func TestLINERevokedAndExpiredTokensAreToldApart(t *testing.T) {
	t.Run("revoked long-lived token", func(t *testing.T) {
		e := newEnv(t)
		ch := e.channel(models.LINE, sandbox.LINEChannelID, "")
		e.sweep(nil)
		e.breakToken("line:"+sandbox.LINEChannelID, sandbox.CauseTokenRevoked)
		e.clock.Advance(time.Hour)
		r := resultFor(t, e.sweep(nil), ch)
		if r.Verdict.State != models.VerdictBroken || r.Verdict.Cause != models.CauseTokenInvalid {
			t.Fatalf("verdict = %s/%s (%s), want broken/token_invalid", r.Verdict.State, r.Verdict.Cause, r.Verdict.Detail)
		}
		msgs := e.mails()
		if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "長期權杖不會過期") || strings.Contains(msgs[0].Text, "已過期") {
			t.Fatalf("the email does not explain a revoked LINE token:\n%v", msgs)
		}
	})
	t.Run("expired short-lived token", func(t *testing.T) {
		e := newEnv(t)
		acct, _ := e.world.LINEAccount(sandbox.LINEChannelID)
		tok, err := e.world.IssueLINEChannelToken(sandbox.LINEChannelID, 30*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		svc := channels.New(channels.Deps{Store: e.app.Store, Box: e.app.Box, Line: line.New(line.Config{APIURL: e.api.URL + "/line"}), Now: e.clock.Now})
		ch, err := svc.ConnectLine(context.Background(), e.admin, channels.LineInput{
			ChannelID: acct.ChannelID, ChannelSecret: acct.ChannelSecret, AccessToken: tok}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ch.TokenExpiresAt == nil {
			t.Fatal("connecting did not keep the token's expiry")
		}
		e.clock.Advance(31 * 24 * time.Hour)
		r := resultFor(t, e.sweep(nil), ch)
		if r.Verdict.State != models.VerdictBroken || r.Verdict.Cause != models.CauseTokenExpired {
			t.Fatalf("verdict = %s/%s (%s), want broken/token_expired", r.Verdict.State, r.Verdict.Cause, r.Verdict.Detail)
		}
		msgs := e.mails()
		if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "有期限的 Channel access token") {
			t.Fatalf("the email does not explain an expired LINE token:\n%v", msgs)
		}
	})
}
