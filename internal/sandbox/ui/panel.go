package ui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// causeCodes are the platform errors each break cause produces, shown beside its name.
var causeCodes = map[sandbox.Cause]string{
	sandbox.CausePasswordChanged:    "190/460",
	sandbox.CauseExpired:            "190/463",
	sandbox.CauseCheckpoint:         "190/459",
	sandbox.CauseAppRemoved:         "190/458",
	sandbox.CausePermissionRemoved:  "200 · 10",
	sandbox.CauseRateLimited:        "4 · 17 · 32",
	sandbox.CauseTokenRevoked:       "401",
	sandbox.CauseChannelDeleted:     "401",
	sandbox.CauseTokenInvalid:       "190",
	sandbox.CauseNumberDisconnected: "DISCONNECTED",
	sandbox.CauseNumberBanned:       "BANNED",
}

// lineCauseCodes are the LINE answers of the causes LINE shares with Graph.
var lineCauseCodes = map[sandbox.Cause]string{sandbox.CauseExpired: "401", sandbox.CauseRateLimited: "429"}

// failureKinds are what SetTransientFailure can inject.
var failureKinds = []sandbox.FailureKind{sandbox.FailUnknown, sandbox.FailUnexpected, sandbox.FailTimeout, sandbox.FailLateAnswer}

// scope is what one team may see and damage on the panel: the shared Meta app, the simulated
// Facebook people (anyone may log in as them), and the accounts the team itself connected.
type scope struct {
	targets map[string]sbview.TargetVM // by Value
	order   []string
	line    map[string]bool // LINE channel ids the team connected
	numbers map[string]bool // WhatsApp phone-number ids the team connected
}

// teamScope lists the panel's targets for a team.
func (s *Service) teamScope(ctx context.Context, teamID int64) (*scope, error) {
	chans, err := s.chans.TeamChannels(ctx, teamID)
	if err != nil {
		return nil, err
	}
	live := map[models.Platform]map[string]bool{}
	for _, ch := range chans {
		if ch.Status == models.ChannelDisconnected {
			continue
		}
		if live[ch.Platform] == nil {
			live[ch.Platform] = map[string]bool{}
		}
		live[ch.Platform][ch.ExternalID] = true
	}
	sc := &scope{targets: map[string]sbview.TargetVM{}, line: map[string]bool{}, numbers: map[string]bool{}}
	add := func(tv sbview.TargetVM) {
		if tv.Causes == nil {
			tv.Causes = causesFor(sandbox.TargetKind(tv.Kind))
		}
		sc.targets[tv.Value] = tv
		sc.order = append(sc.order, tv.Value)
	}
	wabaOf := map[string]string{}
	for _, n := range s.w.WhatsAppNumbers() {
		wabaOf[n.PhoneNumberID] = n.WABAID
	}
	botOf := map[string]string{}
	for _, a := range s.w.LINEAccounts() {
		botOf[a.ChannelID] = a.BotUserID
	}
	status := map[string]sandbox.TargetStatus{}
	var ordered []sandbox.TargetStatus
	for _, t := range s.w.Targets() {
		status[t.Target.String()] = t
		ordered = append(ordered, t)
	}
	for _, t := range ordered {
		tv := targetVM(t)
		switch t.Target.Kind {
		case sandbox.TargetApp, sandbox.TargetFacebookUser:
			add(tv)
		case sandbox.TargetPage:
			if live[models.Facebook][t.Target.ID] {
				tv.Subscription = t.Target.ID
				add(tv)
			}
		case sandbox.TargetLINE:
			if live[models.LINE][botOf[t.Target.ID]] || live[models.LINE][t.Target.ID] {
				sc.line[t.Target.ID] = true
				add(tv)
			}
		case sandbox.TargetWhatsApp:
			if live[models.WhatsApp][t.Target.ID] {
				sc.numbers[t.Target.ID] = true
				tv.Subscription = wabaOf[t.Target.ID]
				add(tv)
			}
		}
	}
	// An Instagram account works through its Page's token, so its row shows (and damages)
	// that Page's tokens, under the account's own name.
	for _, ig := range s.w.InstagramAccounts() {
		if !live[models.Instagram][ig.ID] {
			continue
		}
		pt, ok := status[sandbox.Target{Kind: sandbox.TargetPage, ID: ig.PageID}.String()]
		if !ok {
			continue
		}
		tv := targetVM(pt)
		tv.Value, tv.Kind, tv.Label = "page:"+ig.ID, "instagram", "Instagram @"+ig.Username
		// Its damage is the Page's, so it offers the Page's causes.
		tv.Causes = causesFor(sandbox.TargetPage)
		tv.Subscription = ig.PageID
		add(tv)
	}
	for v, tv := range sc.targets {
		if tv.Subscription != "" {
			_, tv.Subscribed = s.w.Subscription(tv.Subscription)
			sc.targets[v] = tv
		}
	}
	return sc, nil
}

func targetVM(t sandbox.TargetStatus) sbview.TargetVM {
	return sbview.TargetVM{Value: t.Target.String(), Kind: string(t.Target.Kind), Label: t.Label, Tokens: t.Tokens,
		Broken: string(t.Broken), RemovedScopes: t.RemovedScopes, RateLimited: t.RateLimited,
		TransientLeft: t.TransientLeft, TransientKind: string(t.TransientKind)}
}

// causesFor is the cause menu of one kind of target, each with the codes it produces there.
func causesFor(k sandbox.TargetKind) []sbview.CauseVM {
	var out []sbview.CauseVM
	for _, c := range sandbox.CausesFor(k) {
		codes := causeCodes[c]
		if k == sandbox.TargetLINE && lineCauseCodes[c] != "" {
			codes = lineCauseCodes[c]
		}
		out = append(out, sbview.CauseVM{Value: string(c), Codes: codes})
	}
	return out
}

// Panel lists the targets the team may damage with their current state, and the sandbox's
// LINE and WhatsApp credentials that the team can still connect.
func (s *Service) Panel(ctx context.Context, teamID int64) (sbview.PanelVM, error) {
	sc, err := s.teamScope(ctx, teamID)
	if err != nil {
		return sbview.PanelVM{}, err
	}
	vm := sbview.PanelVM{AppID: s.w.AppID()}
	for _, k := range failureKinds {
		vm.FailureKinds = append(vm.FailureKinds, string(k))
	}
	for _, v := range sc.order {
		vm.Targets = append(vm.Targets, sc.targets[v])
	}
	for _, a := range s.w.LINEAccounts() {
		mine, free, err := s.owner(ctx, teamID, models.LINE, a.BotUserID)
		if err != nil {
			return vm, err
		}
		if mine || free {
			vm.LINE = append(vm.LINE, sbview.LINECredentialsVM{Name: a.DisplayName, BasicID: a.BasicID, ChannelID: a.ChannelID,
				ChannelSecret: a.ChannelSecret, AccessToken: a.AccessToken, LoginChannelID: a.LoginChannelID, LIFFID: a.LIFFID, Connected: mine})
		}
	}
	for _, n := range s.w.WhatsAppNumbers() {
		mine, free, err := s.owner(ctx, teamID, models.WhatsApp, n.PhoneNumberID)
		if err != nil {
			return vm, err
		}
		if mine || free {
			vm.WhatsApp = append(vm.WhatsApp, sbview.WhatsAppCredentialsVM{Name: n.VerifiedName, DisplayNumber: n.DisplayPhoneNumber,
				PhoneNumberID: n.PhoneNumberID, WABAID: n.WABAID, AccessToken: n.AccessToken, Connected: mine})
		}
	}
	return vm, nil
}

// owner tells whether an account is connected by this team (mine) or by no team (free); an
// account another team connected is neither, and its credentials are not shown.
func (s *Service) owner(ctx context.Context, teamID int64, p models.Platform, externalID string) (mine, free bool, err error) {
	ch, err := s.chans.LiveChannelByAccountSystem(ctx, p, externalID)
	switch {
	case err == nil:
		return ch.TeamID == teamID, false, nil
	case errors.Is(err, apperr.ErrNotFound):
		return false, true, nil
	}
	return false, false, err
}

// target reads a target the team may act on; anything else is not found, as another team's
// channel is everywhere else in the console.
func (s *Service) target(ctx context.Context, teamID int64, raw string) (sandbox.Target, sbview.TargetVM, error) {
	raw = strings.TrimSpace(raw)
	t, err := sandbox.ParseTarget(raw)
	if err != nil {
		return t, sbview.TargetVM{}, apperr.Invalid("target", "sandbox.error_target")
	}
	sc, err := s.teamScope(ctx, teamID)
	if err != nil {
		return t, sbview.TargetVM{}, err
	}
	tv, ok := sc.targets[raw]
	if !ok {
		return t, tv, apperr.ErrNotFound
	}
	return t, tv, nil
}

// refused turns an emulator refusal into a translated message.
func refused(err error) error {
	key := "sandbox.error_refused"
	switch {
	case errors.Is(err, sandbox.ErrNoTokens):
		key = "sandbox.error_no_tokens"
	case errors.Is(err, sandbox.ErrCauseNotApplicable):
		key = "sandbox.error_cause"
	case errors.Is(err, sandbox.ErrNotFound):
		key = "sandbox.error_target"
	}
	return &apperr.Error{Status: http.StatusUnprocessableEntity, Key: key, Err: err}
}

// Break damages a target's current tokens the way cause does on its platform.
func (s *Service) Break(ctx context.Context, teamID int64, target, cause string) error {
	t, tv, err := s.target(ctx, teamID, target)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(tv.Causes, func(c sbview.CauseVM) bool { return c.Value == cause }) {
		return apperr.Invalid("cause", "sandbox.error_cause")
	}
	if err := s.w.BreakToken(t, sandbox.Cause(cause)); err != nil {
		return refused(err)
	}
	return nil
}

// Repair undoes every break, revoked permission and injected failure of a target.
func (s *Service) Repair(ctx context.Context, teamID int64, target string) error {
	t, _, err := s.target(ctx, teamID, target)
	if err != nil {
		return err
	}
	if err := s.w.Repair(t); err != nil {
		return refused(err)
	}
	return nil
}

// Unsubscribe removes the app from a Page's or WABA's webhooks, as Meta does after failed
// deliveries; only the team's own Pages and WABAs.
func (s *Service) Unsubscribe(ctx context.Context, teamID int64, objectID string) error {
	objectID = strings.TrimSpace(objectID)
	sc, err := s.teamScope(ctx, teamID)
	if err != nil {
		return err
	}
	ok := false
	for _, tv := range sc.targets {
		ok = ok || (objectID != "" && tv.Subscription == objectID)
	}
	if !ok {
		return apperr.ErrNotFound
	}
	if err := s.w.UnsubscribeApp(objectID); err != nil {
		return refused(err)
	}
	return nil
}

// Transient makes the target's next count calls fail with kind; a count of 0 clears it.
func (s *Service) Transient(ctx context.Context, teamID int64, target, count, kind string) error {
	t, _, err := s.target(ctx, teamID, target)
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
		return refused(err)
	}
	return nil
}
