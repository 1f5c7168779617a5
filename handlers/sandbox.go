package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	sbui "github.com/omnilink/omnilink/internal/sandbox/ui"
	"github.com/omnilink/omnilink/views/layout"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// Sandbox is the provider emulator: its platform APIs and its own screens. It is nil unless
// OMNILINK_PROVIDERS=sandbox, and then none of its routes exist.
type Sandbox interface {
	API() http.Handler
	Dialog(path string, q url.Values) (sbview.DialogVM, error)
	Decide(form url.Values) (string, error)
	Panel(ctx context.Context, teamID int64) (sbview.PanelVM, error)
	Break(ctx context.Context, teamID int64, target, cause string) error
	Repair(ctx context.Context, teamID int64, target string) error
	Unsubscribe(ctx context.Context, teamID int64, objectID string) error
	Transient(ctx context.Context, teamID int64, target, count, kind string) error
	Simulator(ctx context.Context, teamID int64, channel, customer string) (sbview.SimulatorVM, error)
	Conversation(ctx context.Context, teamID int64, channel, customer string) (sbview.ConversationVM, error)
	Act(ctx context.Context, teamID int64, a sbui.Action) (sbui.Delivery, error)
	Mailbox(ctx context.Context, teamID int64, open string) (sbview.MailboxVM, error)
	MailHTML(ctx context.Context, teamID int64, id string) (string, error)
}

// webhookStatusHeader tells scripts and tests how omnilink's webhook answered a simulated event.
const webhookStatusHeader = "X-Sandbox-Webhook-Status"

// sandboxAPI serves the fake Graph, WhatsApp and LINE APIs.
func (h *Handler) sandboxAPI(c echo.Context) error {
	h.sandbox.API().ServeHTTP(c.Response(), c.Request())
	return nil
}

// barePage is a page context that neither shows nor consumes the console session: the dialog
// stands for facebook.com, which knows nothing of it, and polled fragments must not eat flashes.
func (h *Handler) barePage(c echo.Context, titleKey string) *layout.Page {
	r := req(c)
	p := &layout.Page{Title: r.Loc.T(titleKey), Loc: r.Loc, CSRF: r.CSRF, Nonce: r.Nonce,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID), Path: c.Request().URL.RequestURI()}
	if r.Team != nil {
		p.Zone = r.Team.TimeZone
	}
	return p
}

func (h *Handler) sandboxDialog(c echo.Context) error {
	vm, err := h.sandbox.Dialog(c.Request().URL.Path, c.QueryParams())
	if err != nil {
		return h.sandboxDialogError(c, err)
	}
	return render(c, http.StatusOK, sbview.Dialog(h.barePage(c, "sandbox.dialog_title"), vm))
}

func (h *Handler) sandboxDecide(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		return echo.ErrBadRequest
	}
	to, err := h.sandbox.Decide(c.Request().PostForm)
	if err != nil {
		return h.sandboxDialogError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// sandboxDialogError shows what Facebook shows for a bad dialog request: an error, no redirect.
func (h *Handler) sandboxDialogError(c echo.Context, err error) error {
	var de *sbui.DialogError
	if !errors.As(err, &de) {
		return err
	}
	return render(c, http.StatusBadRequest, sbview.DialogError(h.barePage(c, "sandbox.dialog_error_title"), sbview.DialogErrorVM{Key: de.Key, Detail: de.Detail}))
}

// The control panel and mailbox show one team's accounts and mail; they are for the roles
// that manage channels (the route table guards them).
func (h *Handler) sandboxPanel(c echo.Context) error {
	vm, err := h.sandbox.Panel(c.Request().Context(), req(c).User.TeamID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, sbview.Panel(h.page(c, "sandbox.panel_title"), vm))
}

func (h *Handler) sandboxBreak(c echo.Context) error {
	t := c.FormValue("target")
	err := h.sandbox.Break(c.Request().Context(), req(c).User.TeamID, t, c.FormValue("cause"))
	return h.sandboxDone(c, "/sandbox", err, "sandbox.done_break", t)
}

func (h *Handler) sandboxRepair(c echo.Context) error {
	t := c.FormValue("target")
	return h.sandboxDone(c, "/sandbox", h.sandbox.Repair(c.Request().Context(), req(c).User.TeamID, t), "sandbox.done_repair", t)
}

func (h *Handler) sandboxUnsubscribe(c echo.Context) error {
	o := c.FormValue("object")
	return h.sandboxDone(c, "/sandbox", h.sandbox.Unsubscribe(c.Request().Context(), req(c).User.TeamID, o), "sandbox.done_unsubscribe", o)
}

func (h *Handler) sandboxTransient(c echo.Context) error {
	t := c.FormValue("target")
	err := h.sandbox.Transient(c.Request().Context(), req(c).User.TeamID, t, c.FormValue("count"), c.FormValue("kind"))
	return h.sandboxDone(c, "/sandbox", err, "sandbox.done_transient", t)
}

// sandboxDone reports a control action as a flash on the page it came from. The 303 is kept
// for htmx too: it follows it and swaps in the page's main area.
func (h *Handler) sandboxDone(c echo.Context, back string, err error, okKey, target string) error {
	r := req(c)
	if err != nil {
		// Bad input is explained on the page; a missing or foreign object is a plain 404.
		ae, ok := apperr.From(err)
		if !ok || ae.Status != http.StatusUnprocessableEntity {
			return err
		}
		h.flash(c, "error", r.Loc.TMap(ae.Key, ae.Args))
		return c.Redirect(http.StatusSeeOther, back)
	}
	h.flash(c, "success", r.Loc.T(okKey, "Target", target))
	return c.Redirect(http.StatusSeeOther, back)
}

func (h *Handler) sandboxSimulator(c echo.Context) error {
	vm, err := h.sandbox.Simulator(c.Request().Context(), req(c).User.TeamID, c.QueryParam("account"), c.QueryParam("customer"))
	if err != nil {
		return err
	}
	// Switching accounts keeps the old customer in the query; the address shows whom the page
	// shows instead.
	if vm.Account != nil && vm.Customer != nil && c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Push-Url", "/sandbox/simulator?"+url.Values{
			"account": {strconv.FormatInt(vm.Account.ChannelID, 10)}, "customer": {vm.Customer.ID}}.Encode())
	}
	return render(c, http.StatusOK, sbview.Simulator(h.page(c, "sandbox.simulator_title"), vm))
}

func (h *Handler) sandboxConversation(c echo.Context) error {
	vm, err := h.sandbox.Conversation(c.Request().Context(), req(c).User.TeamID, c.QueryParam("account"), c.QueryParam("customer"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, sbview.Conversation(h.barePage(c, "sandbox.simulator_title"), vm))
}

func (h *Handler) sandboxAct(c echo.Context) error {
	id, _ := strconv.ParseInt(c.FormValue("account"), 10, 64)
	a := sbui.Action{ChannelID: id, Customer: c.FormValue("customer"), Kind: c.FormValue("kind"), Text: c.FormValue("text"), Payload: c.FormValue("payload")}
	back := "/sandbox/simulator?" + url.Values{"account": {c.FormValue("account")}, "customer": {a.Customer}}.Encode()
	d, err := h.sandbox.Act(c.Request().Context(), req(c).User.TeamID, a)
	if err != nil {
		return h.sandboxDone(c, back, err, "", "")
	}
	c.Response().Header().Set(webhookStatusHeader, strconv.Itoa(d.Status))
	kind, key := d.Outcome()
	r := req(c)
	h.flash(c, kind, r.Loc.T(key, "URL", d.URL, "Status", d.Status, "Error", d.Err))
	return c.Redirect(http.StatusSeeOther, back)
}

func (h *Handler) sandboxMailbox(c echo.Context) error {
	vm, err := h.sandbox.Mailbox(c.Request().Context(), req(c).User.TeamID, c.Param("id"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, sbview.Mailbox(h.page(c, "sandbox.mailbox_title"), vm))
}

// mailPreviewCSP confines a captured email's HTML: an opaque origin without script, forms or
// navigation, inline styles and images allowed so it looks as a mail client would show it, and
// framable only by our own mailbox page.
const mailPreviewCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; frame-ancestors 'self'"

func (h *Handler) sandboxMailHTML(c echo.Context) error {
	body, err := h.sandbox.MailHTML(c.Request().Context(), req(c).User.TeamID, c.Param("id"))
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", mailPreviewCSP)
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	hd.Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, []byte(body))
}
