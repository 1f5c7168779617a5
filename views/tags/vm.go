// Package tags renders the tag pages: the team's tags, and one tag with its contacts and rules.
package tags

import (
	"strconv"

	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// Problems are a form's field errors, already translated by the handler.
type Problems map[string]string

// ListVM is the tag list with the new-tag form.
type ListVM struct {
	Rows     []Row
	Name     string // what was typed in the new-tag form
	Problems Problems
}

// Row is one tag in the list.
type Row struct {
	ID       string
	Name     string
	Contacts int64
	Rules    int64
}

// NewList builds the list page.
func NewList(rows []models.TagRow, name string, problems Problems) ListVM {
	vm := ListVM{Name: name, Problems: problems}
	for _, r := range rows {
		vm.Rows = append(vm.Rows, Row{ID: idStr(r.ID), Name: r.Name, Contacts: r.Contacts, Rules: r.Rules})
	}
	return vm
}

// DetailVM is one tag: who carries it, the picker to apply it, and its rules.
type DetailVM struct {
	ID          string
	Name        string
	Contacts    []ContactRow
	Choices     []Option // contacts to apply the tag to
	Rules       []RuleRow
	Menus       []Option // "{channelID}:{menuID}" from LINE's lists
	Unavailable []string // LINE channels whose menus could not be listed
	Journeys    []Option
	Rule        RuleForm
	Problems    Problems
}

// ContactRow is a contact carrying the tag.
type ContactRow struct {
	ID        string
	Name      string
	Channel   string
	Platform  string
	Source    string // user, campaign or journey
	AppliedAt string
	Menu      string // LINE: pending, applied or failed; "" when never changed
	MenuError string
}

// Option is one choice in a picker.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// RuleRow is one of the tag's rules.
type RuleRow struct {
	ID          string
	Action      string
	Target      string // the journey's name, or channel · menu
	Priority    int
	MenuMissing bool
}

// RuleForm is what was typed in the new-rule form.
type RuleForm struct {
	Action    string
	JourneyID string
	Menu      string
	Priority  string
}

// NewDetail builds the tag page.
func NewDetail(zone models.TimeZone, tag *models.Tag, contacts []models.TaggedContact, choices []store.ContactChoice, rules []models.TagRule,
	menus []automation.MenuChoice, unavailable []models.Channel, journeys []models.Journey, channels []models.Channel, form RuleForm, problems Problems) DetailVM {
	vm := DetailVM{ID: idStr(tag.ID), Name: tag.Name, Rule: form, Problems: problems}
	if vm.Rule.Action == "" {
		vm.Rule.Action = string(models.RuleRichMenu)
	}
	for _, c := range contacts {
		name := c.Name
		if name == "" {
			name = c.ExternalID
		}
		vm.Contacts = append(vm.Contacts, ContactRow{ID: idStr(c.ContactID), Name: name, Channel: models.ChannelLabel(c.Platform, c.ChannelName), Platform: string(c.Platform),
			Source: string(c.Source), AppliedAt: zone.Format(c.AppliedAt), Menu: string(c.MenuStatus), MenuError: c.MenuError})
	}
	for _, c := range choices {
		name := c.Name
		if name == "" {
			name = c.ExternalID
		}
		vm.Choices = append(vm.Choices, Option{Value: idStr(c.ID), Label: name + " · " + models.ChannelLabel(c.Platform, c.ChannelName)})
	}
	chName := map[int64]string{}
	for _, ch := range channels {
		chName[ch.ID] = ch.DisplayName
	}
	jName := map[int64]string{}
	for _, j := range journeys {
		jName[j.ID] = j.Name
		v := idStr(j.ID)
		vm.Journeys = append(vm.Journeys, Option{Value: v, Label: j.Name, Selected: v == form.JourneyID})
	}
	for _, r := range rules {
		row := RuleRow{ID: idStr(r.ID), Action: string(r.Action), Priority: r.Priority, MenuMissing: r.MenuMissingAt != nil}
		if r.JourneyID != nil {
			row.Target = jName[*r.JourneyID]
		}
		if r.ChannelID != nil {
			row.Target = chName[*r.ChannelID] + " · " + r.RichMenuName
		}
		vm.Rules = append(vm.Rules, row)
	}
	for _, m := range menus {
		v := idStr(m.ChannelID) + ":" + m.Menu.RichMenuID
		vm.Menus = append(vm.Menus, Option{Value: v, Label: m.ChannelName + " · " + m.Menu.Name, Selected: v == form.Menu})
	}
	for _, ch := range unavailable {
		vm.Unavailable = append(vm.Unavailable, ch.DisplayName)
	}
	return vm
}
