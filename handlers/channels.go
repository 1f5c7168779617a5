package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	chsvc "github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/channels"
)

// Channels is the channel-integration service the console needs.
type Channels interface {
	List(ctx context.Context, teamID int64) ([]models.Channel, error)
	Channel(ctx context.Context, teamID, id int64) (*models.Channel, error)
	StartOAuth(ctx context.Context, actor *models.User, sessionHash string, purpose models.Platform, channelID *int64, rerequest bool) (chsvc.Start, error)
	CompleteOAuth(ctx context.Context, actor *models.User, sessionHash string, cb chsvc.Callback) (*models.OAuthState, error)
	Dialog(ctx context.Context, actor *models.User, sessionHash string) (*models.OAuthState, error)
	Dismiss(ctx context.Context, actor *models.User, stateID string) error
	Connect(ctx context.Context, actor *models.User, stateID string, accountIDs []string) (chsvc.ConnectResult, error)
	Disconnect(ctx context.Context, actor *models.User, id int64) error
	ConnectLine(ctx context.Context, actor *models.User, in chsvc.LineInput, existingID *int64) (*models.Channel, error)
	ConnectWhatsApp(ctx context.Context, actor *models.User, in chsvc.WhatsAppInput, existingID *int64) (*models.Channel, error)
	Authorizers(ctx context.Context, teamID int64, ids []int64) (map[int64]string, error)
}

// sessionHash binds OAuth states to this browser session without storing the session id itself.
func sessionHash(c echo.Context) string {
	s := req(c).Session
	if s == nil || s.ID == "" {
		return ""
	}
	h := sha256.Sum256([]byte("oauth:" + s.ID))
	return hex.EncodeToString(h[:])
}

func (h *Handler) channelList(c echo.Context) error {
	r := req(c)
	ctx := c.Request().Context()
	list, err := h.channels.List(ctx, r.User.TeamID)
	if err != nil {
		return err
	}
	rows, err := h.channelRows(ctx, r.Loc, r.User.TeamID, list)
	if err != nil {
		return err
	}
	vm := channels.ListVM{}
	for _, p := range models.Platforms {
		sec := channels.Section{Platform: string(p)}
		for _, row := range rows {
			if row.Platform == string(p) {
				sec.Rows = append(sec.Rows, row)
			}
		}
		vm.Sections = append(vm.Sections, sec)
	}
	if st, err := h.channels.Dialog(ctx, r.User, sessionHash(c)); err == nil {
		vm.Dialog = dialogVM(r.Loc, st)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return render(c, http.StatusOK, channels.List(h.page(c, "channels.title"), vm))
}

func (h *Handler) channelRows(ctx context.Context, loc *i18n.Localizer, teamID int64, list []models.Channel) ([]channels.Row, error) {
	var ids []int64
	for _, ch := range list {
		if ch.AuthorizedBy != nil {
			ids = append(ids, *ch.AuthorizedBy)
		}
	}
	names, err := h.channels.Authorizers(ctx, teamID, ids)
	if err != nil {
		return nil, err
	}
	rows := make([]channels.Row, 0, len(list))
	for _, ch := range list {
		row := channelRow(loc, &ch)
		if ch.AuthorizedBy != nil {
			row.AuthorizedBy = names[*ch.AuthorizedBy]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func channelRow(loc *i18n.Localizer, ch *models.Channel) channels.Row {
	row := channels.Row{ID: ch.ID, Platform: string(ch.Platform), Name: ch.DisplayName, Username: ch.Username, PictureURL: ch.PictureURL,
		Status: string(ch.Status), ConnectedAt: ch.CreatedAt.Format("2006-01-02")}
	if ch.Platform == models.Instagram && ch.Username != "" {
		row.Username = "@" + ch.Username
	}
	if ch.Broken() {
		row.CauseText = loc.T("channels.cause_unknown")
		if ch.StatusCause != "" {
			row.CauseText = loc.T("health.cause." + ch.StatusCause + ".title")
		}
		if ch.FailingSince != nil {
			row.Since = ch.FailingSince.Format("2006-01-02 15:04")
		}
	}
	return row
}

// dialogVM turns a Facebook Login attempt into what the dialog shows.
func dialogVM(loc *i18n.Localizer, st *models.OAuthState) *channels.DialogVM {
	d := &channels.DialogVM{StateID: st.ID, Purpose: string(st.Purpose), Outcome: st.Outcome, Reauth: st.ChannelID != nil}
	if st.Outcome == "" {
		d.Waiting = true
		return d
	}
	if st.OutcomeCode != "" && st.OutcomeCode != chsvc.CodeAuthorized {
		d.Message = channels.ResultText(loc, st.OutcomeCode, st.OutcomeArgs)
	}
	d.Notes = channels.NoteTexts(loc, st.Notes)
	for _, cand := range st.Candidates {
		vm := channels.CandidateVM{ID: cand.ID, Name: cand.Name, Username: cand.Username, PictureURL: cand.PictureURL, Connected: cand.Connected}
		if cand.PageName != cand.Name {
			vm.PageName = cand.PageName
		}
		if cand.Problem != "" {
			vm.Problem = channels.ResultText(loc, cand.Problem, cand.MessageArgs())
			vm.Checklist = checklist(loc, cand.Problem)
			if cand.Problem == chsvc.ProblemScopes {
				d.Missing = true
			}
		}
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

// channelConnect starts Facebook Login in the tab this form opened.
func (h *Handler) channelConnect(c echo.Context) error {
	r := req(c)
	p := models.Platform(c.Param("platform"))
	start, err := h.channels.StartOAuth(c.Request().Context(), r.User, sessionHash(c), p, nil, c.FormValue("rerequest") == "1")
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, start.URL)
}

// oauthCallback is Facebook Login's redirect URI.
func (h *Handler) oauthCallback(c echo.Context) error {
	r := req(c)
	st, err := h.channels.CompleteOAuth(c.Request().Context(), r.User, sessionHash(c), chsvc.Callback{
		State: c.QueryParam("state"), Code: c.QueryParam("code"), Error: c.QueryParam("error"),
		ErrorReason: c.QueryParam("error_reason"), ErrorDescription: c.QueryParam("error_description"),
	})
	p := h.page(c, "channels.callback_title")
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		return render(c, ae.Status, channels.Callback(p, r.Loc.T("channels.callback_failed"), r.Loc.TMap(ae.Key, ae.Args), false))
	}
	ok := st.Outcome == "authorized" || st.Outcome == "reauthorized"
	msg := strings.Join(append([]string{channels.ResultText(r.Loc, st.OutcomeCode, st.OutcomeArgs)}, channels.NoteTexts(r.Loc, st.Notes)...), " ")
	title := r.Loc.T("channels.callback_title")
	if !ok {
		title = r.Loc.T("channels.callback_failed")
	}
	return render(c, http.StatusOK, channels.Callback(p, title, msg, ok))
}

// oauthDialog is polled by the page that started Facebook Login.
func (h *Handler) oauthDialog(c echo.Context) error {
	r := req(c)
	st, err := h.channels.Dialog(c.Request().Context(), r.User, sessionHash(c))
	if errors.Is(err, store.ErrNotFound) {
		return c.NoContent(http.StatusOK)
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, channels.Dialog(h.page(c, "channels.title"), *dialogVM(r.Loc, st)))
}

func (h *Handler) oauthDismiss(c echo.Context) error {
	r := req(c)
	if err := h.channels.Dismiss(c.Request().Context(), r.User, c.Param("state")); err != nil {
		return err
	}
	return redirect(c, "/channels")
}

func (h *Handler) oauthConnect(c echo.Context) error {
	r := req(c)
	form, err := c.FormParams()
	if err != nil {
		return apperr.Invalid("accounts", "error.bad_request")
	}
	res, err := h.channels.Connect(c.Request().Context(), r.User, c.Param("state"), form["account"])
	if err != nil {
		return err
	}
	for _, ok := range res.Connected {
		h.flash(c, "success", r.Loc.T("channels.connected_flash", "Name", ok.Name))
	}
	for _, bad := range res.Failed {
		h.flash(c, "error", r.Loc.T("channels.connect_failed_flash", "Name", bad.Name, "Reason", channels.ResultText(r.Loc, bad.Problem, bad.MessageArgs())))
	}
	return redirect(c, "/channels")
}

func (h *Handler) channelDisconnect(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.channels.Disconnect(c.Request().Context(), r.User, id); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("channels.disconnected_flash"))
	return redirect(c, "/channels")
}

// channelReauthorizePage repairs a channel in place: Facebook Login for Pages and Instagram,
// a credentials form for LINE and WhatsApp.
func (h *Handler) channelReauthorizePage(c echo.Context) error {
	ch, err := h.pathChannel(c)
	if err != nil {
		return err
	}
	r := req(c)
	ctx := c.Request().Context()
	switch ch.Platform {
	case models.LINE:
		return render(c, http.StatusOK, channels.Line(h.page(c, "channels.line_update_title"), channels.LineForm{
			ChannelID: ch.Settings.LineChannelID, LoginChannelID: ch.Settings.LoginChannelID, LiffID: ch.Settings.LiffID, ExistingID: ch.ID}))
	case models.WhatsApp:
		return render(c, http.StatusOK, channels.WhatsApp(h.page(c, "channels.wa_update_title"), channels.WhatsAppForm{
			PhoneNumberID: ch.ExternalID, WABAID: ch.Settings.WABAID, ExistingID: ch.ID}))
	}
	var dialog *channels.DialogVM
	if st, err := h.channels.Dialog(ctx, r.User, sessionHash(c)); err == nil {
		dialog = dialogVM(r.Loc, st)
	}
	return render(c, http.StatusOK, channels.Reauthorize(h.page(c, "channels.reauthorize"), channelRow(r.Loc, ch), dialog))
}

func (h *Handler) channelReauthorize(c echo.Context) error {
	ch, err := h.pathChannel(c)
	if err != nil {
		return err
	}
	r := req(c)
	ctx := c.Request().Context()
	switch ch.Platform {
	case models.LINE:
		return h.saveLine(c, &ch.ID)
	case models.WhatsApp:
		return h.saveWhatsApp(c, &ch.ID)
	}
	start, err := h.channels.StartOAuth(ctx, r.User, sessionHash(c), ch.Platform, &ch.ID, false)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, start.URL)
}

func (h *Handler) lineNew(c echo.Context) error {
	return render(c, http.StatusOK, channels.Line(h.page(c, "channels.line_title"), channels.LineForm{}))
}

func (h *Handler) lineCreate(c echo.Context) error { return h.saveLine(c, nil) }

func (h *Handler) saveLine(c echo.Context, existing *int64) error {
	r := req(c)
	in := chsvc.LineInput{ChannelID: c.FormValue("channel_id"), ChannelSecret: c.FormValue("channel_secret"), AccessToken: c.FormValue("access_token"),
		LoginChannelID: c.FormValue("login_channel_id"), LiffID: c.FormValue("liff_id")}
	ch, err := h.channels.ConnectLine(c.Request().Context(), r.User, in, existing)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		f := channels.LineForm{ChannelID: in.ChannelID, LoginChannelID: in.LoginChannelID, LiffID: in.LiffID}
		if existing != nil {
			f.ExistingID = *existing
		}
		f.Errors, f.Error = formErrors(r.Loc, ae, "channel_id", "channel_secret", "access_token", "login_channel_id", "liff_id")
		return render(c, ae.Status, channels.Line(h.page(c, "channels.line_title"), f))
	}
	h.flash(c, "success", r.Loc.T("channels.connected_flash", "Name", ch.DisplayName))
	return redirect(c, "/channels/"+idString(ch.ID))
}

func (h *Handler) whatsappNew(c echo.Context) error {
	return render(c, http.StatusOK, channels.WhatsApp(h.page(c, "channels.wa_title"), channels.WhatsAppForm{}))
}

func (h *Handler) whatsappCreate(c echo.Context) error { return h.saveWhatsApp(c, nil) }

func (h *Handler) saveWhatsApp(c echo.Context, existing *int64) error {
	r := req(c)
	in := chsvc.WhatsAppInput{PhoneNumberID: c.FormValue("phone_number_id"), WABAID: c.FormValue("waba_id"), AccessToken: c.FormValue("access_token")}
	ch, err := h.channels.ConnectWhatsApp(c.Request().Context(), r.User, in, existing)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		f := channels.WhatsAppForm{PhoneNumberID: in.PhoneNumberID, WABAID: in.WABAID}
		if existing != nil {
			f.ExistingID = *existing
		}
		f.Errors, f.Error = formErrors(r.Loc, ae, "phone_number_id", "waba_id", "access_token")
		return render(c, ae.Status, channels.WhatsApp(h.page(c, "channels.wa_title"), f))
	}
	h.flash(c, "success", r.Loc.T("channels.connected_flash", "Name", ch.DisplayName))
	return redirect(c, "/channels/"+idString(ch.ID))
}

func (h *Handler) channelDetail(c echo.Context) error {
	ch, err := h.pathChannel(c)
	if err != nil {
		return err
	}
	r := req(c)
	d := channels.DetailVM{Row: channelRow(r.Loc, ch)}
	base := h.cfg.BaseURL
	switch ch.Platform {
	case models.LINE:
		d.WebhookURL = base + "/webhooks/line/" + idString(ch.ID)
		d.LiffEndpoint = base + "/liff/link"
		d.LiffID, d.LoginChannelID, d.LineChannelID, d.BasicID = ch.Settings.LiffID, ch.Settings.LoginChannelID, ch.Settings.LineChannelID, ch.Settings.BasicID
		for _, k := range []string{"channels.liff_check_provider", "channels.liff_check_published", "channels.liff_check_linked_oa", "channels.liff_check_scopes", "channels.liff_check_bot_link", "channels.liff_check_size", "channels.liff_check_endpoint", "channels.liff_check_webhook"} {
			d.Checklist = append(d.Checklist, r.Loc.T(k))
		}
	case models.WhatsApp:
		d.WebhookURL = base + "/webhooks/meta"
		d.VerifyToken = h.cfg.MetaWebhookVerifyToken
		d.WABAID = ch.Settings.WABAID
	default:
		d.WebhookURL = base + "/webhooks/meta"
		d.PageID = ch.Settings.PageID
		for _, k := range []string{"channels.ig_check_messages", "channels.ig_check_primary_receiver"} {
			if ch.Platform == models.Instagram || k == "channels.ig_check_primary_receiver" {
				d.Checklist = append(d.Checklist, r.Loc.T(k))
			}
		}
	}
	return render(c, http.StatusOK, channels.Detail(h.page(c, "channels.title"), d))
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// formErrors places an error beside its form field, or above the form when it concerns no field shown.
func formErrors(loc *i18n.Localizer, ae *apperr.Error, fields ...string) (map[string]string, string) {
	msg := loc.TMap(ae.Key, ae.Args)
	for _, f := range fields {
		if ae.Field == f {
			return map[string]string{f: msg}, ""
		}
	}
	return nil, msg
}

// pathChannel loads the signed-in team's channel named by :id; another team's id is not found.
func (h *Handler) pathChannel(c echo.Context) (*models.Channel, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	return h.channels.Channel(c.Request().Context(), req(c).User.TeamID, id)
}
