package health

import (
	"context"
	"errors"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/models"
)

func TestClassify(t *testing.T) {
	graph := func(status, code, sub int) error {
		return &meta.GraphError{HTTPStatus: status, Code: code, Subcode: sub, Message: "x"}
	}
	netErr := &url.Error{Op: "Get", URL: "https://graph.test", Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}
	cases := []struct {
		name string
		p    models.Platform
		err  error
		want Outcome
		why  models.HealthCause
	}{
		{"ok", models.Facebook, nil, OutcomeOK, ""},
		{"password", models.Instagram, graph(400, 190, 460), OutcomeBroken, models.CausePasswordChanged},
		{"checkpoint", models.Instagram, graph(400, 190, 459), OutcomeBroken, models.CauseCheckpoint},
		{"unconfirmed user", models.Instagram, graph(400, 190, 464), OutcomeBroken, models.CauseCheckpoint},
		{"expired", models.Facebook, graph(400, 190, 463), OutcomeBroken, models.CauseTokenExpired},
		{"app removed", models.Facebook, graph(400, 190, 458), OutcomeBroken, models.CauseAppRemoved},
		{"logged out", models.Facebook, graph(400, 190, 467), OutcomeBroken, models.CauseTokenInvalid},
		{"permission", models.WhatsApp, graph(403, 200, 0), OutcomeBroken, models.CausePermissionRemoved},
		{"account gone", models.Instagram, graph(400, 100, 33), OutcomeBroken, models.CauseAccountGone},
		{"messaging window", models.Facebook, graph(400, 10, 2018278), OutcomeIrrelevant, ""},
		{"page throttled", models.Facebook, graph(400, 32, 0), OutcomeRateLimited, ""},
		{"app throttled", models.Facebook, graph(400, 4, 0), OutcomeRateLimited, ""},
		{"graph 500", models.Facebook, graph(500, 1, 0), OutcomeTransient, ""},
		{"graph 503 without body", models.Facebook, &meta.GraphError{HTTPStatus: 503}, OutcomeTransient, ""},
		{"network", models.Facebook, netErr, OutcomeTransient, ""},
		{"timeout", models.LINE, context.DeadlineExceeded, OutcomeTransient, ""},
		{"bad field is not broken", models.Facebook, graph(400, 100, 0), OutcomeOther, ""},
		{"line 401", models.LINE, &line.APIError{Status: 401, Message: "Authentication failed."}, OutcomeBroken, models.CauseTokenInvalid},
		{"line 403", models.LINE, &line.APIError{Status: 403}, OutcomeBroken, models.CausePermissionRemoved},
		{"line refused by verify", models.LINE, &line.APIError{Status: 400, Code: "invalid_request", Message: "access token expired"}, OutcomeBroken, models.CauseTokenInvalid},
		{"line 429", models.LINE, &line.APIError{Status: 429}, OutcomeRateLimited, ""},
		{"line 500", models.LINE, &line.APIError{Status: 500}, OutcomeTransient, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Classify(tc.p, tc.err)
			if got.Outcome != tc.want || got.Cause != tc.why {
				t.Fatalf("Classify = %+v, want %v/%s", got, tc.want, tc.why)
			}
		})
	}
}

func TestNextCheckBacksOff(t *testing.T) {
	m := &Monitor{opt: Options{Interval: time.Hour, RecheckAfter: 5 * time.Minute}}
	now := time.Unix(0, 0)
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := m.nextCheck(Verdict{State: models.VerdictUnknown}, i+1, now).Sub(now); got != w {
			t.Errorf("after %d undecided checks: %s, want %s", i+1, got, w)
		}
	}
	if got := m.nextCheck(Verdict{State: models.VerdictHealthy}, 0, now).Sub(now); got != time.Hour {
		t.Errorf("healthy: %s", got)
	}
	retry := now.Add(3 * time.Hour)
	if got := m.nextCheck(Verdict{State: models.VerdictUnknown, RetryAt: retry}, 1, now); !got.Equal(retry) {
		t.Errorf("deferred: %s", got)
	}
}

func TestPacer(t *testing.T) {
	now := time.Unix(1000, 0)
	var slept time.Duration
	p := NewPacer(PacerConfig{SlowAt: 60, StopAt: 80, MaxSpacing: time.Second, Cooldown: time.Minute},
		func() time.Time { return now.Add(slept) },
		func(_ context.Context, d time.Duration) error { slept += d; return nil })
	ctx := context.Background()
	_ = p.Wait(ctx)
	_ = p.Wait(ctx)
	if slept != 0 {
		t.Fatalf("low usage slowed calls by %s", slept)
	}
	p.Observe(meta.Usage{MaxPercent: 70})
	_ = p.Wait(ctx)
	_ = p.Wait(ctx)
	if slept != 500*time.Millisecond {
		t.Fatalf("at 70%% calls are spaced %s apart, want 500ms", slept)
	}
	p.Observe(meta.Usage{MaxPercent: 90, RegainAfter: 3 * time.Minute})
	before := slept
	_ = p.Wait(ctx)
	if d := slept - before; d < 3*time.Minute-time.Second {
		t.Fatalf("over the stop line the pacer waited only %s", d)
	}
	p.Observe(meta.Usage{MaxPercent: 95, BusinessID: "page-1"})
	if _, busy := p.BusinessBusy("page-1"); !busy {
		t.Fatal("a Page near its limit is not reported busy")
	}
	if _, busy := p.BusinessBusy("page-2"); busy {
		t.Fatal("another Page is reported busy")
	}
	if s := p.Stats(); s.PeakPercent != 95 || s.Pauses != 2 {
		t.Fatalf("stats = %+v", s)
	}
}
