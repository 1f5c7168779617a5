package sandbox

import (
	"encoding/json"
	"net/http"
	"time"
)

// usageMeter counts Graph calls per token in a sliding window. It lives in memory only:
// usage is about the last hour, not something worth persisting. Guarded by World.mu.
type usageMeter struct {
	limit  int
	window time.Duration
	calls  map[string][]time.Time
}

func (u *usageMeter) prune(key string, now time.Time) []time.Time {
	calls := u.calls[key]
	cut := 0
	for cut < len(calls) && !calls[cut].After(now.Add(-u.window)) {
		cut++
	}
	if cut > 0 {
		calls = append([]time.Time(nil), calls[cut:]...)
		u.calls[key] = calls
	}
	return calls
}

func (u *usageMeter) record(key string, now time.Time) {
	u.calls[key] = append(u.prune(key, now), now)
}

// full reports whether the key has used its whole allowance.
func (u *usageMeter) full(key string, now time.Time) bool {
	return len(u.prune(key, now)) >= u.limit
}

// percent is the share of the allowance used, as Graph reports it in usage headers.
func (u *usageMeter) percent(key string, now time.Time) int {
	return len(u.prune(key, now)) * 100 / u.limit
}

// regainMinutes estimates when the oldest call leaves the window, once the key is full.
func (u *usageMeter) regainMinutes(key string, now time.Time) int {
	calls := u.prune(key, now)
	if len(calls) < u.limit {
		return 0
	}
	wait := calls[len(calls)-u.limit].Add(u.window).Sub(now)
	return int((wait + time.Minute - 1) / time.Minute)
}

// SetUsageLimit changes how many Graph calls a token may make per window before it is
// throttled, so a test can reach the throttle point in a few calls.
func (w *World) SetUsageLimit(limit int, window time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if limit > 0 {
		w.usage.limit = limit
	}
	if window > 0 {
		w.usage.window = window
	}
}

// Usage returns the share (in percent) of its allowance a token has used in the window.
func (w *World) Usage(accessToken string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.usage.percent(accessToken, w.now())
}

// usageKey is the counter a call is charged to: its token, or the app for calls made with
// the app token or without a token.
func usageKey(c *caller, appID string) string {
	if c != nil && c.tok != nil {
		return c.tok.Value
	}
	return "app:" + appID
}

// setUsageHeaders adds X-App-Usage to every Graph response and, for calls made with a Page
// or system-user token, X-Business-Use-Case-Usage keyed by the business object.
func (w *World) setUsageHeaders(h http.Header, c *caller, now time.Time) {
	key := usageKey(c, w.appID)
	pct := w.usage.percent(key, now)
	app, _ := json.Marshal(map[string]int{"call_count": pct, "total_cputime": pct / 2, "total_time": pct / 2})
	h.Set("X-App-Usage", string(app))
	if c == nil || c.tok == nil {
		return
	}
	var object, kind string
	switch c.tok.Kind {
	case kindPage:
		object, kind = c.tok.PageID, "pages"
		if c.bucType != "" {
			kind = c.bucType
		}
	case kindSystemUser:
		if n := w.st.whatsapp(c.tok.AccountID); n != nil {
			object, kind = n.WABAID, "whatsapp_business_management"
		}
	}
	if object == "" {
		return
	}
	buc, _ := json.Marshal(map[string][]map[string]any{object: {{
		"type": kind, "call_count": pct, "total_cputime": pct / 2, "total_time": pct / 2,
		"estimated_time_to_regain_access": w.usage.regainMinutes(key, now),
	}}})
	h.Set("X-Business-Use-Case-Usage", string(buc))
}

// throttleError is the Graph error for a token over its allowance: 4 for the app, 17 for a
// user, 32 for a Page (codes from the Graph error table).
func throttleError(c *caller) *graphError {
	e := &graphError{Status: 400, Code: 4, Message: "(#4) Application request limit reached", Transient: true}
	if c != nil && c.tok != nil {
		switch c.tok.Kind {
		case kindUser:
			e.Code, e.Message = 17, "(#17) User request limit reached"
		case kindPage:
			e.Code, e.Message = 32, "(#32) Page request limit reached"
		}
	}
	return e
}
