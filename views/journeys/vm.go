// Package journeys renders the journey pages: the team's journeys, and one journey with its
// steps and its runs.
package journeys

import (
	"strconv"
	"strings"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// Problems are a form's field errors, already translated by the handler.
type Problems map[string]string

// Option is one choice in a picker.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// JourneyForm is what was typed in the journey form.
type JourneyForm struct {
	Name         string
	TriggerTagID string
	Enabled      bool
}

// ListVM is the journey list with the new-journey form.
type ListVM struct {
	Rows     []Row
	Tags     []Option
	Form     JourneyForm
	Problems Problems
}

// Row is one journey in the list.
type Row struct {
	ID      string
	Name    string
	Trigger string
	Steps   int
	Enabled bool
}

// NewList builds the list page.
func NewList(js []models.Journey, tags []models.Tag, form JourneyForm, problems Problems) ListVM {
	vm := ListVM{Form: form, Problems: problems}
	names := map[int64]string{}
	for _, t := range tags {
		names[t.ID] = t.Name
		vm.Tags = append(vm.Tags, Option{Value: idStr(t.ID), Label: t.Name, Selected: idStr(t.ID) == form.TriggerTagID})
	}
	for _, j := range js {
		r := Row{ID: idStr(j.ID), Name: j.Name, Steps: len(j.Steps), Enabled: j.Enabled}
		if j.TriggerTagID != nil {
			r.Trigger = names[*j.TriggerTagID]
		}
		vm.Rows = append(vm.Rows, r)
	}
	return vm
}

// StepForm is what was typed in the add-step form.
type StepForm struct {
	Kind      string
	Wait      string
	Unit      string
	ChannelID string
	Text      string
	ModuleID  string
	TagID     string
}

// DetailVM is one journey: its settings, steps and runs.
type DetailVM struct {
	ID       string
	Form     JourneyForm
	Tags     []Option
	Channels []Option
	Steps    []StepRow
	Step     StepForm
	Problems Problems
	Running  int64
	Done     int64
	Stopped  int64
	Runs     []RunRow
}

// StepRow is one step of the journey.
type StepRow struct {
	Index   int
	Kind    string
	Minutes int
	Channel string
	Text    string
	Module  string
	Tag     string
}

// RunRow is one contact's run.
type RunRow struct {
	ID        string
	Contact   string
	Status    string
	Step      int
	NextAt    string
	StartedAt string
	Steps     []RunStepRow
}

// RunStepRow is one recorded step of a run; Reason is an i18n key under journeys.skip and
// Detail what the platform or the sender said.
type RunStepRow struct {
	Step    int
	Kind    string
	Skipped bool
	Reason  string
	Detail  string
	At      string
}

// NewDetail builds the journey page.
func NewDetail(zone models.TimeZone, j *models.Journey, form JourneyForm, tags []models.Tag, channels []models.Channel, step StepForm, problems Problems,
	runs []store.JourneyRunView, steps []models.JourneyRunStep, counts map[models.RunStatus]int64) DetailVM {
	vm := DetailVM{ID: idStr(j.ID), Form: form, Step: step, Problems: problems,
		Running: counts[models.RunRunning], Done: counts[models.RunDone], Stopped: counts[models.RunStopped]}
	if vm.Step.Kind == "" {
		vm.Step.Kind = string(models.StepWait)
	}
	if vm.Step.Unit == "" {
		vm.Step.Unit = models.UnitMinutes
	}
	tagName := map[int64]string{}
	for _, t := range tags {
		tagName[t.ID] = t.Name
		vm.Tags = append(vm.Tags, Option{Value: idStr(t.ID), Label: t.Name, Selected: idStr(t.ID) == form.TriggerTagID || idStr(t.ID) == step.TagID})
	}
	chName := map[int64]string{}
	for _, ch := range channels {
		chName[ch.ID] = ch.DisplayName
		vm.Channels = append(vm.Channels, Option{Value: idStr(ch.ID), Label: string(ch.Platform) + " · " + ch.DisplayName, Selected: idStr(ch.ID) == step.ChannelID})
	}
	for i, s := range j.Steps {
		vm.Steps = append(vm.Steps, StepRow{Index: i, Kind: string(s.Kind), Minutes: s.Minutes, Channel: chName[s.ChannelID], Text: s.Text,
			Module: moduleLabel(s.ModuleID), Tag: tagName[s.TagID]})
	}
	byRun := map[int64][]RunStepRow{}
	for _, s := range steps {
		key, detail, _ := strings.Cut(s.Reason, "|")
		byRun[s.RunID] = append(byRun[s.RunID], RunStepRow{Step: s.Step + 1, Kind: string(s.Kind), Skipped: s.Outcome == models.StepSkipped,
			Reason: key, Detail: detail, At: zone.Format(s.At)})
	}
	for _, r := range runs {
		name := r.ContactName
		if name == "" {
			name = r.ExternalID
		}
		row := RunRow{ID: idStr(r.ID), Contact: name, Status: string(r.Status), Step: r.Step, StartedAt: zone.Format(r.StartedAt), Steps: byRun[r.ID]}
		if r.NextStepAt != nil && r.Status == models.RunRunning {
			row.NextAt = zone.Format(*r.NextStepAt)
		}
		vm.Runs = append(vm.Runs, row)
	}
	return vm
}

func moduleLabel(id int64) string {
	if id == 0 {
		return ""
	}
	return "#" + idStr(id)
}

// WaitLabel splits a wait into its largest whole unit, for display.
func WaitLabel(minutes int) (int, string) {
	switch {
	case minutes%(24*60) == 0:
		return minutes / (24 * 60), models.UnitDays
	case minutes%60 == 0:
		return minutes / 60, models.UnitHours
	}
	return minutes, models.UnitMinutes
}
