// Package channels renders the channel-integration pages: the channels list, the Facebook Login
// result dialog, LINE and WhatsApp forms, and a channel's setup details.
package channels

import (
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
)

// Row is one connected channel in the list.
type Row struct {
	ID           int64
	Platform     string
	Name         string
	Username     string
	PictureURL   string
	Status       string // active or invalid
	CauseText    string
	Since        string
	AuthorizedBy string
	ConnectedAt  string
}

// Section is one platform's block on the channels page.
type Section struct {
	Platform string
	Rows     []Row
}

// ListVM is the channels page.
type ListVM struct {
	Sections []Section
	Dialog   *DialogVM
}

// DialogVM is the Facebook Login dialog: waiting, a result, or the accounts to choose from.
type DialogVM struct {
	StateID    string
	Purpose    string // instagram or facebook
	Waiting    bool
	Outcome    string // authorized, denied, failed, reauthorized
	Message    string
	Candidates []CandidateVM
	Missing    bool // a permission was declined: offer to edit settings
	Reauth     bool
	Notes      []string // about other channels, e.g. "reauthorise the Page too"
}

// CandidateVM is one account found through Facebook Login.
type CandidateVM struct {
	ID         string
	Name       string
	Username   string
	PictureURL string
	PageName   string
	Problem    string   // explanation, empty when connectable
	Checklist  []string // what to change, for the problem
	Connected  bool
}

// Selectable reports whether the account can be ticked.
func (c CandidateVM) Selectable() bool { return c.Problem == "" && !c.Connected && c.ID != "" }

// LineForm is the LINE connection form.
type LineForm struct {
	ChannelID      string
	LoginChannelID string
	LiffID         string
	Errors         map[string]string
	Error          string
	ExistingID     int64
}

// WhatsAppForm is the WhatsApp connection form.
type WhatsAppForm struct {
	PhoneNumberID string
	WABAID        string
	Errors        map[string]string
	Error         string
	ExistingID    int64
}

// DetailVM is a channel's page: its identity and what to paste into the platform's console.
type DetailVM struct {
	Row
	WebhookURL     string
	VerifyToken    string
	LiffEndpoint   string
	LiffID         string
	LoginChannelID string
	LineChannelID  string
	BasicID        string
	WABAID         string
	PageID         string
	Checklist      []string
}

// ResultText renders a stored result message with its arguments. Arguments that name other
// messages (the failed step, a candidate's problem, a platform refusal, a platform) are rendered
// first, so the person reads what failed and why in their own language.
func ResultText(loc *i18n.Localizer, key string, args models.Args) string {
	m := args.Map()
	if step := args["Step"]; step != "" {
		m["Step"] = loc.T(step)
	}
	if p := args["Platform"]; p != "" {
		m["Platform"] = loc.T("health.platform." + p)
	}
	for _, nested := range []string{"Problem", "Failure"} {
		if k := args[nested]; k != "" {
			inner := models.Args{}
			for a, v := range args {
				if a != nested {
					inner[a] = v
				}
			}
			m["Reason"] = ResultText(loc, k, inner)
		}
	}
	return loc.TMap(key, m)
}

// NoteTexts renders a result's notes about other channels.
func NoteTexts(loc *i18n.Localizer, notes models.Notes) []string {
	out := make([]string, 0, len(notes))
	for _, n := range notes {
		out = append(out, ResultText(loc, n.Key, n.Args))
	}
	return out
}
