// Package campaigns renders the OmniLink campaign pages: the list, the create/edit form with
// its live previews, and a campaign's history.
package campaigns

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/layout"
)

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// MediaURL is where an image blob is served.
func MediaURL(hash, mime string) string { return "/media/" + hash + "." + models.MimeExt(mime) }

// ---- list ----

// ListVM is the campaign list page.
type ListVM struct {
	Rows      []Row
	Total     int64 // campaigns the team has at all (0: first-time empty state)
	Query     string
	Status    string
	Channel   string
	Channels  []ChannelOption
	CanTarget bool // the team has a LINE channel with LIFF or a WhatsApp number
}

// Filtered reports whether a search or filter is applied.
func (l ListVM) Filtered() bool { return l.Query != "" || l.Status != "" || l.Channel != "" }

// Row is one campaign in the list.
type Row struct {
	ID                         int64
	Name                       string
	Enabled                    bool
	SourcePlatform, SourceName string
	TargetPlatform, TargetName string
	SourceBroken, TargetBroken bool
	CreatedBy                  string
	UpdatedAt                  string
	Participants, Successes    int
	Failures                   int
}

// NewList builds the list page from the team's campaigns and channels.
func NewList(p *layout.Page, rows []models.CampaignRow, total int64, channels []models.Channel, query, status, channel string) ListVM {
	vm := ListVM{Total: total, Query: query, Status: status, Channel: channel}
	for _, r := range rows {
		vm.Rows = append(vm.Rows, Row{ID: r.ID, Name: r.Name, Enabled: r.Status == models.CampaignEnabled,
			SourcePlatform: string(r.SourcePlatform), SourceName: r.SourceName, SourceBroken: r.SourceStatus != models.ChannelActive,
			TargetPlatform: string(r.TargetPlatform), TargetName: r.TargetName, TargetBroken: r.TargetStatus != models.ChannelActive,
			CreatedBy: r.CreatorName, UpdatedAt: p.Time(r.UpdatedAt),
			Participants: r.Participants, Successes: r.Successes, Failures: r.Failures})
	}
	for _, ch := range channels {
		vm.Channels = append(vm.Channels, ChannelOption{ID: idStr(ch.ID), Platform: string(ch.Platform), Name: ch.DisplayName, Selected: idStr(ch.ID) == channel})
		if (ch.Platform == models.LINE && ch.Settings.LiffID != "" && ch.Settings.LoginChannelID != "") || ch.Platform == models.WhatsApp {
			vm.CanTarget = true
		}
	}
	return vm
}

// ---- form ----

// ChannelOption is one channel in a picker.
type ChannelOption struct {
	ID       string
	Platform string
	Name     string
	Broken   bool
	Disabled bool // Facebook and Instagram as targets
	Selected bool
}

// TagOption is one tag checkbox.
type TagOption struct {
	ID      string
	Name    string
	Checked bool
}

// ModuleOption is one bot module in a picker; modules of another platform than the side's
// channel are hidden (the page script re-filters when the channel changes).
type ModuleOption struct {
	ID       string
	Name     string
	Platform string
	Selected bool
	Hidden   bool
}

// ActionVM is one success or failure message picker.
type ActionVM struct {
	Field     string // success_source, success_target, failure_source
	Kind      string
	Text      string
	AllowNone bool
	Side      string // source or target: which channel's modules apply
	Platform  string // that channel's platform, when chosen
	Modules   []ModuleOption
	Counter   Counter
}

// Counter is a text's length against its limit.
type Counter struct {
	N, Max int
}

// Over reports whether the text is too long.
func (c Counter) Over() bool { return c.Max > 0 && c.N > c.Max }

// ImageVM is the uploaded card image.
type ImageVM struct {
	MediaID   string
	CardURL   string
	SquareURL string
	Width     int
	Height    int
}

// FormVM is the create/edit page.
type FormVM struct {
	ID           int64
	Action       string
	Version      int
	Name         string
	Enabled      bool
	SourceID     string
	TargetID     string
	Image        *ImageVM
	Title        string
	Text         string
	Button       string
	WAMessage    string
	Actions      []ActionVM // success source, success target, failure source
	TagsSource   []TagOption
	TagsTarget   []TagOption
	NewTagSource string
	NewTagTarget string
	TokenTTL     string
	Sources      []ChannelOption
	Targets      []ChannelOption
	Errors       map[string]string
	TargetFixURL string // the target channel's settings, when its LIFF setup is missing
	Warnings     []string
	Counters     map[string]Counter
	Stale        *StaleVM
	Preview      PreviewVM
	HasErrors    bool
}

// Err is the message for a field, or "".
func (f FormVM) Err(field string) string { return f.Errors[field] }

// ShowWA reports whether the WhatsApp integration message applies (WhatsApp target).
func (f FormVM) ShowWA() bool { return f.Preview.TargetPlatform == string(models.WhatsApp) }

// StaleVM tells a marketer that someone else saved the campaign while they were editing.
type StaleVM struct {
	Saves []HistoryEntry
}

// PreviewVM is the card as the source platform will show it, and the messages around it.
type PreviewVM struct {
	SourcePlatform string
	TargetPlatform string
	SourceName     string
	TargetName     string
	ImageURL       string
	Cropped        bool // Facebook and Instagram show the 1:1 centre crop
	Title          string
	Text           string
	Button         string
	WADraft        string
	SuccessSource  string
	SuccessTarget  string
	FailureSource  string
}

// FormData is everything the form is built from.
type FormData struct {
	ID         int64
	Input      models.CampaignInput
	Facts      models.CampaignFacts
	Media      *models.Media
	Channels   []models.Channel
	Tags       []models.Tag
	Modules    []models.ModuleRef
	Problems   models.FieldProblems
	Warnings   []models.FieldProblem
	Stale      []models.AuditRow
	ShowErrors bool // false on a fresh page: no "required" errors before anything was typed
}

// NewForm builds the form page, translating problems in the page's language.
func NewForm(p *layout.Page, d FormData) FormVM {
	in := d.Input
	f := FormVM{ID: d.ID, Version: in.Version, Name: in.Name, Enabled: in.Status != models.CampaignDisabled,
		SourceID: optID(in.SourceChannelID), TargetID: optID(in.TargetChannelID), Title: in.Title, Text: in.Text, Button: in.Button,
		WAMessage: in.WAMessage, NewTagSource: in.NewTagSource, NewTagTarget: in.NewTagTarget, TokenTTL: strconv.Itoa(in.TokenTTLDays),
		Errors: map[string]string{}, Counters: map[string]Counter{}}
	f.Action = "/campaigns"
	if d.ID != 0 {
		f.Action = "/campaigns/" + idStr(d.ID)
	}
	for _, ch := range d.Channels {
		f.Sources = append(f.Sources, ChannelOption{ID: idStr(ch.ID), Platform: string(ch.Platform), Name: ch.DisplayName, Broken: ch.Broken(), Selected: ch.ID == in.SourceChannelID})
		f.Targets = append(f.Targets, ChannelOption{ID: idStr(ch.ID), Platform: string(ch.Platform), Name: ch.DisplayName, Broken: ch.Broken(),
			Disabled: !ch.Platform.CanBeTarget(), Selected: ch.ID == in.TargetChannelID})
	}
	src, tgt := models.Platform(""), models.Platform("")
	if d.Facts.Source != nil {
		src = d.Facts.Source.Platform
		f.Preview.SourceName = d.Facts.Source.DisplayName
	}
	if d.Facts.Target != nil {
		tgt = d.Facts.Target.Platform
		f.Preview.TargetName = d.Facts.Target.DisplayName
	}
	f.Preview.SourcePlatform, f.Preview.TargetPlatform = string(src), string(tgt)
	// Image.
	if d.Media != nil {
		f.Image = &ImageVM{MediaID: idStr(d.Media.ID), CardURL: MediaURL(d.Media.CardHash, d.Media.Mime),
			SquareURL: MediaURL(d.Media.SquareHash, d.Media.Mime), Width: d.Media.SourceWidth, Height: d.Media.SourceHeight}
		f.Preview.ImageURL = f.Image.CardURL
		if src == models.Facebook || src == models.Instagram {
			f.Preview.ImageURL, f.Preview.Cropped = f.Image.SquareURL, d.Media.SourceWidth != d.Media.SourceHeight
		}
	}
	// Texts and their counters against the source platform's limits.
	lim := models.PlatformLimits[src]
	f.Counters["title"] = Counter{models.Length(in.Title), lim.Title}
	f.Counters["text"] = Counter{models.Length(in.Text), lim.Text}
	if lim.Body > 0 {
		f.Counters["text"] = Counter{models.Length(models.WABody(in.Title, in.Text)), lim.Body}
	}
	f.Counters["button"] = Counter{models.Length(in.Button), lim.Button}
	f.Counters["wa_message"] = Counter{models.Length(in.WAMessage), models.WAMessageMax}
	f.Preview.Title, f.Preview.Text, f.Preview.Button = in.Title, in.Text, in.Button
	if tgt == models.WhatsApp {
		f.Preview.WADraft = models.WADraft(in.WAMessage, models.WASampleCode)
	}
	// Messages.
	for _, a := range []struct {
		field string
		act   models.Action
		none  bool
		side  string
		pf    models.Platform
		prev  *string
	}{
		{"success_source", in.SuccessSource, true, "source", src, &f.Preview.SuccessSource},
		{"success_target", in.SuccessTarget, false, "target", tgt, &f.Preview.SuccessTarget},
		{"failure_source", in.FailureSource, true, "source", src, &f.Preview.FailureSource},
	} {
		vm := ActionVM{Field: a.field, Kind: string(a.act.Kind), Text: a.act.Text, AllowNone: a.none, Side: a.side, Platform: string(a.pf),
			Counter: Counter{models.Length(a.act.Text), models.PlatformLimits[a.pf].Message}}
		if vm.Kind == "" {
			vm.Kind = string(models.ActionText)
		}
		for _, m := range d.Modules {
			vm.Modules = append(vm.Modules, ModuleOption{ID: idStr(m.ID), Name: m.Name, Platform: string(m.Platform),
				Selected: a.act.ModuleID != nil && *a.act.ModuleID == m.ID, Hidden: m.Platform != a.pf})
		}
		if a.act.Kind == models.ActionText {
			*a.prev = a.act.Text
		}
		f.Actions = append(f.Actions, vm)
	}
	// Tags.
	for _, t := range d.Tags {
		f.TagsSource = append(f.TagsSource, TagOption{ID: idStr(t.ID), Name: t.Name, Checked: contains(in.TagsSource, t.ID)})
		f.TagsTarget = append(f.TagsTarget, TagOption{ID: idStr(t.ID), Name: t.Name, Checked: contains(in.TagsTarget, t.ID)})
	}
	// Problems and warnings.
	if d.ShowErrors {
		for field, pr := range d.Problems {
			f.Errors[field] = p.Loc.TMap(pr.Key, pr.Args)
			f.HasErrors = true
		}
		if d.Problems["target"].Key == "campaigns.error_target_liff" && d.Facts.Target != nil {
			f.TargetFixURL = "/channels/" + idStr(d.Facts.Target.ID)
		}
	}
	for _, w := range d.Warnings {
		f.Warnings = append(f.Warnings, p.Loc.TMap(w.Key, w.Args))
	}
	if len(d.Stale) > 0 {
		f.Stale = &StaleVM{Saves: NewHistory(p, d.Stale, NewNames(d.Channels, d.Tags))}
	}
	return f
}

func optID(id int64) string {
	if id == 0 {
		return ""
	}
	return idStr(id)
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// ---- history ----

// HistoryEntry is one audit entry of a campaign.
type HistoryEntry struct {
	When    string
	Who     string
	Action  string
	Changes []Change
	Note    string // a platform's or the server's own words about an activity entry
}

// Change is one field's old and new value.
type Change struct {
	Field    string
	Old, New string
}

// Names turns the ids an audit entry records into what people recognise.
type Names struct {
	Channels map[int64]string
	Tags     map[int64]string
}

// NewNames indexes a team's channels and tags by id.
func NewNames(channels []models.Channel, tags []models.Tag) Names {
	n := Names{Channels: map[int64]string{}, Tags: map[int64]string{}}
	for _, c := range channels {
		// Two channels of one business often share its name; the platform tells them apart.
		n.Channels[c.ID] = models.ChannelLabel(c.Platform, c.DisplayName)
	}
	for _, t := range tags {
		n.Tags[t.ID] = t.Name
	}
	return n
}

// value shows a recorded value of a field in words: names for ids, the status and the outcome
// actions translated, an empty or zero value (a field before the campaign existed) as nothing.
func (n Names) value(p *layout.Page, field, v string) string {
	switch field {
	case "status":
		if v == string(models.CampaignEnabled) || v == string(models.CampaignDisabled) {
			return p.T("campaigns.status_" + v)
		}
	case "success_source", "success_target", "failure_source":
		switch {
		case v == string(models.ActionNone) || v == "":
			return p.T("campaigns.history_no_message")
		case strings.HasPrefix(v, "text: "):
			return strings.TrimPrefix(v, "text: ")
		case strings.HasPrefix(v, "module: "):
			return p.T("campaigns.history_module", "ID", strings.TrimPrefix(v, "module: "))
		}
	case "image":
		if v == "" {
			return p.T("campaigns.history_no_image")
		}
		return p.T("campaigns.history_image", "ID", v)
	case "token_ttl":
		if v == "0" {
			return ""
		}
	}
	return n.name(field, v)
}

// name shows a recorded id, or list of ids, by name.
func (n Names) name(field, v string) string {
	lookup := func(m map[int64]string, s string) string {
		id, err := strconv.ParseInt(s, 10, 64)
		if name, ok := m[id]; err == nil && ok {
			return name
		}
		return s
	}
	switch field {
	case "source", "target":
		return lookup(n.Channels, v)
	case "tags_source", "tags_target":
		var out []string
		for _, s := range strings.Fields(strings.Trim(v, "[]")) {
			out = append(out, lookup(n.Tags, s))
		}
		return strings.Join(out, "、")
	}
	return v
}

// formOrder is the campaign form's order of fields, which the history follows.
var formOrder = []string{"name", "status", "source", "target", "image", "title", "text", "button", "wa_message",
	"success_target", "success_source", "failure_source", "tags_source", "tags_target", "token_ttl"}

func formRank(field string) int {
	for i, f := range formOrder {
		if f == field {
			return i
		}
	}
	return len(formOrder)
}

// NewHistory translates audit rows into history entries.
func NewHistory(p *layout.Page, rows []models.AuditRow, names Names) []HistoryEntry {
	var out []HistoryEntry
	for _, r := range rows {
		if r.Action == "campaign.activity" {
			out = append(out, activityEntry(p, r))
			continue
		}
		e := HistoryEntry{When: p.Time(r.CreatedAt), Who: r.ActorName, Action: p.T("campaigns.audit_" + actionKey(r.Action))}
		if e.Who == "" {
			e.Who = p.T("campaigns.audit_someone")
		}
		changes, _ := r.Detail["changes"].(map[string]any)
		fields := make([]string, 0, len(changes))
		for k := range changes {
			fields = append(fields, k)
		}
		sort.Slice(fields, func(i, j int) bool {
			a, b := formRank(fields[i]), formRank(fields[j])
			return a < b || a == b && fields[i] < fields[j]
		})
		for _, k := range fields {
			c := Change{Field: p.T("campaigns.field_" + k)}
			switch k {
			case "success_source", "success_target", "failure_source", "tags_source", "tags_target":
				// The form's labels for these lean on their section's heading; alone they need its words.
				c.Field = p.T("campaigns.activity_what_" + k)
			}
			if pair, ok := changes[k].([]any); ok && len(pair) == 2 {
				c.Old, c.New = names.value(p, k, fmt.Sprint(pair[0])), names.value(p, k, fmt.Sprint(pair[1]))
				if r.Action == "campaign.create" {
					c.Old = "" // nothing came before
				}
			}
			e.Changes = append(e.Changes, c)
		}
		out = append(out, e)
	}
	return out
}

// activityWhats and activityOutcomes are the activity log's words with a translation; others
// (written by older versions) show as a generic line.
var (
	activityWhats    = []string{"success_target", "success_source", "failure_source", "tags_source", "tags_target", "link"}
	activityOutcomes = []string{"skipped", "send_failed", "tags_not_applied", "tags_failed", "linked", string(models.SendSkippedWindow),
		string(models.SendSkippedBlocked), string(models.SendSkippedBrokenChannel), string(models.SendFailedRecipient),
		string(models.SendFailedBrokenChannel), string(models.SendFailedPermanent)}
)

// activityEntry is what the campaign did by itself and could not do as configured: an outcome
// message not sent, tags not applied.
func activityEntry(p *layout.Page, r models.AuditRow) HistoryEntry {
	what, _ := r.Detail["what"].(string)
	outcome, _ := r.Detail["outcome"].(string)
	note, _ := r.Detail["detail"].(string)
	if !slices.Contains(activityWhats, what) {
		what = "other"
	}
	if !slices.Contains(activityOutcomes, outcome) {
		outcome = "other"
	}
	return HistoryEntry{When: p.Time(r.CreatedAt), Who: p.T("campaigns.activity_by"), Note: note,
		Action: p.T("campaigns.activity_line", "What", p.T("campaigns.activity_what_"+what), "Outcome", p.T("campaigns.activity_outcome_"+outcome))}
}

func actionKey(action string) string {
	switch action {
	case "campaign.create", "campaign.update", "campaign.enabled", "campaign.disabled", "campaign.duplicate", "campaign.delete",
		"campaign.card_sent":
		return action[len("campaign."):]
	}
	return "update"
}

func itoa(n int) string { return strconv.Itoa(n) }
