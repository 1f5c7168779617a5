// Package sandbox renders the provider emulator's pages: the fake Facebook Login dialog, the
// control panel that breaks tokens, the customer simulator and the mailbox.
package sandbox

// DialogVM is the fake Facebook Login dialog: first the account chooser, then the consent step.
type DialogVM struct {
	AppID       string
	RedirectURI string
	State       string
	Scope       string // the scope parameter as received, echoed back on submit
	ConfigID    string
	AuthType    string
	Rerequest   bool
	Action      string // where the consent form posts
	Users       []FacebookUserVM
	Selected    *FacebookUserVM // nil on the chooser step
	Permissions []PermissionVM
	Pages       []DialogPageVM
	SwitchHref  string // back to the chooser
}

// FacebookUserVM is one fake Facebook account on the dialog.
type FacebookUserVM struct {
	Key        string
	ID         string
	Name       string
	PictureURL string
	Href       string // chooses this user
	Note       string // i18n key of a hint about this user's setup, or ""
}

// PermissionVM is one requested permission with its box pre-ticked or not.
type PermissionVM struct {
	Scope   string
	Known   bool // a description exists under sandbox.scope_{Scope}
	Checked bool
}

// DialogPageVM is a Page the chosen user manages, with its Instagram account.
type DialogPageVM struct {
	Name      string
	Tasks     string
	Instagram string // username, without @
	Creator   bool   // the Instagram account is a creator account
	Editor    bool   // the user lacks the MANAGE task
}

// DialogErrorVM is the page shown when the dialog request itself is wrong.
type DialogErrorVM struct {
	Key    string // i18n key of the explanation
	Detail string
}

// PanelVM is the control panel.
type PanelVM struct {
	AppID        string
	Targets      []TargetVM
	Causes       []CauseVM
	FailureKinds []string
}

// TargetVM is one thing the control panel can damage, with its current state.
type TargetVM struct {
	Value         string // as ParseTarget reads it
	Kind          string
	Label         string
	Tokens        int
	Broken        string
	RemovedScopes []string
	RateLimited   bool
	TransientLeft int
	TransientKind string
	// Subscription is the Page or WABA whose webhook subscription can be removed, or "".
	Subscription string
	Subscribed   bool
}

// Healthy reports whether no damage is applied to the target's tokens. A missing webhook
// subscription is shown apart: most Pages were never connected, so it is not damage.
func (t TargetVM) Healthy() bool {
	return t.Broken == "" && len(t.RemovedScopes) == 0 && !t.RateLimited && t.TransientLeft == 0
}

// CauseVM is a break cause with the error codes it produces.
type CauseVM struct {
	Value string
	Codes string
}

// SimulatorVM is the customer simulator.
type SimulatorVM struct {
	Accounts     []AccountVM
	Account      *AccountVM
	Customers    []CustomerVM
	Customer     *CustomerVM
	Conversation *ConversationVM
	WebhookURL   string
}

// AccountVM is one of the team's connected channels the simulator can write to.
type AccountVM struct {
	ChannelID  int64
	Platform   string
	Name       string
	ExternalID string
	Selected   bool
}

// CustomerVM is a fake customer who has an id on the chosen account.
type CustomerVM struct {
	ID         string
	Name       string
	Friendship string // LINE only: friend, blocked or none
	Selected   bool
}

// ConversationVM is both directions of one conversation, refreshed by polling PollURL.
type ConversationVM struct {
	PollURL  string
	Messages []MessageVM
	// RichMenu is what the LINE user sees under the chat (LINE only).
	RichMenu *RichMenuVM
}

// RichMenuVM is the rich menu a simulated LINE user currently sees.
type RichMenuVM struct {
	Default     bool // no menu linked to the user: the account's default
	ID          string
	Name        string
	ChatBarText string
	Colour      string
}

// MessageVM is one line of a conversation.
type MessageVM struct {
	Inbound   bool
	Kind      string
	Text      string
	At        string
	Delivered bool
	Links     []LinkVM // URL buttons of a card, tappable as on a phone
}

// LinkVM is one URL button of a message the business sent.
type LinkVM struct {
	Label string
	URL   string
}

// MailboxVM is the captured mail, newest first, with one message opened.
type MailboxVM struct {
	Enabled  bool // false when SMTP_URL sends mail to a real server
	Messages []MailRowVM
	Open     *MailVM
}

// MailRowVM is one captured message in the list.
type MailRowVM struct {
	ID      string
	At      string
	From    string
	To      string
	Subject string
	Open    bool
}

// MailVM is one captured message's content; its HTML part is shown only inside a sandboxed
// frame that loads it as a document of its own.
type MailVM struct {
	MailRowVM
	Text       string
	HTML       bool // the message has an HTML part
	Raw        string
	ParseError string
}

// safeColour keeps only a #rrggbb colour for the inline style; anything else becomes grey.
func safeColour(c string) string {
	if len(c) != 7 || c[0] != '#' {
		return "#8a8f98"
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return "#8a8f98"
		}
	}
	return c
}
