package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Every cause the sandbox's control panel can inflict is recognised, opens one episode with
// that cause, and sends one email naming the team, the channel, the cause, the fix and the
// reauthorise link; later sweeps send nothing more.
func TestEachBreakCauseOpensOneEpisodeAndOneEmail(t *testing.T) {
	cases := []struct {
		name     string
		platform models.Platform
		target   string
		cause    sandbox.Cause
		want     models.HealthCause
	}{
		{"instagram password changed", models.Instagram, "fbuser:mei", sandbox.CausePasswordChanged, models.CausePasswordChanged},
		{"instagram checkpoint", models.Instagram, "page:" + sandbox.BearBakeryIGID, sandbox.CauseCheckpoint, models.CauseCheckpoint},
		{"instagram expired", models.Instagram, "page:" + sandbox.BearBakeryIGID, sandbox.CauseExpired, models.CauseTokenExpired},
		{"instagram app removed", models.Instagram, "fbuser:mei", sandbox.CauseAppRemoved, models.CauseAppRemoved},
		{"facebook permission removed", models.Facebook, "page:" + sandbox.BearBakeryPageID, sandbox.CausePermissionRemoved, models.CausePermissionRemoved},
		{"line token revoked", models.LINE, "line:" + sandbox.LINEChannelID, sandbox.CauseTokenRevoked, models.CauseTokenInvalid},
		{"whatsapp token expired", models.WhatsApp, "whatsapp:" + sandbox.WhatsAppPhoneNumberID, sandbox.CauseExpired, models.CauseTokenExpired},
		{"whatsapp permission removed", models.WhatsApp, "whatsapp:" + sandbox.WhatsAppPhoneNumberID, sandbox.CausePermissionRemoved, models.CausePermissionRemoved},
	}
	accounts := map[models.Platform]string{
		models.Instagram: sandbox.BearBakeryIGID, models.Facebook: sandbox.BearBakeryPageID,
		models.LINE: sandbox.LINEChannelID, models.WhatsApp: sandbox.WhatsAppPhoneNumberID,
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ch := e.channel(tc.platform, accounts[tc.platform], "mei")
			if r := resultFor(t, e.sweep(nil), ch); r.Verdict.State != models.VerdictHealthy {
				t.Fatalf("before the break: %+v", r.Verdict)
			}
			e.breakToken(tc.target, tc.cause)

			r := resultFor(t, e.sweep(nil), ch)
			if r.Verdict.State != models.VerdictBroken || r.Verdict.Cause != tc.want {
				t.Fatalf("verdict = %s/%s (%s), want broken/%s", r.Verdict.State, r.Verdict.Cause, r.Verdict.Detail, tc.want)
			}
			if !r.Transition.Opened || !r.Transition.AlertQueued {
				t.Fatalf("transition = %+v, want an opened episode with its alert", r.Transition)
			}
			got := e.reload(ch)
			if got.Status != models.ChannelInvalid || got.StatusCause != string(tc.want) || got.FailingSince == nil || got.AlertedAt != nil {
				t.Fatalf("channel = %s/%s since %v alerted %v (alerted only once delivered)", got.Status, got.StatusCause, got.FailingSince, got.AlertedAt)
			}
			if err := channels.Guard(got); !errors.Is(err, channels.ErrChannelBroken) {
				t.Fatalf("Guard = %v, want ErrChannelBroken", err)
			}

			msgs := e.mails()
			if len(msgs) != 1 {
				t.Fatalf("%d emails, want 1", len(msgs))
			}
			if got := e.reload(ch); got.AlertedAt == nil || e.episodes(ch)[0].AlertedAt == nil {
				t.Fatal("the delivered alert did not mark the channel and its episode alerted")
			}
			m := msgs[0]
			reauth := fmt.Sprintf("%s/channels/%d/reauthorize", e.app.URL, ch.ID)
			for _, want := range []string{e.team.Name, ch.DisplayName, reauth, "如何修復"} {
				if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("email lacks %q:\n%s", want, m.Text)
				}
			}
			if !strings.Contains(m.Subject, ch.DisplayName) || m.To[0] != e.admin.Email {
				t.Errorf("subject %q to %v", m.Subject, m.To)
			}

			for range 3 {
				e.clock.Advance(time.Hour)
				if r := resultFor(t, e.sweep(nil), ch); r.Verdict.State != models.VerdictBroken || r.Transition.Opened || r.Transition.AlertQueued {
					t.Fatalf("later sweep: %+v %+v", r.Verdict, r.Transition)
				}
			}
			if n := len(e.mails()); n != 1 {
				t.Fatalf("%d emails after more sweeps, want still 1", n)
			}
			if eps := e.episodes(ch); len(eps) != 1 || !eps[0].Open() || eps[0].Cause != tc.want {
				t.Fatalf("episodes = %+v", eps)
			}
		})
	}
}

// Meta cancels a Page's webhook subscription after an hour of failed deliveries; the monitor
// subscribes again by itself, records it, and does not bother anyone.
func TestUnsubscribedWebhookIsRestoredWithoutAlert(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	if err := e.world.UnsubscribeApp(sandbox.BearBakeryPageID); err != nil {
		t.Fatal(err)
	}
	r := resultFor(t, e.sweep(nil), ch)
	if r.Verdict.State != models.VerdictHealthy || !r.Verdict.Resubscribed {
		t.Fatalf("verdict = %+v", r.Verdict)
	}
	if fields, ok := e.world.Subscription(sandbox.BearBakeryPageID); !ok || len(fields) == 0 {
		t.Fatalf("subscription not restored: %v %v", fields, ok)
	}
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d emails, want none", n)
	}
	rep, err := e.mon.Report(context.Background(), e.team.ID, ch.ID)
	if err != nil || rep.Health.WebhookResubscribedAt == nil {
		t.Fatalf("report: %+v %v", rep, err)
	}
}

// Rate limits, 5xx answers and timeouts never open an episode: a single failure is retried
// inside the check, a lasting one leaves the verdict unknown and brings the next check forward.
func TestTransientTroubleNeverOpensAnEpisode(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *env)
		want  models.HealthVerdict
	}{
		{"one 500 is retried", func(e *env) {
			_ = e.world.SetTransientFailure(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryPageID}, 1, sandbox.FailUnknown)
		}, models.VerdictHealthy},
		{"lasting 500s", func(e *env) {
			_ = e.world.SetTransientFailure(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryPageID}, 100, sandbox.FailUnexpected)
		}, models.VerdictUnknown},
		{"timeouts", func(e *env) {
			_ = e.world.SetTransientFailure(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryPageID}, 100, sandbox.FailTimeout)
		}, models.VerdictUnknown},
		{"page rate limited", func(e *env) { e.breakToken("page:"+sandbox.BearBakeryPageID, sandbox.CauseRateLimited) }, models.VerdictUnknown},
		{"app rate limited", func(e *env) { e.breakToken("app", sandbox.CauseRateLimited) }, models.VerdictUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *health.Options) {
				if tc.name == "timeouts" {
					o.CallTimeout = 150 * time.Millisecond // the sandbox holds these calls until we give up
				}
			})
			ch := e.instagram()
			tc.setup(e)
			for i := 1; i <= 3; i++ {
				r := resultFor(t, e.sweep(nil), ch)
				if r.Verdict.State != tc.want || r.Transition.Opened {
					t.Fatalf("sweep %d: %+v %+v, want %s and no episode", i, r.Verdict, r.Transition, tc.want)
				}
				e.clock.Advance(time.Hour)
			}
			got := e.reload(ch)
			if got.Status != models.ChannelActive || len(e.episodes(ch)) != 0 || len(e.emails()) != 0 {
				t.Fatalf("status %s, %d episodes, %d emails", got.Status, len(e.episodes(ch)), len(e.emails()))
			}
			if tc.want == models.VerdictUnknown {
				h, _ := e.app.Store.ChannelHealthForSweep(context.Background(), ch.ID)
				if h.TransientFailures != 3 {
					t.Fatalf("transient failures = %d, want 3", h.TransientFailures)
				}
				// Undecided channels come back sooner than the hourly check.
				if d := got.NextCheckAt.Sub(*got.LastCheckedAt); d >= time.Hour {
					t.Fatalf("next check %s after an undecided one", d)
				}
			}
		})
	}
}

// The episode closes when the channel works again, the channel is active, and the people who got
// the alert hear that it recovered; the console banner goes away.
func TestRecoveryClosesTheEpisode(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	e.sweep(nil)
	if n := len(e.mails()); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
	e.repair("fbuser:mei")
	e.clock.Advance(time.Hour)
	r := resultFor(t, e.sweep(nil), ch)
	if r.Verdict.State != models.VerdictHealthy || !r.Transition.Closed || !r.Transition.RecoveredQueued {
		t.Fatalf("recovery sweep: %+v %+v", r.Verdict, r.Transition)
	}
	got := e.reload(ch)
	if got.Status != models.ChannelActive || got.StatusCause != "" || got.FailingSince != nil {
		t.Fatalf("channel after recovery: %+v", got)
	}
	eps := e.episodes(ch)
	if len(eps) != 1 || eps[0].Open() || eps[0].ClosedBy != models.ClosedByCheck {
		t.Fatalf("episodes = %+v", eps)
	}
	msgs := e.mails()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Subject, "恢復正常") {
		t.Fatalf("emails: %d, last subject %q", len(msgs), msgs[len(msgs)-1].Subject)
	}
	// A new failure is a new episode with its own single email.
	e.breakToken("fbuser:mei", sandbox.CauseCheckpoint)
	e.clock.Advance(time.Hour)
	e.sweep(nil)
	e.sweep(nil)
	if eps := e.episodes(ch); len(eps) != 2 || eps[0].Cause != models.CauseCheckpoint {
		t.Fatalf("episodes = %+v", eps)
	}
	if n := len(e.mails()); n != 3 {
		t.Fatalf("%d emails, want 3 (alert, recovered, alert)", n)
	}
}

// Reauthorising (the channels service's ChannelRepaired event) closes the episode at once.
func TestRepairEventClosesTheEpisode(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	e.breakToken("fbuser:mei", sandbox.CauseExpired)
	e.sweep(nil)
	e.repair("fbuser:mei")
	e.mon.ChannelRepaired(context.Background(), ch)
	got := e.reload(ch)
	if got.Status != models.ChannelActive || got.NextCheckAt == nil || got.NextCheckAt.After(e.clock.Now()) {
		t.Fatalf("after repair: status %s next check %v", got.Status, got.NextCheckAt)
	}
	if eps := e.episodes(ch); len(eps) != 1 || eps[0].ClosedBy != models.ClosedByRepair {
		t.Fatalf("episodes = %+v", eps)
	}
	if r := resultFor(t, e.sweep(nil), ch); r.Verdict.State != models.VerdictHealthy || r.Transition.Closed {
		t.Fatalf("confirming sweep: %+v %+v", r.Verdict, r.Transition)
	}
	// The alert queued before the repair goes out after it, so the "works again" email follows it.
	if n := len(e.mails()); n != 1 {
		t.Fatalf("%d emails, want the alert", n)
	}
	e.sweep(nil)
	if n := len(e.mails()); n != 2 {
		t.Fatalf("%d emails, want alert + recovered", n)
	}
}

// A restarted process (a new monitor on a new connection pool) continues the same episode and
// sends nothing new.
func TestRestartMidEpisodeSendsNoSecondEmail(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	e.sweep(nil)
	if n := len(e.mails()); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
	st, err := store.Open(e.app.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	restarted := e.monitor(st)
	for range 3 {
		e.clock.Advance(time.Hour)
		r := resultFor(t, e.sweep(restarted), ch)
		if r.Verdict.State != models.VerdictBroken || r.Transition.Opened || r.Transition.AlertQueued {
			t.Fatalf("after restart: %+v %+v", r.Verdict, r.Transition)
		}
	}
	if n := len(e.mails()); n != 1 {
		t.Fatalf("%d emails after restart, want 1", n)
	}
}

// Two monitors on one database (two replicas): only one sweeps at a time, and a failure both
// learn about concurrently still makes one episode and one email.
func TestTwoMonitorsOneSweepOneEmail(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	e.channel(models.Facebook, sandbox.KaiCoffeePageID, "kai")
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	st, err := store.Open(e.app.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other := e.monitor(st)

	// Hold the first sweep inside its first platform call, so it provably holds the lock.
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.setGate(func(*http.Request) {
		once.Do(func() {
			close(inside)
			<-release
		})
	})
	var first health.SweepReport
	var firstErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		first, firstErr = e.mon.Sweep(context.Background(), health.SweepOptions{Force: true})
	}()
	<-inside
	if _, err := other.Sweep(context.Background(), health.SweepOptions{Force: true}); !errors.Is(err, health.ErrSweepBusy) {
		t.Fatalf("second monitor's sweep = %v, want ErrSweepBusy", err)
	}
	close(release)
	<-done
	if firstErr != nil || first.Checked != 2 || first.Opened != 1 {
		t.Fatalf("first sweep: %+v %v", first, firstErr)
	}
	e.setGate(nil)

	// Both replicas run their loops' sweeps at once, repeatedly: still one episode, one email.
	e.clock.Advance(time.Hour)
	var wg sync.WaitGroup
	for _, m := range []*health.Monitor{e.mon, other, e.mon, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := m.Sweep(context.Background(), health.SweepOptions{Force: true, Wait: true})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	// And both learn of the failure from sends at the same moment.
	sendErr := &meta.GraphError{HTTPStatus: 400, Code: 190, Subcode: 460, Message: "password changed"}
	for _, m := range []*health.Monitor{e.mon, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.ReportFailure(context.Background(), ch, sendErr); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if eps := e.episodes(ch); len(eps) != 1 {
		t.Fatalf("%d episodes, want 1", len(eps))
	}
	if n := len(e.mails()); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
}

// With the SMTP server down the alert waits in the outbox, retried with backoff; once the server
// is back it is delivered once, late, and never again.
func TestSMTPOutageDelaysButNeverLosesOrRepeatsTheAlert(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	e.smtp.Stop()
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	e.sweep(nil)
	for i := range 3 {
		st := e.deliver()
		if i == 0 && st.Retrying != 1 {
			t.Fatalf("first delivery: %+v, want one retry scheduled", st)
		}
		e.clock.Advance(10 * time.Second) // not yet due again
	}
	items := e.emails()
	if len(items) != 1 || items[0].LastError == "" || items[0].DoneAt != nil || items[0].Attempts != 1 {
		t.Fatalf("outbox while SMTP is down: %+v", items)
	}
	rep, _ := e.mon.Report(context.Background(), e.team.ID, ch.ID)
	if it := rep.Alerts[rep.Episodes[0].AlertKey]; it.State() != models.OutboxRetrying {
		t.Fatalf("alert state shown = %s", it.State())
	}
	e.sweep(nil) // more sweeps during the outage queue nothing new
	if err := e.smtp.Restart(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if st := e.deliver(); st.Delivered != 1 {
		t.Fatalf("after SMTP is back: %+v", st)
	}
	e.clock.Advance(time.Hour)
	e.sweep(nil)
	if msgs := e.mails(); len(msgs) != 1 || msgs[0].Headers.Get("X-Omnilink-Idempotency") == "" {
		t.Fatalf("%d emails after the outage, want exactly 1", len(msgs))
	}
}

// A permanent SMTP refusal stops that email's retries, keeps its error where the team sees it,
// and leaves the episode not alerted: once the cause is fixed a new alert goes out, exactly once.
func TestPermanentlyFailedAlertIsShownAndSentOnceTheCauseIsFixed(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	e.smtp.SetFailing(550)
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	e.sweep(nil)
	if st := e.deliver(); st.Failed != 1 {
		t.Fatalf("delivery: %+v, want a permanent failure", st)
	}
	rep, err := e.mon.Report(context.Background(), e.team.ID, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	it := rep.Alerts[rep.Episodes[0].AlertKey]
	if it.State() != models.OutboxFailed || !strings.Contains(it.LastError, "550") {
		t.Fatalf("alert shown as %s: %q", it.State(), it.LastError)
	}
	if ep := e.episodes(ch)[0]; ep.AlertedAt != nil || ep.AlertFailedAt == nil || !strings.Contains(ep.AlertError, "550") {
		t.Fatalf("episode after the failure: alerted %v, failed %v %q", ep.AlertedAt, ep.AlertFailedAt, ep.AlertError)
	}
	if e.reload(ch).AlertedAt != nil {
		t.Fatal("the channel counts as alerted though no email was delivered")
	}
	admin := e.app.Client()
	admin.Login(e.admin.Email, "correct-horse-battery")
	if r := admin.Get(fmt.Sprintf("/channels/%d/health", ch.ID)); !strings.Contains(r.Body, "提醒信無法寄出") || !strings.Contains(r.Body, "550") {
		t.Fatalf("the panel does not show the failed alert:\n%s", r.Body)
	}
	if r := admin.Get("/"); !strings.Contains(r.Body, "提醒信未能寄出") || !strings.Contains(r.Body, "550") {
		t.Fatalf("the banner does not say the alert was not delivered:\n%s", r.Body)
	}

	e.sweep(nil) // too soon: the failed alert is not queued again at once
	if n := len(e.emails()); n != 1 {
		t.Fatalf("%d emails queued right after the failure, want still 1", n)
	}
	e.smtp.SetFailing(0) // the cause is fixed
	e.clock.Advance(20 * time.Minute)
	e.sweep(nil)
	if msgs := e.mails(); len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "Instagram") {
		t.Fatalf("%d emails delivered after the fix, want the alert once", len(msgs))
	}
	if ep := e.episodes(ch)[0]; ep.AlertedAt == nil || ep.AlertFailedAt != nil || ep.AlertError != "" {
		t.Fatalf("episode after delivery: alerted %v, failed %v %q", ep.AlertedAt, ep.AlertFailedAt, ep.AlertError)
	}
	if e.reload(ch).AlertedAt == nil {
		t.Fatal("the channel is not alerted after the delivery")
	}
	if r := admin.Get(fmt.Sprintf("/channels/%d/health", ch.ID)); !strings.Contains(r.Body, "已寄出提醒信") {
		t.Fatalf("the panel does not show the delivered alert:\n%s", r.Body)
	}
	if r := admin.Get("/"); strings.Contains(r.Body, "提醒信未能寄出") || !strings.Contains(r.Body, "串接失效") {
		t.Fatalf("the banner after delivery:\n%s", r.Body)
	}
	e.clock.Advance(2 * time.Hour)
	e.sweep(nil)
	if n := len(e.mails()); n != 1 {
		t.Fatalf("%d emails after more sweeps, want still 1", n)
	}
}

// A channel named across two lines gets its alert: the name is put on one line in the subject
// instead of the email failing (or injecting a header).
func TestAlertForAChannelNameWithALineBreakIsDelivered(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	if err := e.app.Store.WithTx(context.Background(), func(tx *store.Store) error {
		got, err := tx.Channel(context.Background(), ch.TeamID, ch.ID)
		if err != nil {
			return err
		}
		got.DisplayName = "台北店\r\nBcc: evil@example.com"
		return tx.SaveChannel(context.Background(), got)
	}); err != nil {
		t.Fatal(err)
	}
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	e.sweep(nil)
	msgs := e.mails()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want the alert (outbox: %+v)", len(msgs), e.emails())
	}
	if m := msgs[0]; !strings.Contains(m.Subject, "台北店 Bcc: evil@example.com") || len(m.To) != 1 || m.Headers.Get("Bcc") != "" {
		t.Errorf("subject %q to %v: want the name on one line and no injected recipient", m.Subject, m.To)
	}
	if ep := e.episodes(ch)[0]; ep.AlertedAt == nil {
		t.Error("the episode is not alerted after its email was delivered")
	}
}

// A team whose plan has ended gets no email, but the episode is recorded and the console still
// shows the banner; if the plan is renewed while the channel is still broken, the one alert goes out.
func TestEndedPlanGetsNoEmailButTheBanner(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	ctx := context.Background()
	if err := e.app.Store.UpdateTeamPlan(ctx, e.team.ID, models.PlanEnded); err != nil {
		t.Fatal(err)
	}
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	r := resultFor(t, e.sweep(nil), ch)
	if !r.Transition.Opened || r.Transition.AlertQueued || r.Transition.AlertSkipped != models.AlertSkippedPlanEnded {
		t.Fatalf("transition = %+v", r.Transition)
	}
	e.sweep(nil)
	if n := len(e.emails()); n != 0 {
		t.Fatalf("%d emails queued for an ended plan", n)
	}
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d emails sent for an ended plan", n)
	}

	admin := e.app.Client()
	admin.Login(e.admin.Email, "correct-horse-battery")
	page := admin.Get("/")
	reauth := fmt.Sprintf("/channels/%d/reauthorize", ch.ID)
	if !strings.Contains(page.Body, "串接失效") || !strings.Contains(page.Body, ch.DisplayName) || !strings.Contains(page.Body, reauth) {
		t.Fatalf("admin's console lacks the banner:\n%s", page.Body)
	}
	agentUser := e.app.User(e.team.ID, models.RoleAgent, "agent@bear.test")
	agent := e.app.Client()
	agent.Login(agentUser.Email, "correct-horse-battery")
	page = agent.Get("/")
	if !strings.Contains(page.Body, "串接失效") || strings.Contains(page.Body, reauth) || !strings.Contains(page.Body, "請聯絡") {
		t.Fatalf("agent's console should show the banner without the button:\n%s", page.Body)
	}

	if err := e.app.Store.UpdateTeamPlan(ctx, e.team.ID, models.PlanActive); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.sweep(nil)
	e.sweep(nil)
	if n := len(e.mails()); n != 1 {
		t.Fatalf("%d emails after the plan was renewed, want 1", n)
	}
}

// A send that fails with an auth error marks the channel broken through the same state change
// as a sweep: one episode, one email, none more from later sweeps. Errors about one recipient do not.
func TestSendFailureMarksBrokenOnce(t *testing.T) {
	e := newEnv(t)
	ch := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	ctx := context.Background()
	creds, _ := e.app.Channels.Credentials(ch)
	psid, _ := e.world.CustomerID("xiaoming", sandbox.PlatformFacebook, sandbox.BearBakeryPageID)

	_, err := e.meta.SendMessage(ctx, ch.ExternalID, creds.AccessToken, psid, meta.MessagingResponse, meta.TextMessage("hi"))
	if broken, rerr := e.mon.ReportFailure(ctx, ch, err); broken || rerr != nil {
		t.Fatalf("messaging-window error marked the channel broken: %v %v", err, rerr)
	}

	e.breakToken("page:"+sandbox.BearBakeryPageID, sandbox.CausePasswordChanged)
	_, err = e.meta.SendMessage(ctx, ch.ExternalID, creds.AccessToken, psid, meta.MessagingResponse, meta.TextMessage("hi"))
	if err == nil {
		t.Fatal("send with a broken token succeeded")
	}
	broken, err := e.mon.ReportFailure(ctx, ch, err)
	if !broken || err != nil {
		t.Fatalf("ReportFailure = %v %v", broken, err)
	}
	got := e.reload(ch)
	guard := channels.Guard(got)
	ae, ok := apperr.From(guard)
	var be *channels.BrokenError
	if !ok || ae.Key != "health.refused.password_changed" || !errors.As(guard, &be) || be.ChannelID != ch.ID {
		t.Fatalf("Guard = %v", guard)
	}
	if eps := e.episodes(ch); len(eps) != 1 || eps[0].DetectedBy != models.DetectedBySend {
		t.Fatalf("episodes = %+v", eps)
	}
	e.sweep(nil)
	e.sweep(nil)
	if n := len(e.mails()); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
}

// Usage headers near the limit make the sweep slow down instead of being throttled; without the
// pacing the same sweep runs into Graph's throttle.
func TestRateLimitHeadersSlowTheSweep(t *testing.T) {
	setup := func(t *testing.T, pacing bool) (*env, []*models.Channel) {
		e := newEnv(t, func(o *health.Options) {
			o.Concurrency = 1
			o.Pacer = health.PacerConfig{SlowAt: 40, StopAt: 80, Cooldown: time.Minute, Disabled: !pacing}
		})
		chs := []*models.Channel{
			e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei"),
			e.channel(models.Facebook, sandbox.KaiCoffeePageID, "kai"),
			e.channel(models.Facebook, sandbox.YuSelectPageID, "yu"),
			e.channel(models.Facebook, sandbox.AnnFloristPageID, "ann"),
			e.channel(models.Facebook, sandbox.JunHandmadePageID, "jun"),
			e.channel(models.WhatsApp, sandbox.WhatsAppPhoneNumberID, ""),
		}
		// The app token (debug_token) may make 5 calls a minute; the sweep needs 6.
		e.clock.Advance(time.Hour)
		e.world.SetUsageLimit(5, time.Minute)
		return e, chs
	}
	t.Run("paced", func(t *testing.T) {
		e, chs := setup(t, true)
		before := e.clock.Slept()
		rep := e.sweep(nil)
		if rep.Healthy != len(chs) || rep.Pacer.Throttled != 0 {
			t.Fatalf("paced sweep: %d/%d healthy, %d throttled", rep.Healthy, len(chs), rep.Pacer.Throttled)
		}
		if rep.Pacer.Waited < time.Minute || e.clock.Slept()-before < time.Minute || rep.Pacer.PeakPercent < 80 {
			t.Fatalf("the sweep did not slow down: %+v", rep.Pacer)
		}
	})
	t.Run("unpaced", func(t *testing.T) {
		e, chs := setup(t, false)
		rep := e.sweep(nil)
		if rep.Pacer.Throttled == 0 || rep.Unknown == 0 {
			t.Fatalf("without pacing the sandbox should throttle: %+v", rep)
		}
		// Throttling is never a failure.
		for _, ch := range chs {
			if e.reload(ch).Status != models.ChannelActive {
				t.Fatalf("channel %d marked broken by a rate limit", ch.ID)
			}
		}
	})
}

// A week before a token's known expiry, one warning goes out, however many checks see it.
func TestExpiryWarningOncePerToken(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	e.sweep(nil)
	got := e.reload(ch)
	if got.TokenExpiresAt == nil {
		t.Fatal("the token's expiry was not recorded")
	}
	if n := len(e.emails()); n != 0 {
		t.Fatalf("%d emails for a token far from expiry", n)
	}
	e.clock.Advance(got.TokenExpiresAt.Sub(e.clock.Now()) - 6*24*time.Hour)
	e.sweep(nil)
	e.clock.Advance(time.Hour)
	e.sweep(nil)
	msgs := e.mails()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "到期") {
		t.Fatalf("%d emails, want one expiry warning", len(msgs))
	}
}

// The console panel shows last and next check and the episode history, for channel managers only.
func TestHealthPanelRoute(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	e.sweep(nil)
	e.deliver()

	admin := e.app.Client()
	admin.Login(e.admin.Email, "correct-horse-battery")
	r := admin.Get(fmt.Sprintf("/channels/%d/health", ch.ID))
	if r.Status != http.StatusOK {
		t.Fatalf("panel: %d", r.Status)
	}
	for _, want := range []string{"串接失效", "授權帳號變更了密碼", "上次檢查", "下次檢查", "已寄出提醒信", fmt.Sprintf("/channels/%d/reauthorize", ch.ID)} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("panel lacks %q:\n%s", want, r.Body)
		}
	}
	if r := admin.Get("/channels/999999/health"); r.Status != http.StatusNotFound {
		t.Fatalf("another channel: %d", r.Status)
	}
	agentUser := e.app.User(e.team.ID, models.RoleAgent, "agent@bear.test")
	agent := e.app.Client()
	agent.Login(agentUser.Email, "correct-horse-battery")
	if r := agent.Get(fmt.Sprintf("/channels/%d/health", ch.ID)); r.Status != http.StatusForbidden {
		t.Fatalf("agent: %d", r.Status)
	}
}

// Emails go out in the team's language.
func TestEnglishTeamGetsEnglishEmail(t *testing.T) {
	e := newEnv(t)
	ch := e.instagram()
	if _, err := e.app.SQL().Exec(context.Background(), "UPDATE teams SET locale = 'en' WHERE id = $1", e.team.ID); err != nil {
		t.Fatal(err)
	}
	e.breakToken("fbuser:mei", sandbox.CausePasswordChanged)
	e.sweep(nil)
	msgs := e.mails()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "Action needed") || !strings.Contains(msgs[0].Text, "How to fix it") || !strings.Contains(msgs[0].HTML, ch.DisplayName) {
		t.Fatalf("english email: %+v", msgs)
	}
}

// An Instagram account and its Page share one token: when it breaks, the team gets one email
// naming both channels (each episode is still reported exactly once), and one when both recover.
func TestChannelsThatBreakTogetherShareOneEmail(t *testing.T) {
	e := newEnv(t)
	ig := e.instagram()
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	e.breakToken("page:"+sandbox.BearBakeryPageID, sandbox.CausePasswordChanged)
	rep := e.sweep(nil)
	if rep.Opened != 2 || rep.AlertsQueued != 1 {
		t.Fatalf("sweep: %d opened, %d emails; want 2 episodes in 1 email", rep.Opened, rep.AlertsQueued)
	}
	for _, ch := range []*models.Channel{ig, fb} {
		if r := resultFor(t, rep, ch); !r.Transition.AlertQueued {
			t.Fatalf("channel %d: %+v", ch.ID, r.Transition)
		}
	}
	e.sweep(nil)
	msgs := e.mails()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want 1", len(msgs))
	}
	for _, want := range []string{"2 個通訊渠道", fmt.Sprintf("/channels/%d/reauthorize", ig.ID), fmt.Sprintf("/channels/%d/reauthorize", fb.ID)} {
		if !strings.Contains(msgs[0].Subject+msgs[0].Text, want) {
			t.Errorf("email lacks %q:\n%s\n%s", want, msgs[0].Subject, msgs[0].Text)
		}
	}
	e.repair("page:" + sandbox.BearBakeryPageID)
	e.clock.Advance(time.Hour)
	if rep := e.sweep(nil); rep.Closed != 2 || rep.AlertsQueued != 1 {
		t.Fatalf("recovery sweep: %d closed, %d emails", rep.Closed, rep.AlertsQueued)
	}
	if msgs := e.mails(); len(msgs) != 2 || !strings.Contains(msgs[1].Subject, "2 個通訊渠道已恢復正常") {
		t.Fatalf("%d emails; last %q", len(msgs), msgs[len(msgs)-1].Subject)
	}
}
