package handlers_test

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// The campaign list counts participants (a card clicked), successes and failures as the
// statistics page does (a participant not linked is a failure, "no reason" while open); another
// campaign's attempts do not count.
func TestCampaignListCountsParticipantsAndOutcomes(t *testing.T) {
	e := newLinkEnv(t)
	linked := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	clicked := e.cardLink(e.camp.ID, e.customer(e.ig, "yijun"))
	e.cardLink(e.camp.ID, e.customer(e.ig, "alice")) // sent, never clicked: not a participant
	for _, tok := range []string{linked, clicked} {
		if status, _, _ := e.get("/l/"+tok, uaIPhoneSafari); status >= 400 {
			t.Fatalf("click: %d", status)
		}
	}
	if a := e.post(map[string]any{"token": linked, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.Status != "linked" {
		t.Fatalf("link: %+v", a)
	}
	other := e.campaign(e.ig, e.wa)

	e.app.User(e.team.ID, models.RoleAdmin, "owner@bear.test")
	c := e.app.Client()
	c.Login("owner@bear.test", testutil.Password)
	page := c.Get("/campaigns")
	stats := func(id int64) []string {
		re := regexp.MustCompile(`(?s)href="/campaigns/` + strconv.FormatInt(id, 10) + `".*?<dd>(\d+)</dd>.*?<dd>(\d+)</dd>.*?<dd>(\d+)</dd>`)
		m := re.FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatalf("campaign %d has no statistics on the list:\n%s", id, page.Body)
		}
		return m[1:]
	}
	if got := stats(e.camp.ID); got[0] != "2" || got[1] != "1" || got[2] != "1" {
		t.Errorf("participants, successes, failures = %v, want 2 1 1", got)
	}
	figures := c.Get("/campaigns/" + strconv.FormatInt(e.camp.ID, 10) + "/stats")
	if !regexp.MustCompile(`id="fig-failures">1<`).MatchString(figures.Body) {
		t.Error("the statistics page counts the failures differently from the list")
	}
	if got := stats(other.ID); got[0] != "0" || got[1] != "0" {
		t.Errorf("the other campaign counts %v", got)
	}
}
