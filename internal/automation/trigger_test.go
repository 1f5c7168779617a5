package automation

import (
	"testing"

	"github.com/omnilink/omnilink/models"
)

func TestNormalizeFoldsWidthCaseAndSpace(t *testing.T) {
	for in, want := range map[string]string{
		"ＬＩＮＫ":        "link",
		"  Link  Me ": "link me",
		"綁定":          "綁定",
		"ｶﾀｶﾅ":        "カタカナ",
		"ＡＢＣ１２３":      "abc123",
		"Straße":      "strasse",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchPrefersExactThenLongestContainsThenNoMatch(t *testing.T) {
	list := []models.Trigger{
		{ID: 1, Kind: models.TriggerContains, Normalized: "綁定", ModuleID: 10},
		{ID: 2, Kind: models.TriggerContains, Normalized: "綁定會員", ModuleID: 20},
		{ID: 3, Kind: models.TriggerExact, Normalized: "link", ModuleID: 30},
		{ID: 4, Kind: models.TriggerNoMatch, ModuleID: 40},
		{ID: 5, Kind: models.TriggerPostback, Normalized: "MENU", ModuleID: 50},
	}
	for _, c := range []struct {
		in   Inbound
		want int64
	}{
		{Inbound{Text: "ＬＩＮＫ"}, 30},
		{Inbound{Text: "link me"}, 40},
		{Inbound{Text: "我要綁定會員"}, 20},
		{Inbound{Text: "綁定"}, 10},
		{Inbound{Text: "   "}, 0},
		{Inbound{Payload: "MENU"}, 50},
		{Inbound{Payload: "menu"}, 0},
		{Inbound{Payload: "module:77"}, 77},
		{Inbound{Payload: "module:077"}, 0},
	} {
		if got, _ := match(list, c.in); got != c.want {
			t.Errorf("match(%+v) = %d, want %d", c.in, got, c.want)
		}
	}
	if got, _ := match(list[:3], Inbound{Text: "hello"}); got != 0 {
		t.Errorf("no default answer unless set: got %d", got)
	}
}
