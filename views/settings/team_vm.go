package settings

import (
	"time"

	"github.com/omnilink/omnilink/models"
)

// TeamForm is the team settings form: what the admin typed, and what was wrong with it.
type TeamForm struct {
	Name     string
	TimeZone string
	Errors   map[string]string // by field name, already translated
}

// ZoneOption is one choice of the time zone menu.
type ZoneOption struct {
	Value    string
	Label    string // the zone and its current offset, "Asia/Taipei (UTC+08:00)"
	Selected bool
}

// TeamVM is the team settings page.
type TeamVM struct {
	Form      TeamForm
	Preferred []ZoneOption
	Others    []ZoneOption
	Example   string // the current time, as every page will show it
}

// NewTeamVM builds the page for a form at time now; the zone menu lists the zones people in
// Taiwan and Hong Kong pick first, then the rest, and keeps an unlisted current choice.
func NewTeamVM(f TeamForm, now time.Time) TeamVM {
	vm := TeamVM{Form: f, Example: models.TimeZone(f.TimeZone).FormatZoned(now)}
	preferred := map[models.TimeZone]bool{}
	for _, z := range models.PreferredTimeZones {
		preferred[z] = true
	}
	for _, z := range models.TimeZoneChoices(models.TimeZone(f.TimeZone)) {
		o := ZoneOption{Value: string(z), Label: zoneLabel(z, now), Selected: string(z) == f.TimeZone}
		if preferred[z] {
			vm.Preferred = append(vm.Preferred, o)
		} else {
			vm.Others = append(vm.Others, o)
		}
	}
	return vm
}

func zoneLabel(z models.TimeZone, now time.Time) string {
	return string(z) + " (UTC" + now.In(z.Location()).Format("-07:00") + ")"
}
