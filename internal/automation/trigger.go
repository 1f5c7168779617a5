package automation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/width"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// LineReplyTokenFresh is how long after its event a LINE reply token is still used; later
// replies are pushed. UNCONFIRMED: LINE does not document the token's lifetime; about a minute
// is reported, so a margin is kept below it.
const LineReplyTokenFresh = 50 * time.Second

// Trigger storms: a contact is answered at most StormLimit times per StormWindow, so a customer
// (or a loop of postback buttons) cannot make the account send without end.
const (
	StormLimit  = 5
	StormWindow = time.Minute
)

// MaxTriggerPattern is the longest keyword or payload.
const MaxTriggerPattern = 300

// causePrefix starts the cause of every trigger reply; the storm limit counts them.
const causePrefix = "trigger:"

var folder = cases.Fold()

// Normalize is how keywords and messages are compared: full-width forms folded to their
// ordinary width (ＬＩＮＫ → LINK, half-width katakana to full), case folded, surrounding space
// trimmed and inner runs of space made one.
func Normalize(s string) string {
	s = folder.String(width.Fold.String(s))
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// Inbound is a customer's message or button tap on a channel, as the webhook applied it.
type Inbound struct {
	Channel    *models.Channel
	ContactID  int64
	Text       string // the message text
	Payload    string // a postback's payload (LINE postback.data); empty for messages
	ReplyToken string // LINE only
	At         time.Time
	// EventKey identifies the event (channel and platform event key); the reply's idempotency
	// key derives from it, so a redelivered event is not answered twice.
	EventKey string
}

// Triggers answer customers with modules.
type Triggers struct {
	st      *store.Store
	modules *Modules
	log     *slog.Logger
	now     func() time.Time
}

// NewTriggers builds the trigger service.
func NewTriggers(st *store.Store, modules *Modules, log *slog.Logger, now func() time.Time) *Triggers {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Triggers{st: st, modules: modules, log: log, now: now}
}

// List lists the team's triggers.
func (t *Triggers) List(ctx context.Context, teamID int64) ([]models.TriggerRow, error) {
	return t.st.TeamTriggers(ctx, teamID)
}

// Check returns every problem of a trigger input. A channel or module id that is not the
// team's is ErrNotFound, as for any other team's id.
func (t *Triggers) Check(ctx context.Context, teamID int64, in *models.TriggerInput) (models.FieldProblems, error) {
	errs := models.FieldProblems{}
	in.Pattern = strings.TrimSpace(in.Pattern)
	var ch *models.Channel
	var err error
	if in.ChannelID == 0 {
		errs.Add("channel_id", "triggers.error_channel_required")
	} else if ch, err = t.st.Channel(ctx, teamID, in.ChannelID); err != nil {
		return nil, err
	}
	if !in.Kind.Valid() {
		errs.Add("kind", "triggers.error_kind")
	} else if in.Kind == models.TriggerNoMatch {
		in.Pattern = ""
	} else {
		switch n := models.Length(in.Pattern); {
		case n == 0:
			errs.Add("pattern", "triggers.error_pattern_required")
		case n > MaxTriggerPattern:
			errs.Add("pattern", "triggers.error_pattern_too_long", "Max", MaxTriggerPattern)
		}
	}
	if in.ModuleID == 0 {
		errs.Add("module_id", "triggers.error_module_required")
	} else {
		mod, err := t.st.TeamModule(ctx, teamID, in.ModuleID)
		if err != nil {
			return nil, err
		}
		if ch != nil && mod.Platform != ch.Platform {
			errs.Add("module_id", "triggers.error_module_platform", "Name", mod.Name)
		}
	}
	return errs, nil
}

// Create saves a trigger, or returns FieldProblems (or ErrTriggerTaken) and saves nothing.
func (t *Triggers) Create(ctx context.Context, actor *models.User, in models.TriggerInput) (*models.Trigger, error) {
	problems, err := t.Check(ctx, actor.TeamID, &in)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, problems
	}
	tr := &models.Trigger{TeamID: actor.TeamID, ChannelID: in.ChannelID, Kind: in.Kind, Pattern: in.Pattern,
		ModuleID: in.ModuleID, CreatedBy: &actor.ID, CreatedAt: t.now()}
	if in.Kind == models.TriggerPostback {
		tr.Normalized = in.Pattern // payloads are machine text: compared exactly
	} else if in.Kind != models.TriggerNoMatch {
		tr.Normalized = Normalize(in.Pattern)
	}
	if err := t.st.CreateTrigger(ctx, tr); err != nil {
		return nil, err
	}
	return tr, nil
}

// Delete removes one of the team's triggers.
func (t *Triggers) Delete(ctx context.Context, actor *models.User, id int64) error {
	return t.st.DeleteTrigger(ctx, actor.TeamID, id)
}

// match picks the trigger that answers in: for a postback the trigger with its payload; for
// text an exact keyword, else the longest contained keyword, else the channel's no-match
// trigger. A postback no trigger names that is a module button's payload sends that module.
func match(list []models.Trigger, in Inbound) (moduleID int64, cause string) {
	if in.Payload != "" {
		for _, tr := range list {
			if tr.Kind == models.TriggerPostback && tr.Normalized == in.Payload {
				return tr.ModuleID, fmt.Sprintf("%s%d", causePrefix, tr.ID)
			}
		}
		if id, ok := models.ParseModulePayload(in.Payload); ok {
			return id, causePrefix + in.Payload
		}
		return 0, ""
	}
	text := Normalize(in.Text)
	if text == "" {
		return 0, ""
	}
	var best *models.Trigger
	for i := range list {
		tr := &list[i]
		if tr.Kind == models.TriggerExact && tr.Normalized == text {
			return tr.ModuleID, fmt.Sprintf("%s%d", causePrefix, tr.ID)
		}
		if tr.Kind == models.TriggerContains && strings.Contains(text, tr.Normalized) &&
			(best == nil || len(tr.Normalized) > len(best.Normalized)) {
			best = tr
		}
	}
	if best == nil {
		for i := range list {
			if list[i].Kind == models.TriggerNoMatch {
				best = &list[i]
			}
		}
	}
	if best == nil {
		return 0, ""
	}
	return best.ModuleID, fmt.Sprintf("%s%d", causePrefix, best.ID)
}

// Answer replies to an inbound message or postback with the matching module, inside tx (the
// transaction applying the event), so the reply is queued exactly when the event is applied.
// A reply that cannot go out (a module a platform refuses, a card whose campaign is off, the
// storm limit) is logged and leaves the event's other effects in place.
func (t *Triggers) Answer(ctx context.Context, tx *store.Store, in Inbound) error {
	if in.Channel == nil || in.ContactID == 0 {
		return nil
	}
	ch := in.Channel
	list, err := tx.TeamChannelTriggers(ctx, ch.TeamID, ch.ID)
	if err != nil {
		return err
	}
	moduleID, cause := match(list, in)
	if moduleID == 0 {
		return nil
	}
	now := t.now()
	n, err := tx.CountTeamSendsByCausePrefix(ctx, ch.TeamID, in.ContactID, causePrefix, now.Add(-StormWindow))
	if err != nil {
		return err
	}
	if n >= StormLimit {
		t.log.Warn("trigger reply skipped: too many replies to this contact", "channel_id", ch.ID, "contact_id", in.ContactID, "module_id", moduleID)
		return nil
	}
	req := messaging.SendRequest{IdempotencyKey: "trigger:" + in.EventKey, Cause: cause}
	if ch.Platform == models.LINE && in.ReplyToken != "" && now.Sub(in.At) < LineReplyTokenFresh {
		req.LineReplyToken, req.ReplyBefore = in.ReplyToken, in.At.Add(LineReplyTokenFresh)
	}
	// A savepoint: a reply that fails half-way must not take the inbound message with it.
	err = tx.WithTx(ctx, func(stx *store.Store) error {
		_, err := t.modules.sendModule(ctx, stx, ch.TeamID, in.ContactID, moduleID, req)
		return err
	})
	if _, ok := apperr.From(err); ok || errors.Is(err, store.ErrNotFound) {
		t.log.Warn("trigger reply not sent", "channel_id", ch.ID, "contact_id", in.ContactID, "module_id", moduleID, "error", err)
		return nil
	}
	return err
}
