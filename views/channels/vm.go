// Package channels renders the channel-integration pages: the channels list, the Facebook Login
// result dialog, LINE and WhatsApp forms, and a channel's setup details.
package channels

import (
	"slices"
	"time"

	chsvc "github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
	healthviews "github.com/omnilink/omnilink/views/health"
)

// Row is one connected channel in the list.
type Row struct {
	ID           int64
	Platform     string
	Name         string
	Username     string
	PictureURL   string
	Verdict      string // the health verdict shown everywhere: healthy, broken, unknown, unchecked
	VerdictText  string
	BadgeClass   string
	CauseText    string
	Since        *time.Time // failing since; shown in the team's zone by the view
	AuthorizedBy string
	ConnectedAt  time.Time
}

// Broken reports whether the row shows a failed connection.
func (r Row) Broken() bool { return r.Verdict == string(models.VerdictBroken) }

// NewRow builds a channel's row from the channel, its last health verdict and who authorised it.
func NewRow(loc *i18n.Localizer, ch *models.Channel, last models.HealthVerdict, authorizedBy string) Row {
	v := healthviews.ShownVerdict(ch, last)
	row := Row{ID: ch.ID, Platform: string(ch.Platform), Name: ch.DisplayName, Username: ch.Username, PictureURL: ch.PictureURL,
		Verdict: string(v), VerdictText: healthviews.VerdictText(loc, v), BadgeClass: healthviews.BadgeClass(v),
		AuthorizedBy: authorizedBy, ConnectedAt: ch.CreatedAt}
	if ch.Platform == models.Instagram && ch.Username != "" {
		row.Username = "@" + ch.Username
	}
	if ch.Broken() {
		row.CauseText = healthviews.CauseTitle(loc, models.HealthCause(ch.StatusCause))
		row.Since = ch.FailingSince
	}
	return row
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

// NewListVM groups rows by platform, in the platforms' display order.
func NewListVM(rows []Row, dialog *DialogVM) ListVM {
	vm := ListVM{Dialog: dialog}
	for _, p := range models.Platforms {
		sec := Section{Platform: string(p)}
		for _, row := range rows {
			if row.Platform == string(p) {
				sec.Rows = append(sec.Rows, row)
			}
		}
		vm.Sections = append(vm.Sections, sec)
	}
	return vm
}

// DialogVM is the Facebook Login dialog: waiting, a result, or the accounts to choose from.
type DialogVM struct {
	StateID      string
	Purpose      string // instagram or facebook
	Waiting      bool
	Outcome      string // authorized, denied, failed, reauthorized
	Title        string
	Message      string
	Error        string // why the last submit of the dialog did nothing
	AuthorizedBy string // the Facebook user who authorised
	Candidates   []CandidateVM
	Missing      bool // a permission was declined: offer to edit settings
	Reauth       bool
	Notes        []string // about other channels, e.g. "reauthorise the Page too"
}

// Selectable counts the accounts that can be ticked.
func (d DialogVM) Selectable() int {
	n := 0
	for _, c := range d.Candidates {
		if c.Selectable() {
			n++
		}
	}
	return n
}

// Failed reports whether the dialog tells of a login that connected nothing.
func (d DialogVM) Failed() bool { return d.Outcome == "denied" || d.Outcome == "failed" }

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
	Ticked     bool
}

// Selectable reports whether the account can be ticked.
func (c CandidateVM) Selectable() bool { return c.Problem == "" && !c.Connected && c.ID != "" }

// LineForm is the LINE connection form as shown: what was typed (never the secrets) and the
// error beside each field.
type LineForm struct {
	Action         string // where the form posts
	ChannelID      string
	LoginChannelID string
	LiffID         string
	Errors         map[string]string
	Error          string
	ExistingID     int64
	Retype         bool // secrets were typed and not kept: ask for them again
}

// WhatsAppForm is the WhatsApp connection form as shown.
type WhatsAppForm struct {
	Action        string // where the form posts
	PhoneNumberID string
	WABAID        string
	Errors        map[string]string
	Error         string
	ExistingID    int64
	Retype        bool
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
	Health         *healthviews.StatusVM // nil when the monitor is not wired
}

// NewDetailVM builds a channel's page: base is the public origin, verifyToken Meta's webhook
// verify token.
func NewDetailVM(loc *i18n.Localizer, row Row, ch *models.Channel, base, verifyToken string) DetailVM {
	d := DetailVM{Row: row}
	keys := func(ks ...string) {
		for _, k := range ks {
			d.Checklist = append(d.Checklist, loc.T(k))
		}
	}
	switch ch.Platform {
	case models.LINE:
		d.WebhookURL = base + "/webhooks/line/" + idStr(ch.ID)
		// The LIFF page needs its LIFF id before liff.init, so the endpoint carries it.
		if ch.Settings.LiffID != "" {
			d.LiffEndpoint = base + "/liff/link/" + ch.Settings.LiffID
		}
		d.LiffID, d.LoginChannelID, d.LineChannelID, d.BasicID = ch.Settings.LiffID, ch.Settings.LoginChannelID, ch.Settings.LineChannelID, ch.Settings.BasicID
		keys("channels.liff_check_provider", "channels.liff_check_published", "channels.liff_check_linked_oa", "channels.liff_check_scopes",
			"channels.liff_check_bot_link", "channels.liff_check_size", "channels.liff_check_endpoint", "channels.liff_check_webhook")
	case models.WhatsApp:
		d.WebhookURL = base + "/webhooks/meta"
		d.VerifyToken = verifyToken
		d.WABAID = ch.Settings.WABAID
	case models.Instagram:
		d.WebhookURL = base + "/webhooks/meta"
		d.PageID = ch.Settings.PageID
		keys("channels.ig_check_allow_access", "channels.ig_check_messages", "channels.ig_check_primary_receiver")
	default:
		d.WebhookURL = base + "/webhooks/meta"
		d.PageID = ch.Settings.PageID
		keys("channels.ig_check_primary_receiver")
	}
	return d
}

// NewDialogVM turns a Facebook Login attempt into what the dialog shows. authorizedBy names the
// Facebook user who granted access; ticked are the accounts chosen in a submit being shown
// again (nil: every connectable account starts ticked).
func NewDialogVM(loc *i18n.Localizer, st *models.OAuthState, authorizedBy string, ticked []string) *DialogVM {
	d := &DialogVM{StateID: st.ID, Purpose: string(st.Purpose), Outcome: st.Outcome, Reauth: st.ChannelID != nil, AuthorizedBy: authorizedBy}
	if st.Outcome == "" {
		d.Waiting = true
		return d
	}
	switch {
	case d.Failed():
		d.Title = loc.T("channels.dialog_title_failed")
	case st.Outcome == "reauthorized":
		d.Title = loc.T("channels.dialog_title_reauthorized")
	default:
		d.Title = loc.T("channels.dialog_title_" + d.Purpose)
	}
	if st.OutcomeCode != "" && st.OutcomeCode != chsvc.CodeAuthorized {
		d.Message = ResultText(loc, st.OutcomeCode, st.OutcomeArgs)
	}
	d.Notes = NoteTexts(loc, st.Notes)
	for _, cand := range st.Candidates {
		vm := CandidateVM{ID: cand.ID, Name: cand.Name, Username: cand.Username, PictureURL: cand.PictureURL, Connected: cand.Connected}
		if cand.PageName != cand.Name {
			vm.PageName = cand.PageName
		}
		if cand.Problem != "" {
			vm.Problem = ResultText(loc, cand.Problem, cand.MessageArgs())
			vm.Checklist = checklist(loc, cand.Problem)
			if cand.Problem == chsvc.ProblemScopes {
				d.Missing = true
			}
		}
		vm.Ticked = vm.Selectable() && (ticked == nil || slices.Contains(ticked, cand.ID))
		d.Candidates = append(d.Candidates, vm)
	}
	return d
}

// checklist is the spec's list of things to change for each problem.
func checklist(loc *i18n.Localizer, problem string) []string {
	var keys []string
	switch problem {
	case chsvc.ProblemNoInstagram:
		keys = []string{"channels.check_business_account", "channels.check_link_page", "channels.check_page_admin", "channels.check_tick_page"}
	case chsvc.ProblemCreator:
		keys = []string{"channels.check_business_account", "channels.check_link_page"}
	case chsvc.ProblemTasks:
		keys = []string{"channels.check_page_admin"}
	case chsvc.ProblemScopes:
		keys = []string{"channels.check_all_permissions", "channels.check_tick_page"}
	case chsvc.ProblemOtherUser:
		keys = []string{"channels.check_same_user"}
	case chsvc.ProblemOtherUserPage:
		keys = []string{"channels.check_same_user_page"}
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = loc.T(k)
	}
	return out
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
