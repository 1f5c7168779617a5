package meta

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// bucRegainUnit is the unit of estimated_time_to_regain_access in
// X-Business-Use-Case-Usage. UNCONFIRMED: the docs show a bare number; minutes is the
// common reading.
const bucRegainUnit = time.Minute

// Usage summarises Meta's rate-limit headers for one response.
type Usage struct {
	// MaxPercent is the highest of call_count, total_cputime and total_time across
	// X-App-Usage and every X-Business-Use-Case-Usage entry; Meta throttles near 100.
	MaxPercent int
	// RegainAfter is how long Meta says access stays blocked; zero when not throttled.
	RegainAfter time.Duration
	// BusinessID is the business-use-case object (usually a Page or IG account) with the
	// highest usage, empty when only X-App-Usage was present.
	BusinessID string
}

type usageCounters struct {
	CallCount   flexInt `json:"call_count"`
	TotalCPU    flexInt `json:"total_cputime"`
	TotalTime   flexInt `json:"total_time"`
	RegainAfter flexInt `json:"estimated_time_to_regain_access"`
}

func (u usageCounters) max() int {
	m := max(int64(u.CallCount), int64(u.TotalCPU), int64(u.TotalTime), 0)
	return int(min(m, 1<<20)) // clamp absurd values so int arithmetic stays sane
}

// ParseUsage reads X-App-Usage and X-Business-Use-Case-Usage from h. ok is false when
// neither header is present or parseable.
func ParseUsage(h http.Header) (u Usage, ok bool) {
	if v := strings.TrimSpace(h.Get("X-App-Usage")); v != "" {
		var c usageCounters
		if json.Unmarshal([]byte(v), &c) == nil {
			u.MaxPercent = c.max()
			ok = true
		}
	}
	if v := strings.TrimSpace(h.Get("X-Business-Use-Case-Usage")); v != "" {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(v), &m) == nil {
			for id, raw := range m {
				raw = bytes.TrimSpace(raw)
				var list []usageCounters
				if len(raw) > 0 && raw[0] == '{' {
					// Some answers carry a single object instead of a list.
					var one usageCounters
					if json.Unmarshal(raw, &one) != nil {
						continue
					}
					list = []usageCounters{one}
				} else if json.Unmarshal(raw, &list) != nil {
					continue
				}
				ok = true
				for _, c := range list {
					if p := c.max(); p > u.MaxPercent || (p == u.MaxPercent && u.BusinessID == "") || (p == u.MaxPercent && id < u.BusinessID) {
						u.MaxPercent = p
						u.BusinessID = id
					}
					r := max(int64(c.RegainAfter), 0)
					// Cap at a day: anything longer is a garbled header, not a real wait.
					r = min(r, int64(24*time.Hour/bucRegainUnit))
					if d := time.Duration(r) * bucRegainUnit; d > u.RegainAfter {
						u.RegainAfter = d
					}
				}
			}
		}
	}
	return u, ok
}
