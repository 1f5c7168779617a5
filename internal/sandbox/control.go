package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TargetKind says what a control-panel target refers to.
type TargetKind string

// Target kinds. A Facebook user target covers the user's tokens and the Page tokens derived
// from them; a Page target covers every token of that Page; LINE and WhatsApp targets cover
// the channel's or number's token. The app target stands for every Graph call.
const (
	TargetApp          TargetKind = "app"
	TargetFacebookUser TargetKind = "fbuser"
	TargetPage         TargetKind = "page"
	TargetLINE         TargetKind = "line"
	TargetWhatsApp     TargetKind = "whatsapp"
)

// Target identifies the tokens a control operation acts on.
type Target struct {
	Kind TargetKind
	ID   string // Facebook user id or key, Page or IG id, LINE channel/bot user id, phone-number/WABA id
}

// String renders the target as "kind:id" ("app" alone), the form ParseTarget reads.
func (t Target) String() string {
	if t.Kind == TargetApp {
		return string(TargetApp)
	}
	return string(t.Kind) + ":" + t.ID
}

// ParseTarget reads "fbuser:mei", "page:104000000000001", "line:2000000001",
// "whatsapp:109000000000001" or "app".
func ParseTarget(s string) (Target, error) {
	if s == string(TargetApp) {
		return Target{Kind: TargetApp}, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return Target{}, fmt.Errorf("sandbox: target %q: want kind:id", s)
	}
	switch TargetKind(kind) {
	case TargetFacebookUser, TargetPage, TargetLINE, TargetWhatsApp:
		return Target{Kind: TargetKind(kind), ID: id}, nil
	}
	return Target{}, fmt.Errorf("sandbox: target %q: unknown kind", s)
}

// Cause is the kind of damage BreakToken does, named after what happened on the platform.
type Cause string

// Break causes and the Graph errors they produce (LINE tokens answer 401 for the first four).
const (
	CausePasswordChanged   Cause = "password_changed"   // 190/460
	CauseExpired           Cause = "expired"            // 190/463
	CauseCheckpoint        Cause = "checkpoint"         // 190/459
	CauseAppRemoved        Cause = "app_removed"        // 190/458
	CausePermissionRemoved Cause = "permission_removed" // scope gone: calls needing it get 10 or 200
	CauseRateLimited       Cause = "rate_limited"       // 4 / 17 / 32 (LINE: 429)
)

// Causes lists every break cause, for the control panel.
func Causes() []Cause {
	return []Cause{CausePasswordChanged, CauseExpired, CauseCheckpoint, CauseAppRemoved, CausePermissionRemoved, CauseRateLimited}
}

// invalidating reports whether the cause makes a token stop authenticating.
func (c Cause) invalidating() bool {
	switch c {
	case CausePasswordChanged, CauseExpired, CauseCheckpoint, CauseAppRemoved:
		return true
	}
	return false
}

// FailureKind is the kind of transient trouble SetTransientFailure injects.
type FailureKind string

// Transient failure kinds.
const (
	FailUnknown    FailureKind = "unknown"    // Graph 500 code 1; LINE 500
	FailUnexpected FailureKind = "unexpected" // Graph 500 code 2; LINE 500
	FailTimeout    FailureKind = "timeout"    // no answer until the client gives up
	// FailLateAnswer carries the call out (a push is delivered, its retry key remembered) and
	// then holds the answer until the client gives up: the case idempotency keys exist for.
	FailLateAnswer FailureKind = "late_answer"
)

type transient struct {
	Left int         `json:"left"`
	Kind FailureKind `json:"kind"`
}

// TargetStatus is one row of the control panel.
type TargetStatus struct {
	Target        Target
	Label         string
	Tokens        int   // tokens issued for the target
	Broken        Cause // an invalidating cause on at least one of its tokens, or ""
	RemovedScopes []string
	RateLimited   bool
	TransientLeft int
	TransientKind FailureKind
}

// resolveTarget maps aliases (user key, IG id, bot user id, WABA id) to the canonical id.
func (s *state) resolveTarget(t Target) (Target, error) {
	switch t.Kind {
	case TargetApp:
		return Target{Kind: TargetApp}, nil
	case TargetFacebookUser:
		if u := s.user(t.ID); u != nil {
			return Target{t.Kind, u.ID}, nil
		}
	case TargetPage:
		if p := s.page(t.ID); p != nil {
			return Target{t.Kind, p.ID}, nil
		}
		if a := s.instagram(t.ID); a != nil {
			return Target{t.Kind, a.PageID}, nil
		}
	case TargetLINE:
		if a := s.lineAccount(t.ID); a != nil {
			return Target{t.Kind, a.ChannelID}, nil
		}
	case TargetWhatsApp:
		if n := s.whatsapp(t.ID); n != nil {
			return Target{t.Kind, n.PhoneNumberID}, nil
		}
		if ns := s.waba(t.ID); len(ns) == 1 {
			return Target{t.Kind, ns[0].PhoneNumberID}, nil
		}
	}
	return Target{}, fmt.Errorf("%w: target %s", ErrNotFound, t)
}

// tokensOf lists the tokens a canonical target covers.
func (s *state) tokensOf(t Target) []*token {
	var out []*token
	for _, tok := range s.Tokens {
		switch {
		case t.Kind == TargetFacebookUser && (tok.Kind == kindUser || tok.Kind == kindPage) && tok.UserID == t.ID,
			t.Kind == TargetPage && tok.Kind == kindPage && tok.PageID == t.ID,
			t.Kind == TargetLINE && tok.Kind == kindLINEChannel && tok.AccountID == t.ID,
			t.Kind == TargetWhatsApp && tok.Kind == kindSystemUser && tok.AccountID == t.ID:
			out = append(out, tok)
		}
	}
	return out
}

// targetsOfToken lists every target a call made with tok belongs to (for transient failures).
func (s *state) targetsOfToken(tok *token) []Target {
	switch tok.Kind {
	case kindUser:
		return []Target{{TargetFacebookUser, tok.UserID}}
	case kindPage:
		return []Target{{TargetPage, tok.PageID}, {TargetFacebookUser, tok.UserID}}
	case kindSystemUser:
		return []Target{{TargetWhatsApp, tok.AccountID}}
	case kindLINEChannel:
		return []Target{{TargetLINE, tok.AccountID}}
	case kindLIFF:
		if a := s.lineAccountByLogin(tok.AccountID); a != nil {
			return []Target{{TargetLINE, a.ChannelID}}
		}
	}
	return nil
}

// defaultRemovedScope is the permission CausePermissionRemoved takes away: the one sending
// messages needs, so the damage shows on the next send as well as in debug_token.
func defaultRemovedScope(k TargetKind) string {
	switch k {
	case TargetWhatsApp:
		return "whatsapp_business_messaging"
	case TargetLINE:
		return "P"
	}
	return "pages_messaging"
}

// BreakToken damages every current token of the target the way cause does on the platform.
// Tokens issued later (a new dialog grant) are not affected, as after a password change.
func (w *World) BreakToken(t Target, cause Cause) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.st.resolveTarget(t)
	if err != nil {
		return err
	}
	if t.Kind == TargetApp {
		if cause != CauseRateLimited {
			return fmt.Errorf("sandbox: the app target only takes %s", CauseRateLimited)
		}
		w.st.AppRateLimited = true
		w.changed()
		return w.saveLocked()
	}
	if cause == CausePermissionRemoved {
		return w.revokeLocked(t, defaultRemovedScope(t.Kind))
	}
	toks := w.st.tokensOf(t)
	if len(toks) == 0 {
		return fmt.Errorf("%w: %s has no tokens yet", ErrNotFound, t)
	}
	now := w.now()
	for _, tok := range toks {
		switch {
		case cause.invalidating():
			tok.Broken, tok.BrokenAt = cause, now
		case cause == CauseRateLimited:
			tok.RateLimited = true
		default:
			return fmt.Errorf("sandbox: unknown cause %q", cause)
		}
	}
	w.changed()
	return w.saveLocked()
}

// RevokePermission removes one scope from the target's tokens, as when a user un-ticks a
// permission in their Facebook settings (debug_token stops listing it; calls needing it fail).
func (w *World) RevokePermission(t Target, scope string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.st.resolveTarget(t)
	if err != nil {
		return err
	}
	return w.revokeLocked(t, scope)
}

func (w *World) revokeLocked(t Target, scope string) error {
	toks := w.st.tokensOf(t)
	if len(toks) == 0 {
		return fmt.Errorf("%w: %s has no tokens yet", ErrNotFound, t)
	}
	for _, tok := range toks {
		if !slices.Contains(tok.RemovedScopes, scope) {
			tok.RemovedScopes = append(tok.RemovedScopes, scope)
		}
	}
	w.changed()
	return w.saveLocked()
}

// Repair undoes BreakToken, RevokePermission and SetTransientFailure on the target.
func (w *World) Repair(t Target) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.st.resolveTarget(t)
	if err != nil {
		return err
	}
	if t.Kind == TargetApp {
		w.st.AppRateLimited = false
	}
	for _, tok := range w.st.tokensOf(t) {
		tok.Broken, tok.BrokenAt, tok.RemovedScopes, tok.RateLimited = "", time.Time{}, nil, false
	}
	delete(w.st.Transients, t.String())
	w.changed()
	return w.saveLocked()
}

// UnsubscribeApp removes the app from a Page's (or IG account's linked Page's, or WABA's)
// webhook subscriptions, as Meta does after an hour of failed deliveries ("Webhooks Disabled").
func (w *World) UnsubscribeApp(objectID string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if a := w.st.instagram(objectID); a != nil {
		objectID = a.PageID
	}
	if w.st.page(objectID) == nil && len(w.st.waba(objectID)) == 0 {
		return fmt.Errorf("%w: page %s", ErrNotFound, objectID)
	}
	delete(w.st.Subscriptions, objectID)
	w.changed()
	return w.saveLocked()
}

// Subscription returns the webhook fields the app is subscribed to on a Page or WABA, and
// whether the app is installed there at all.
func (w *World) Subscription(objectID string) ([]string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.st.Subscriptions[objectID]
	return slices.Clone(f), ok
}

// SetTransientFailure makes the next n calls of the target fail with kind; n <= 0 clears it.
func (w *World) SetTransientFailure(t Target, n int, kind FailureKind) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.st.resolveTarget(t)
	if err != nil {
		return err
	}
	switch kind {
	case FailUnknown, FailUnexpected, FailTimeout, FailLateAnswer:
	default:
		return fmt.Errorf("sandbox: unknown failure kind %q", kind)
	}
	if n <= 0 {
		delete(w.st.Transients, t.String())
	} else {
		w.st.Transients[t.String()] = &transient{Left: n, Kind: kind}
	}
	w.changed()
	return w.saveLocked()
}

// takeTransient consumes one injected failure matching any of the targets.
func (w *World) takeTransient(targets []Target) (FailureKind, bool) {
	for _, t := range targets {
		tr := w.st.Transients[t.String()]
		if tr == nil {
			continue
		}
		tr.Left--
		if tr.Left <= 0 {
			delete(w.st.Transients, t.String())
		}
		w.changed()
		return tr.Kind, true
	}
	return "", false
}

// Targets lists everything the control panel can break, with its current damage.
func (w *World) Targets() []TargetStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []TargetStatus
	add := func(t Target, label string) {
		ts := TargetStatus{Target: t, Label: label}
		for _, tok := range w.st.tokensOf(t) {
			ts.Tokens++
			if tok.Broken != "" {
				ts.Broken = tok.Broken
			}
			for _, s := range tok.RemovedScopes {
				if !slices.Contains(ts.RemovedScopes, s) {
					ts.RemovedScopes = append(ts.RemovedScopes, s)
				}
			}
			ts.RateLimited = ts.RateLimited || tok.RateLimited
		}
		if t.Kind == TargetApp {
			ts.RateLimited = w.st.AppRateLimited
		}
		if tr := w.st.Transients[t.String()]; tr != nil {
			ts.TransientLeft, ts.TransientKind = tr.Left, tr.Kind
		}
		out = append(out, ts)
	}
	add(Target{Kind: TargetApp}, "Meta app "+w.appID)
	for _, u := range w.st.Users {
		add(Target{TargetFacebookUser, u.ID}, u.Name+" ("+u.Key+")")
	}
	for _, p := range w.st.Pages {
		add(Target{TargetPage, p.ID}, p.Name)
	}
	for _, a := range w.st.LINE {
		add(Target{TargetLINE, a.ChannelID}, a.DisplayName+" "+a.BasicID)
	}
	for _, n := range w.st.WhatsApp {
		add(Target{TargetWhatsApp, n.PhoneNumberID}, n.VerifiedName+" "+n.DisplayPhoneNumber)
	}
	return out
}
