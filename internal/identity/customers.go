package identity

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Sender is the one outbound path (messaging.Service).
type Sender interface {
	Send(ctx context.Context, tx *store.Store, req messaging.SendRequest) (messaging.Result, error)
}

// TagWriter puts tags on and off contacts, running their rules (automation.Tags).
type TagWriter interface {
	Apply(ctx context.Context, actor *models.User, contactID, tagID int64) error
	Remove(ctx context.Context, actor *models.User, contactID, tagID int64) error
}

// Notifier wakes the outbox after a commit.
type Notifier interface{ Notify() }

// Customers is the console's view of customers: list, profile, member numbers, tags, replies,
// merges and their undo.
type Customers struct {
	st     *store.Store
	send   Sender
	tags   TagWriter
	notify Notifier
	events Events
	now    func() time.Time
}

// Events hears about links, merges and undos after they commit (the outbound webhook); nil
// means nobody listens.
type Events interface {
	MergeEvent(ctx context.Context, tx *store.Store, kind string, teamID, mergeID int64, at time.Time) error
}

// CustomersDeps are what the customer service is built from.
type CustomersDeps struct {
	Store  *store.Store
	Sender Sender
	Tags   TagWriter
	Notify Notifier
	Events Events
	Now    func() time.Time
}

// NewCustomers builds the customer service.
func NewCustomers(d CustomersDeps) *Customers {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return &Customers{st: d.Store, send: d.Sender, tags: d.Tags, notify: d.Notify, events: d.Events, now: now}
}

// CustomerPageSize is how many customers the list shows per page.
const CustomerPageSize = 50

// ListRow is a customer with its identities and tags, for the list.
type ListRow struct {
	store.CustomerRow
	Contacts []store.CustomerContact
	Tags     []store.CustomerTag
}

// List pages the team's live customers matching q.
func (s *Customers) List(ctx context.Context, teamID int64, q string, page int) ([]ListRow, int64, error) {
	rows, total, err := s.st.TeamCustomers(ctx, teamID, q, (max(page, 1)-1)*CustomerPageSize, CustomerPageSize)
	if err != nil {
		return nil, 0, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	contacts, err := s.st.TeamCustomersContacts(ctx, teamID, ids)
	if err != nil {
		return nil, 0, err
	}
	tags, err := s.st.TeamCustomersTags(ctx, teamID, ids)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ListRow, len(rows))
	at := map[int64]int{}
	for i, r := range rows {
		out[i].CustomerRow = r
		at[r.ID] = i
	}
	for _, c := range contacts {
		if c.CustomerID != nil {
			out[at[*c.CustomerID]].Contacts = append(out[at[*c.CustomerID]].Contacts, c)
		}
	}
	for _, t := range tags {
		row := &out[at[t.CustomerID]]
		if n := len(row.Tags); n == 0 || row.Tags[n-1].TagID != t.TagID {
			row.Tags = append(row.Tags, t)
		}
	}
	return out, total, nil
}

// Profile is everything a customer's page shows.
type Profile struct {
	Customer *models.Customer
	Contacts []store.CustomerContact
	Tags     []store.CustomerTag
	TeamTags []models.Tag
	Timeline []store.TimelineItem
	Merges   []store.MergeRow
	// CampaignNames and UserNames name the campaigns and members the timeline and merges
	// refer to by id; a deleted campaign or removed member is missing.
	CampaignNames map[int64]string
	UserNames     map[int64]string
}

// MovedError is a customer that was merged into another: its page moves there.
type MovedError struct{ To int64 }

// Error says where the customer went, for logs.
func (e *MovedError) Error() string {
	return "identity: customer merged into " + strconv.FormatInt(e.To, 10)
}

// Profile loads one of the team's customers; an absorbed one answers *MovedError.
func (s *Customers) Profile(ctx context.Context, teamID, id int64) (*Profile, error) {
	cu, err := s.st.TeamCustomer(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	if cu.MergedInto != nil {
		return nil, &MovedError{To: *cu.MergedInto}
	}
	p := &Profile{Customer: cu}
	if p.Contacts, err = s.st.TeamCustomersContacts(ctx, teamID, []int64{id}); err != nil {
		return nil, err
	}
	if p.Tags, err = s.st.TeamCustomersTags(ctx, teamID, []int64{id}); err != nil {
		return nil, err
	}
	if p.TeamTags, err = s.st.TeamTags(ctx, teamID); err != nil {
		return nil, err
	}
	if p.Timeline, err = s.st.TeamCustomerTimeline(ctx, teamID, id, 200); err != nil {
		return nil, err
	}
	if p.Merges, err = s.st.TeamCustomerMerges(ctx, teamID, id); err != nil {
		return nil, err
	}
	var campaigns []int64
	users := false
	actor := func(a string) {
		kind, v, _ := strings.Cut(a, ":")
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && kind == "campaign" {
			campaigns = append(campaigns, n)
		}
		users = users || kind == "user"
	}
	for _, it := range p.Timeline {
		switch it.Kind {
		case "card", "click", "linked", "failed":
			if n, err := strconv.ParseInt(it.Text, 10, 64); err == nil {
				campaigns = append(campaigns, n)
			}
		case "merge", "undo":
			actor(it.Detail)
		}
	}
	for _, m := range p.Merges {
		actor(m.Actor)
	}
	if p.CampaignNames, err = s.st.TeamCampaignNames(ctx, teamID, campaigns); err != nil {
		return nil, err
	}
	p.UserNames = map[int64]string{}
	if users {
		members, err := s.st.TeamUsers(ctx, teamID)
		if err != nil {
			return nil, err
		}
		for _, u := range members {
			p.UserNames[u.ID] = cmp.Or(u.Name, u.Email)
		}
	}
	return p, nil
}

// Member-number errors, shown on the field.
var (
	ErrMemberNoTaken   = apperr.Conflict("member_no", "customers.error_member_taken")
	ErrMemberNoInvalid = apperr.Invalid("member_no", "customers.error_member_invalid")
)

// MaxMemberNo is the longest member number accepted, in characters.
const MaxMemberNo = 64

// CleanMemberNo trims a member number and checks it; empty means "none".
func CleanMemberNo(v string) (*string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxMemberNo || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, ErrMemberNoInvalid
	}
	return &v, nil
}

// SetMemberNo changes a live customer's member number (unique per team), audited.
func (s *Customers) SetMemberNo(ctx context.Context, actor *models.User, id int64, value string) error {
	no, err := CleanMemberNo(value)
	if err != nil {
		return err
	}
	now := s.now()
	return s.st.WithTx(ctx, func(tx *store.Store) error {
		cu, err := tx.TeamCustomer(ctx, actor.TeamID, id)
		if err != nil {
			return err
		}
		if cu.MergedInto != nil {
			return store.ErrNotFound
		}
		err = tx.SetTeamCustomerMemberNo(ctx, actor.TeamID, id, no, now)
		if errors.Is(err, store.ErrMemberNoTaken) {
			return ErrMemberNoTaken
		}
		if err != nil {
			return err
		}
		return tx.AddAudit(ctx, &models.AuditEntry{TeamID: actor.TeamID, ActorUserID: &actor.ID, Action: "customer.member_no",
			Target: "customer:" + strconv.FormatInt(id, 10), Detail: models.JSONMap{"from": cu.MemberNo, "to": no}, CreatedAt: now})
	})
}

// contactsOf lists the live customer's contact ids; another team's or an absorbed customer is not found.
func (s *Customers) contactsOf(ctx context.Context, teamID, id int64) ([]int64, error) {
	cu, err := s.st.TeamCustomer(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	if cu.MergedInto != nil {
		return nil, store.ErrNotFound
	}
	return s.st.CustomerContactIDs(ctx, teamID, id)
}

// AddTag puts a tag on every identity of the customer (so each channel's rules apply).
func (s *Customers) AddTag(ctx context.Context, actor *models.User, id, tagID int64) error {
	ids, err := s.contactsOf(ctx, actor.TeamID, id)
	if err != nil {
		return err
	}
	if _, err := s.st.TeamTag(ctx, actor.TeamID, tagID); err != nil {
		return err
	}
	for _, c := range ids {
		if err := s.tags.Apply(ctx, actor, c, tagID); err != nil {
			return err
		}
	}
	return nil
}

// RemoveTag takes a tag off every identity of the customer.
func (s *Customers) RemoveTag(ctx context.Context, actor *models.User, id, tagID int64) error {
	ids, err := s.contactsOf(ctx, actor.TeamID, id)
	if err != nil {
		return err
	}
	if _, err := s.st.TeamTag(ctx, actor.TeamID, tagID); err != nil {
		return err
	}
	for _, c := range ids {
		if err := s.tags.Remove(ctx, actor, c, tagID); err != nil {
			return err
		}
	}
	return nil
}

// Reply errors.
var (
	ErrReplyEmpty   = apperr.Invalid("text", "customers.error_reply_empty")
	ErrReplyTooLong = apperr.Invalid("text", "customers.error_reply_long")
	ErrReplyContact = apperr.Invalid("contact_id", "customers.error_reply_contact")
)

// MaxReply is the longest reply accepted here, in characters (each platform's own limit is
// checked by the sending path).
const MaxReply = 2000

// Reply sends an agent's text to one of the customer's identities through the one outbound
// path. key makes a double submit one send. The result says whether it went out or why not.
func (s *Customers) Reply(ctx context.Context, actor *models.User, id, contactID int64, text, key string) (messaging.Result, error) {
	text = strings.TrimSpace(text)
	var problems []error
	if text == "" {
		problems = append(problems, ErrReplyEmpty)
	} else if utf8.RuneCountInString(text) > MaxReply {
		problems = append(problems, ErrReplyTooLong.With(map[string]any{"Limit": MaxReply}))
	}
	ids, err := s.contactsOf(ctx, actor.TeamID, id)
	if err != nil {
		return messaging.Result{}, err
	}
	found := false
	for _, c := range ids {
		found = found || c == contactID
	}
	if !found {
		// Another team's contact does not exist here; the team's own, on another customer, is a field error.
		if _, err := s.st.TeamContact(ctx, actor.TeamID, contactID); err != nil {
			return messaging.Result{}, err
		}
		problems = append(problems, ErrReplyContact)
	}
	if len(problems) > 0 {
		return messaging.Result{}, errors.Join(problems...)
	}
	if s.send == nil {
		return messaging.Result{}, apperr.Forbidden("customers.error_reply_unavailable")
	}
	var res messaging.Result
	err = s.st.WithTx(ctx, func(tx *store.Store) error {
		var err error
		res, err = s.send.Send(ctx, tx, messaging.SendRequest{TeamID: actor.TeamID, ContactID: contactID, Content: models.TextContent(text),
			IdempotencyKey: "reply:" + strconv.FormatInt(actor.ID, 10) + ":" + key, Cause: "user:" + strconv.FormatInt(actor.ID, 10) + ":reply"})
		return err
	})
	if err == nil && s.notify != nil {
		s.notify.Notify()
	}
	return res, err
}
