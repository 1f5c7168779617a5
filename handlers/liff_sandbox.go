package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	sbui "github.com/omnilink/omnilink/internal/sandbox/ui"
	liffview "github.com/omnilink/omnilink/views/liff"
)

// SandboxLinks are the sandbox's LINE app and WhatsApp stand-ins for OmniLink links.
type SandboxLinks interface {
	LIFFApp(liffID string) (sbui.LIFFAppVM, error)
	LIFFSession(liffID, userID string) (sbui.LIFFSession, error)
	LIFFChat(ctx context.Context, teamID int64, liffID, userID string) (sbui.LIFFChatVM, error)
	WADraft(ctx context.Context, teamID int64, digits, text string) (sbui.WADraftVM, error)
	LineAccount(ctx context.Context, teamID int64, basicID, selected string) (sbui.LineAccountVM, error)
}

// sandboxLIFFCookie remembers which simulated LINE user the LINE app stand-in opened a LIFF app as.
const sandboxLIFFCookie = "sbx_liff"

func (h *Handler) sandboxLinks() (SandboxLinks, error) {
	s, ok := h.sandbox.(SandboxLinks)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	return s, nil
}

// sandboxLIFF plays LINE opening https://liff.line.me/{liffId}?…: choose the LINE user.
func (h *Handler) sandboxLIFF(c echo.Context) error {
	s, err := h.sandboxLinks()
	if err != nil {
		return err
	}
	vm, err := s.LIFFApp(c.Param("liffID"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, liffview.LineApp(h.barePage(c, "liff.sandbox_title"), vm, c.QueryString()))
}

// sandboxLIFFOpen logs the chosen user in and performs LIFF's redirect to the endpoint URL
// with the extra query concatenated, as LINE's secondary redirect does.
func (h *Handler) sandboxLIFFOpen(c echo.Context) error {
	s, err := h.sandboxLinks()
	if err != nil {
		return err
	}
	liffID, user := c.Param("liffID"), c.QueryParam("user")
	if _, err := s.LIFFSession(liffID, user); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sandboxLIFFCookie, Value: url.QueryEscape(liffID + "|" + user), Path: "/sandbox",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.cfg.SecureCookies()})
	// One set under the narrower path before would be sent first and win: it goes.
	c.SetCookie(&http.Cookie{Name: sandboxLIFFCookie, Path: "/sandbox/liff", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.cfg.SecureCookies()})
	q, _ := url.ParseQuery(c.QueryParam("q"))
	return c.Redirect(http.StatusSeeOther, "/liff/link/"+url.PathEscape(liffID)+"?"+q.Encode())
}

// sandboxLIFFSession is what the LIFF SDK stand-in asks on init.
func (h *Handler) sandboxLIFFSession(c echo.Context) error {
	s, err := h.sandboxLinks()
	if err != nil {
		return err
	}
	liffID, user, ok := sandboxLIFFOpened(c)
	if !ok {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "not opened from the sandbox LINE app"})
	}
	if liffID != c.Param("liffID") {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "opened for another LIFF app"})
	}
	sess, err := s.LIFFSession(liffID, user)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	// The CSRF token lets the SDK stand-in post requestFriendship's follow like a console form.
	return c.JSON(http.StatusOK, struct {
		sbui.LIFFSession
		CSRF string `json:"csrf"`
	}{sess, req(c).CSRF})
}

// sandboxLIFFFollow plays liff.requestFriendship(): the LINE user the LIFF app was opened as
// adds (or unblocks) the account, as the simulator's follow does, webhook included.
func (h *Handler) sandboxLIFFFollow(c echo.Context) error {
	s, err := h.sandboxLinks()
	if err != nil {
		return err
	}
	liffID, user, ok := sandboxLIFFOpened(c)
	if !ok {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "not opened from the sandbox LINE app"})
	}
	if liffID != c.Param("liffID") || user == "" {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "opened for another LIFF app"})
	}
	chat, err := s.LIFFChat(c.Request().Context(), req(c).User.TeamID, liffID, user)
	if err != nil {
		return err
	}
	if chat.ChannelID == 0 {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "this team has not connected the LINE account"})
	}
	d, err := h.sandbox.Act(c.Request().Context(), req(c).User.TeamID, sbui.Action{ChannelID: chat.ChannelID, Customer: user, Kind: sbui.ActFollow})
	if err != nil {
		return err
	}
	c.Response().Header().Set(webhookStatusHeader, strconv.Itoa(d.Status))
	return c.JSON(http.StatusOK, map[string]string{"status": "friend"})
}

// sandboxLIFFClosed plays LINE after liff.closeWindow(): the LIFF window is gone and the user
// is back in the chat, which the simulator shows.
func (h *Handler) sandboxLIFFClosed(c echo.Context) error {
	s, err := h.sandboxLinks()
	if err != nil {
		return err
	}
	user := ""
	if liffID, u, ok := sandboxLIFFOpened(c); ok && liffID == c.Param("liffID") {
		user = u
	}
	vm, err := s.LIFFChat(c.Request().Context(), req(c).User.TeamID, c.Param("liffID"), user)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, liffview.LineClosed(h.barePage(c, "liff.sandbox_title"), vm))
}

// sandboxWA plays wa.me/{digits}?text=…: the draft, sent as a chosen WhatsApp user.
func (h *Handler) sandboxWA(c echo.Context) error {
	s, err := h.sandboxLinks()
	if err != nil {
		return err
	}
	vm, err := s.WADraft(c.Request().Context(), req(c).User.TeamID, c.Param("digits"), c.QueryParam("text"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, liffview.WhatsAppDraft(h.barePage(c, "liff.sandbox_wa_title"), vm))
}

// sandboxWASend sends the draft through the simulator and shows the conversation.
func (h *Handler) sandboxWASend(c echo.Context) error {
	id, _ := strconv.ParseInt(c.FormValue("account"), 10, 64)
	a := sbui.Action{ChannelID: id, Customer: c.FormValue("customer"), Kind: sbui.ActText, Text: c.FormValue("text")}
	back := "/sandbox/simulator?" + url.Values{"account": {c.FormValue("account")}, "customer": {a.Customer}}.Encode()
	return h.sandboxActThenChat(c, a, back)
}

// sandboxActThenChat plays the customer's action, says how our webhook took it, and shows the
// conversation at back.
func (h *Handler) sandboxActThenChat(c echo.Context, a sbui.Action, back string) error {
	d, err := h.sandbox.Act(c.Request().Context(), req(c).User.TeamID, a)
	if err != nil {
		return h.sandboxDone(c, back, err, "", "")
	}
	c.Response().Header().Set(webhookStatusHeader, strconv.Itoa(d.Status))
	kind, key := d.Outcome()
	h.flash(c, kind, req(c).Loc.T(key, "URL", d.URL, "Status", d.Status, "Error", d.Err))
	return c.Redirect(http.StatusSeeOther, back)
}

// sandboxLIFFOpened reads which LIFF app the sandbox's LINE app last opened, and as which user.
func sandboxLIFFOpened(c echo.Context) (liffID, user string, ok bool) {
	ck, err := c.Cookie(sandboxLIFFCookie)
	if err != nil {
		return "", "", false
	}
	v, _ := url.QueryUnescape(ck.Value)
	liffID, user, _ = strings.Cut(v, "|")
	return liffID, user, true
}

// lineAccountParam is the basic id in the address, which LINE's links write as %40bearbakery.
func lineAccountParam(c echo.Context) string {
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil {
		return c.Param("id")
	}
	return id
}

// sandboxLineAccount plays line.me/R/ti/p/@{basic id}: the official account's page in LINE,
// where a LINE user adds it as a friend or unblocks it.
func (h *Handler) sandboxLineAccount(c echo.Context) error {
	s, err := h.sandboxLinks()
	if err != nil {
		return err
	}
	_, user, _ := sandboxLIFFOpened(c)
	vm, err := s.LineAccount(c.Request().Context(), req(c).User.TeamID, lineAccountParam(c), user)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, liffview.LineAccount(h.barePage(c, "liff.sandbox_title"), vm))
}

// sandboxLineAccountFollow adds (or unblocks) the account as the chosen LINE user; LINE's follow
// webhook arrives, and the user is back in the chat.
func (h *Handler) sandboxLineAccountFollow(c echo.Context) error {
	s, err := h.sandboxLinks()
	if err != nil {
		return err
	}
	vm, err := s.LineAccount(c.Request().Context(), req(c).User.TeamID, lineAccountParam(c), "")
	if err != nil {
		return err
	}
	if vm.ChannelID == 0 {
		return apperr.ErrNotFound
	}
	user := c.FormValue("user")
	back := "/sandbox/simulator?" + url.Values{"account": {strconv.FormatInt(vm.ChannelID, 10)}, "customer": {user}}.Encode()
	return h.sandboxActThenChat(c, sbui.Action{ChannelID: vm.ChannelID, Customer: user, Kind: sbui.ActFollow}, back)
}
