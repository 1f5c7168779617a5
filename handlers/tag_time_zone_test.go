package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The tag page shows when a tag was applied in the team's time zone, like every other page.
func TestTagPageShowsTimesInTheTeamsZone(t *testing.T) {
	ta := newTagApp(t)
	ctx := context.Background()
	c := ta.mkt
	r := c.Submit("/tags", "/tags", url.Values{"name": {"VIP"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create tag: %d", r.Status)
	}
	tagPath := r.Header.Get("Location")
	if r = c.Submit(tagPath, tagPath+"/apply", url.Values{"contact_id": {itoa(ta.ming)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("apply: %d", r.Status)
	}
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	if _, err := ta.SQL().Exec(ctx, `UPDATE contact_tags SET applied_at = $1`, at); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.SQL().Exec(ctx, `UPDATE teams SET time_zone = 'America/New_York' WHERE id = $1`, ta.team.ID); err != nil {
		t.Fatal(err)
	}
	page := c.Get(tagPath)
	if !strings.Contains(page.Body, "2026-07-01 08:00") || strings.Contains(page.Body, "2026-07-01 20:00") {
		t.Fatalf("applied time is not in New York time (08:00):\n%s", page.Body)
	}
}
