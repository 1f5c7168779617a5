package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// Simulated customer actions.
const (
	ActText     = "text"
	ActFollow   = "follow"   // LINE: add the official account, or unblock it
	ActUnfollow = "unfollow" // LINE: block the official account
)

// Action is one thing a simulated customer does on one of the team's channels.
type Action struct {
	ChannelID int64
	Customer  string // PSID, IGSID, LINE userId or wa_id
	Kind      string // ActText, ActFollow or ActUnfollow
	Text      string
}

// Delivery is how omnilink's own webhook endpoint answered the simulated event.
type Delivery struct {
	URL    string
	Status int    // 0 when no answer came
	Err    string // why no answer came
}

// OK reports whether the webhook endpoint accepted the event.
func (d Delivery) OK() bool { return d.Status >= 200 && d.Status < 300 }

// Outcome is the flash kind and i18n key that tell the user how the delivery went; a 404 gets
// its own message because it means the webhook route does not exist at all.
func (d Delivery) Outcome() (kind, key string) {
	switch {
	case d.Err != "":
		return "error", "sandbox.delivery_failed"
	case d.Status == http.StatusNotFound:
		return "error", "sandbox.delivery_missing"
	case !d.OK():
		return "error", "sandbox.delivery_rejected"
	}
	return "success", "sandbox.delivered"
}

// account resolves a channel id parameter to one of the team's live channels.
func (s *Service) account(ctx context.Context, teamID int64, raw string) (*models.Channel, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		return nil, apperr.ErrNotFound
	}
	ch, err := s.chans.Channel(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	if ch.Status == models.ChannelDisconnected {
		return nil, apperr.ErrNotFound
	}
	return ch, nil
}

// webhookURL is where the platform would deliver this channel's events.
func (s *Service) webhookURL(ch *models.Channel) string {
	if ch.Platform == models.LINE {
		return s.base + "/webhooks/line/" + strconv.FormatInt(ch.ID, 10)
	}
	return s.base + "/webhooks/meta"
}

// customers lists the fake people who have an id on the channel's account.
func (s *Service) customers(ch *models.Channel) []sbview.CustomerVM {
	var out []sbview.CustomerVM
	if ch.Platform == models.LINE {
		for _, u := range s.w.LINEUsers() {
			f := u.Friendship[ch.ExternalID]
			if f == "" {
				f = sandbox.FriendshipNone
			}
			out = append(out, sbview.CustomerVM{ID: u.UserID, Name: u.DisplayName, Friendship: string(f)})
		}
		return out
	}
	for _, c := range s.w.Customers() {
		for _, id := range c.Identities {
			if string(id.Platform) == string(ch.Platform) && id.AccountID == ch.ExternalID {
				out = append(out, sbview.CustomerVM{ID: id.ExternalID, Name: c.Name})
			}
		}
	}
	return out
}

// Simulator builds the simulator page: the team's channels, the customers of the chosen one,
// and their conversation. With nothing chosen, the first channel and customer are shown.
func (s *Service) Simulator(ctx context.Context, teamID int64, channel, customer string) (sbview.SimulatorVM, error) {
	var vm sbview.SimulatorVM
	list, err := s.chans.TeamChannels(ctx, teamID)
	if err != nil {
		return vm, err
	}
	var chosen *models.Channel
	for i := range list {
		ch := &list[i]
		if ch.Status == models.ChannelDisconnected {
			continue
		}
		a := sbview.AccountVM{ChannelID: ch.ID, Platform: string(ch.Platform), Name: ch.DisplayName, ExternalID: ch.ExternalID}
		if chosen == nil && (channel == "" || channel == strconv.FormatInt(ch.ID, 10)) {
			chosen, a.Selected = ch, true
		}
		vm.Accounts = append(vm.Accounts, a)
	}
	if chosen == nil {
		if channel != "" && len(vm.Accounts) > 0 {
			return vm, apperr.ErrNotFound
		}
		return vm, nil
	}
	for i := range vm.Accounts {
		if vm.Accounts[i].Selected {
			vm.Account = &vm.Accounts[i]
		}
	}
	vm.WebhookURL = s.webhookURL(chosen)
	vm.Customers = s.customers(chosen)
	// A customer of another account (the account was just switched) falls back to the first one.
	pick := 0
	for i := range vm.Customers {
		if vm.Customers[i].ID == customer {
			pick = i
		}
	}
	if len(vm.Customers) == 0 {
		return vm, nil
	}
	vm.Customers[pick].Selected = true
	vm.Customer = &vm.Customers[pick]
	conv := s.conversation(chosen, vm.Customer.ID)
	vm.Conversation = &conv
	return vm, nil
}

// Conversation is the polled part of the simulator: both directions of one conversation.
func (s *Service) Conversation(ctx context.Context, teamID int64, channel, customer string) (sbview.ConversationVM, error) {
	ch, err := s.account(ctx, teamID, channel)
	if err != nil {
		return sbview.ConversationVM{}, err
	}
	return s.conversation(ch, customer), nil
}

func (s *Service) conversation(ch *models.Channel, customer string) sbview.ConversationVM {
	q := url.Values{"account": {strconv.FormatInt(ch.ID, 10)}, "customer": {customer}}
	vm := sbview.ConversationVM{PollURL: "/sandbox/simulator/conversation?" + q.Encode()}
	for _, m := range s.w.Conversation(sandbox.Platform(ch.Platform), ch.ExternalID, customer) {
		vm.Messages = append(vm.Messages, sbview.MessageVM{Inbound: m.Direction == sandbox.Inbound, Kind: m.Kind, Text: m.Text,
			At: m.At.In(s.loc).Format("01-02 15:04:05"), Delivered: m.Delivered, Links: urlButtons(m.Payload)})
	}
	if ch.Platform == models.LINE {
		vm.RichMenu = &sbview.RichMenuVM{Default: true}
		if m := s.w.CurrentRichMenu(ch.ExternalID, customer); m != nil {
			vm.RichMenu = &sbview.RichMenuVM{ID: m.ID, Name: m.Name, ChatBarText: m.ChatBarText, Colour: m.Colour}
		}
	}
	return vm
}

// Act performs a customer action: the emulator builds and signs the platform's webhook, and it
// is POSTed over HTTP to omnilink's own webhook URL for that channel. A refusal by the emulator
// (say, a blocked LINE user writing) is an error; anything the endpoint answers is a Delivery.
func (s *Service) Act(ctx context.Context, teamID int64, a Action) (Delivery, error) {
	ch, err := s.account(ctx, teamID, strconv.FormatInt(a.ChannelID, 10))
	if err != nil {
		return Delivery{}, err
	}
	p := sandbox.Platform(ch.Platform)
	var body []byte
	var sig string
	switch {
	case a.Kind == ActText:
		text := strings.TrimSpace(a.Text)
		if text == "" {
			return Delivery{}, apperr.Invalid("text", "sandbox.error_empty_message")
		}
		body, sig, err = s.w.SimulateInbound(p, ch.ExternalID, a.Customer, text)
	case a.Kind == ActFollow && p == sandbox.PlatformLINE:
		body, sig, err = s.w.SimulateFollow(ch.ExternalID, a.Customer)
	case a.Kind == ActUnfollow && p == sandbox.PlatformLINE:
		body, sig, err = s.w.SimulateUnfollow(ch.ExternalID, a.Customer)
	default:
		return Delivery{}, apperr.Invalid("kind", "sandbox.error_action")
	}
	if err != nil {
		return Delivery{}, failed(http.StatusUnprocessableEntity, "sandbox.error_simulate", err)
	}
	d := Delivery{URL: s.webhookURL(ch)}
	status, err := sandbox.Deliver(ctx, s.http, d.URL, body, sig)
	d.Status = status
	if err != nil {
		d.Err = err.Error()
	}
	return d, nil
}
