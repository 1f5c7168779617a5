package ui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/sandbox"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// causeCodes are the Graph errors each break cause produces (LINE answers 401 or 429).
var causeCodes = map[sandbox.Cause]string{
	sandbox.CausePasswordChanged:   "190/460",
	sandbox.CauseExpired:           "190/463",
	sandbox.CauseCheckpoint:        "190/459",
	sandbox.CauseAppRemoved:        "190/458",
	sandbox.CausePermissionRemoved: "200 · 10",
	sandbox.CauseRateLimited:       "4 · 17 · 32",
}

// failureKinds are what SetTransientFailure can inject.
var failureKinds = []sandbox.FailureKind{sandbox.FailUnknown, sandbox.FailUnexpected, sandbox.FailTimeout, sandbox.FailLateAnswer}

// Panel lists every target with its current damage and the causes it can be broken with.
func (s *Service) Panel() sbview.PanelVM {
	vm := sbview.PanelVM{AppID: s.w.AppID()}
	for _, c := range sandbox.Causes() {
		vm.Causes = append(vm.Causes, sbview.CauseVM{Value: string(c), Codes: causeCodes[c]})
	}
	for _, k := range failureKinds {
		vm.FailureKinds = append(vm.FailureKinds, string(k))
	}
	wabaOf := map[string]string{}
	for _, n := range s.w.WhatsAppNumbers() {
		wabaOf[n.PhoneNumberID] = n.WABAID
	}
	for _, t := range s.w.Targets() {
		tv := sbview.TargetVM{Value: t.Target.String(), Kind: string(t.Target.Kind), Label: t.Label, Tokens: t.Tokens,
			Broken: string(t.Broken), RemovedScopes: t.RemovedScopes, RateLimited: t.RateLimited,
			TransientLeft: t.TransientLeft, TransientKind: string(t.TransientKind)}
		switch t.Target.Kind {
		case sandbox.TargetPage:
			tv.Subscription = t.Target.ID
		case sandbox.TargetWhatsApp:
			tv.Subscription = wabaOf[t.Target.ID]
		}
		if tv.Subscription != "" {
			_, tv.Subscribed = s.w.Subscription(tv.Subscription)
		}
		vm.Targets = append(vm.Targets, tv)
	}
	return vm
}

func parseTarget(raw string) (sandbox.Target, error) {
	t, err := sandbox.ParseTarget(strings.TrimSpace(raw))
	if err != nil {
		return t, failed(http.StatusUnprocessableEntity, "sandbox.error_target", err)
	}
	return t, nil
}

// Break damages a target's current tokens the way cause does on the platform.
func (s *Service) Break(target, cause string) error {
	t, err := parseTarget(target)
	if err != nil {
		return err
	}
	c := sandbox.Cause(cause)
	if !slices.Contains(sandbox.Causes(), c) {
		return apperr.Invalid("cause", "sandbox.error_cause")
	}
	if err := s.w.BreakToken(t, c); err != nil {
		return failed(http.StatusUnprocessableEntity, "sandbox.error_operation", err)
	}
	return nil
}

// Repair undoes every break, revoked permission and injected failure of a target.
func (s *Service) Repair(target string) error {
	t, err := parseTarget(target)
	if err != nil {
		return err
	}
	if err := s.w.Repair(t); err != nil {
		return failed(http.StatusUnprocessableEntity, "sandbox.error_operation", err)
	}
	return nil
}

// Unsubscribe removes the app from a Page's or WABA's webhooks, as Meta does after failed deliveries.
func (s *Service) Unsubscribe(objectID string) error {
	if err := s.w.UnsubscribeApp(strings.TrimSpace(objectID)); err != nil {
		return failed(http.StatusUnprocessableEntity, "sandbox.error_operation", err)
	}
	return nil
}

// Transient makes the target's next count calls fail with kind; a count of 0 clears it.
func (s *Service) Transient(target, count, kind string) error {
	t, err := parseTarget(target)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 0 || n > 1000 {
		return apperr.Invalid("count", "sandbox.error_count")
	}
	k := sandbox.FailureKind(kind)
	if !slices.Contains(failureKinds, k) {
		return apperr.Invalid("kind", "sandbox.error_kind")
	}
	if err := s.w.SetTransientFailure(t, n, k); err != nil {
		return failed(http.StatusUnprocessableEntity, "sandbox.error_operation", err)
	}
	return nil
}
