package models

import (
	"strings"
	"sync"
	"time"

	// The zone database is compiled in, so a container without /usr/share/zoneinfo still
	// shows every team its own time.
	_ "time/tzdata"
)

// TimeZone is a team's IANA time zone name; every time the console and its emails show is in it.
type TimeZone string

// DefaultTimeZone is the zone of a team that has not chosen one.
const DefaultTimeZone TimeZone = "Asia/Taipei"

// Time formats shared by every page, banner, list, detail and email.
const (
	timeLayout = "2006-01-02 15:04"
	dateLayout = "2006-01-02"
)

// PreferredTimeZones are offered first: where the console's users work, then UTC.
var PreferredTimeZones = []TimeZone{"Asia/Taipei", "Asia/Hong_Kong", "Asia/Macau", "Asia/Singapore", "Asia/Tokyo", "UTC"}

// OtherTimeZones are offered after the preferred ones, grouped by region.
var OtherTimeZones = []TimeZone{
	"Asia/Shanghai", "Asia/Seoul", "Asia/Manila", "Asia/Kuala_Lumpur", "Asia/Bangkok", "Asia/Ho_Chi_Minh",
	"Asia/Jakarta", "Asia/Kolkata", "Asia/Dubai", "Australia/Perth", "Australia/Sydney", "Pacific/Auckland",
	"Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam", "Europe/Madrid", "Europe/Moscow",
	"America/Vancouver", "America/Los_Angeles", "America/Denver", "America/Chicago", "America/Toronto",
	"America/New_York", "America/Sao_Paulo", "Pacific/Honolulu",
}

// Valid reports whether z names a zone in the IANA database. The empty name and "Local" are
// refused: they would mean the server's zone, which no team chose.
func (z TimeZone) Valid() bool {
	s := string(z)
	if s == "" || s == "Local" || len(s) > 64 || strings.TrimSpace(s) != s {
		return false
	}
	_, ok := loadZone(s)
	return ok
}

// OrDefault is z, or the default zone when z is not a valid zone.
func (z TimeZone) OrDefault() TimeZone {
	if z.Valid() {
		return z
	}
	return DefaultTimeZone
}

// Location is the zone for time arithmetic; an invalid name falls back to the default zone.
func (z TimeZone) Location() *time.Location {
	loc, ok := loadZone(string(z.OrDefault()))
	if !ok {
		return time.FixedZone("UTC+8", 8*60*60)
	}
	return loc
}

// zones keeps loaded zones: every time a page shows is formatted through Location, and loading
// a zone parses the zone database. Only valid names are kept, so the map stays small.
var zones sync.Map

func loadZone(name string) (*time.Location, bool) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), true
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	zones.Store(name, l)
	return l, true
}

// Format is the one way a moment is shown in the console: "2026-12-01 14:05" in the zone.
func (z TimeZone) Format(t time.Time) string { return t.In(z.Location()).Format(timeLayout) }

// FormatDate shows the day of t in the zone: "2026-12-01".
func (z TimeZone) FormatDate(t time.Time) string { return t.In(z.Location()).Format(dateLayout) }

// FormatZoned is Format with the zone named, for emails and anything read away from the
// console: "2026-12-01 14:05 (Asia/Taipei)".
func (z TimeZone) FormatZoned(t time.Time) string {
	return z.Format(t) + " (" + string(z.OrDefault()) + ")"
}

// TimeZoneChoices lists the zones a team may pick: the preferred ones, then the rest, with
// current added at the end when it is valid but not listed.
func TimeZoneChoices(current TimeZone) []TimeZone {
	out := append(append([]TimeZone{}, PreferredTimeZones...), OtherTimeZones...)
	for _, z := range out {
		if z == current {
			return out
		}
	}
	if current.Valid() {
		out = append(out, current)
	}
	return out
}
