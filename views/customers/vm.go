// Package customers renders the customer list and a customer's profile: identities, tags,
// timeline, reply box and merges.
package customers

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/identity"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/stats"
)

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// Problems are a form's field errors, already translated by the handler.
type Problems map[string]string

// Identity is one contact as a row or a profile shows it.
type Identity struct {
	ID          string
	Platform    string
	ChannelName string
	Name        string
	Picture     string
	ExternalID  string
	Friendship  string // LINE only: friend, blocked, unknown
	LastInbound string
	WindowOpen  bool
	Windowed    bool // the platform lets a business write only within 24 hours (not LINE)
}

// Tag is a tag on the customer.
type Tag struct {
	ID   string
	Name string
}

// ListVM is the customer list.
type ListVM struct {
	CanEdit    bool // may import member numbers
	Query      string
	Rows       []Row
	Total      int64
	Page       int
	Prev, Next string
}

// Row is one customer in the list.
type Row struct {
	ID           string
	Name         string
	MemberNo     string
	Identities   []Identity
	Tags         []Tag
	LastActivity string
}

// NewList builds the customer list.
func NewList(rows []identity.ListRow, total int64, q string, page int, zone string, canEdit bool) ListVM {
	vm := ListVM{CanEdit: canEdit, Query: q, Total: total, Page: max(page, 1)}
	for _, r := range rows {
		row := Row{ID: idStr(r.ID), Name: r.DisplayName, MemberNo: deref(r.MemberNo)}
		for _, c := range r.Contacts {
			row.Identities = append(row.Identities, newIdentity(c, zone, time.Now()))
		}
		row.Name = displayName(row.Name, row.Identities)
		for _, t := range r.Tags {
			row.Tags = append(row.Tags, Tag{ID: idStr(t.TagID), Name: t.Name})
		}
		if r.LastActivity != nil {
			row.LastActivity = stats.FormatTime(*r.LastActivity, zone)
		}
		vm.Rows = append(vm.Rows, row)
	}
	href := func(p int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if p > 1 {
			v.Set("page", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return "/customers"
		}
		return "/customers?" + v.Encode()
	}
	if vm.Page > 1 {
		vm.Prev = href(vm.Page - 1)
	}
	if int64(vm.Page*identity.CustomerPageSize) < total {
		vm.Next = href(vm.Page + 1)
	}
	return vm
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// displayName is a customer's name, or else an identity's name or platform id: a customer whose
// only identity is on Instagram (whose webhooks carry no name) still has something to click.
func displayName(name string, ids []Identity) string {
	if name != "" {
		return name
	}
	for _, id := range ids {
		if id.Name != "" {
			return id.Name
		}
	}
	for _, id := range ids {
		if id.ExternalID != "" {
			return id.ExternalID
		}
	}
	return name
}

func newIdentity(c store.CustomerContact, zone string, now time.Time) Identity {
	id := Identity{ID: idStr(c.ID), Platform: string(c.Platform), ChannelName: c.ChannelName, Name: c.Name, Picture: c.PictureURL,
		ExternalID: c.ExternalUserID, WindowOpen: c.InWindow(now), Windowed: c.Platform != models.LINE}
	if c.Platform == models.LINE {
		id.Friendship = string(c.LineFriendship)
		if id.Friendship == "" {
			id.Friendship = string(models.FriendshipUnknown)
		}
	}
	if c.LastInboundAt != nil {
		id.LastInbound = stats.FormatTime(*c.LastInboundAt, zone)
	}
	if !strings.HasPrefix(id.Picture, "https://") && !strings.HasPrefix(id.Picture, "/") {
		id.Picture = ""
	}
	return id
}

// ProfileVM is one customer's page.
type ProfileVM struct {
	ID         string
	Name       string
	MemberNo   string // as stored, or as typed after a refused edit
	Problems   Problems
	Identities []Identity
	Tags       []Tag
	TagChoices []Tag // the team's tags the customer does not have
	Timeline   []Event
	Merges     []Merge
	Reply      ReplyForm
	CanEdit    bool // member number, tags, merges and undo
}

// ReplyForm is the reply box as typed.
type ReplyForm struct {
	ContactID string
	Text      string
	Key       string // one send per submitted form
	Result    string // what became of the last reply (translated)
}

// Event is one line of the timeline.
type Event struct {
	Kind     string // in, out, card, click, linked, failed, tag, merge, undo
	At       string
	Channel  string // platform of the contact it happened on, if any
	Text     string
	Detail   string // i18n key or plain text, see DetailKey
	DetailIs string // "key" when Detail is an i18n key
	DetailID string // the key's {{.ID}}, if it has one
	Name     string // the campaign's name (card, click, linked, failed), or the actor's (merge, undo)
}

// Merge is one merge the customer took part in.
type Merge struct {
	ID         string
	At         string
	Survivor   string
	Absorbed   string
	SurvivorID string
	AbsorbedID string
	ActorKind  string // campaign or user
	ActorID    string
	ActorName  string // empty when the campaign was deleted or the member removed
	Contacts   int
	Undone     bool
	UndoneAt   string
}

// NewProfile builds a customer's page.
func NewProfile(p *identity.Profile, memberNo string, problems Problems, reply ReplyForm, zone string, canEdit bool) ProfileVM {
	vm := ProfileVM{ID: idStr(p.Customer.ID), Name: p.Customer.DisplayName, MemberNo: memberNo, Problems: problems, Reply: reply, CanEdit: canEdit}
	platform := map[int64]string{}
	now := time.Now()
	for _, c := range p.Contacts {
		vm.Identities = append(vm.Identities, newIdentity(c, zone, now))
		platform[c.ID] = string(c.Platform)
	}
	vm.Name = displayName(vm.Name, vm.Identities)
	if vm.Reply.ContactID == "" && len(vm.Identities) > 0 {
		vm.Reply.ContactID = vm.Identities[0].ID
	}
	has := map[int64]bool{}
	for _, t := range p.Tags {
		if !has[t.TagID] {
			vm.Tags = append(vm.Tags, Tag{ID: idStr(t.TagID), Name: t.Name})
		}
		has[t.TagID] = true
	}
	for _, t := range p.TeamTags {
		if !has[t.ID] {
			vm.TagChoices = append(vm.TagChoices, Tag{ID: idStr(t.ID), Name: t.Name})
		}
	}
	for _, it := range p.Timeline {
		ev := Event{Kind: it.Kind, At: stats.FormatTime(it.At, zone), Channel: platform[it.ContactID], Text: it.Text}
		switch it.Kind {
		case "failed":
			ev.Detail, ev.DetailIs = models.FailureReason(it.Detail).Key(), "key"
		case "card":
			ev.Detail, ev.DetailIs = "messaging.outcome."+it.Detail, "key"
		case "tag":
			ev.Detail, ev.DetailIs = "customers.tag_by_"+it.Detail, "key"
		case "click":
			if it.Detail == "mobile" || it.Detail == "desktop" {
				ev.Detail, ev.DetailIs = "stats.dim_"+it.Detail, "key"
			}
		case "merge", "undo":
			// The actor, "campaign:7" or "user:3", in words.
			if kind, id, _ := strings.Cut(it.Detail, ":"); kind == "campaign" || kind == "user" {
				ev.Detail, ev.DetailIs, ev.DetailID = "customers.merge_by_"+kind, "key", id
				ev.Name = actorName(p, kind, id)
			}
		}
		switch it.Kind {
		case "card", "click", "linked", "failed":
			ev.Name = actorName(p, "campaign", it.Text)
		}
		vm.Timeline = append(vm.Timeline, ev)
	}
	for _, m := range p.Merges {
		kind, id, _ := strings.Cut(m.Actor, ":")
		mv := Merge{ID: idStr(m.ID), At: stats.FormatTime(m.CreatedAt, zone), Survivor: m.SurvivorName, Absorbed: m.AbsorbedName,
			SurvivorID: idStr(m.SurvivorID), AbsorbedID: idStr(m.AbsorbedID), ActorKind: kind, ActorID: id, ActorName: actorName(p, kind, id),
			Undone: m.UndoneAt != nil}
		if list, ok := m.Snapshot["contacts"].([]any); ok {
			mv.Contacts = len(list)
		}
		if m.UndoneAt != nil {
			mv.UndoneAt = stats.FormatTime(*m.UndoneAt, zone)
		}
		vm.Merges = append(vm.Merges, mv)
	}
	return vm
}

// actorName names a campaign or member by id, or "" when it is gone.
func actorName(p *identity.Profile, kind, id string) string {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return ""
	}
	if kind == "campaign" {
		return p.CampaignNames[n]
	}
	return p.UserNames[n]
}

// MergeVM is the manual merge page: pick another customer, see the result, confirm.
type MergeVM struct {
	ID         string
	Name       string
	Query      string
	Candidates []Row
	With       string
	Preview    *PreviewVM
}

// PreviewVM is what the merge would give.
type PreviewVM struct {
	Survivor   string
	Absorbed   string
	MemberNo   string
	Identities []Identity
	Tags       []Tag
	Refusal    string // translated reason the rules refuse it; empty when it may go ahead
	HeldBy     string // the contact holding a clashing channel
}

// NewMerge builds the manual merge page; refusal is already translated.
func NewMerge(self *identity.Profile, candidates []identity.ListRow, q string, with int64, p *identity.MergePreview, refusal, zone string) MergeVM {
	vm := MergeVM{ID: idStr(self.Customer.ID), Name: self.Customer.DisplayName, Query: q}
	for _, r := range NewList(candidates, 0, q, 1, zone, false).Rows {
		if r.ID != vm.ID {
			vm.Candidates = append(vm.Candidates, r)
		}
	}
	if p == nil {
		return vm
	}
	vm.With = idStr(with)
	pv := &PreviewVM{Survivor: p.Survivor.DisplayName, Absorbed: p.Absorbed.DisplayName, MemberNo: deref(p.MemberNo), Refusal: refusal}
	now := time.Now()
	for _, c := range p.Contacts {
		pv.Identities = append(pv.Identities, newIdentity(c, zone, now))
	}
	for _, t := range p.Tags {
		pv.Tags = append(pv.Tags, Tag{ID: idStr(t.TagID), Name: t.Name})
	}
	if p.HeldBy != nil {
		pv.HeldBy = p.HeldBy.Name + " (" + p.HeldBy.ExternalUserID + ")"
	}
	vm.Preview = pv
	return vm
}

// ImportVM is the member-number import page with the report of the last file.
type ImportVM struct {
	Error    string // the file could not be read at all (translated)
	Done     bool
	Applied  int
	Refused  int
	Rows     []ImportRow
	Channels []string // the names a file may use for the team's channels
}

// ImportRow is one line of the report.
type ImportRow struct {
	Line       string
	Channel    string
	ExternalID string
	MemberNo   string
	Applied    bool
	Key        string // i18n key of the outcome
	Detail     string
}

// NewImport builds the import page; rows is nil before a file was sent.
func NewImport(rows []identity.ImportRow, errMsg string, chans []models.Channel) ImportVM {
	vm := ImportVM{Error: errMsg, Done: rows != nil}
	for _, c := range chans {
		vm.Channels = append(vm.Channels, c.DisplayName+" ("+string(c.Platform)+", "+c.ExternalID+")")
	}
	for _, r := range rows {
		if r.Applied() {
			vm.Applied++
		} else {
			vm.Refused++
		}
		vm.Rows = append(vm.Rows, ImportRow{Line: strconv.Itoa(r.Line), Channel: r.Channel, ExternalID: r.ExternalID, MemberNo: r.MemberNo,
			Applied: r.Applied(), Key: "customers.import_" + string(r.Outcome), Detail: r.Detail})
	}
	return vm
}
