// Package channels renders the channel-integration pages: the channels list, the Facebook Login
// result dialog, LINE and WhatsApp forms, and a channel's setup details.
package channels

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
