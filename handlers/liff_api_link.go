package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/omnilink"
)

// liffLinkBodyMax bounds the JSON the LIFF page posts (a token and an ID token).
const liffLinkBodyMax = 8 << 10

// liffLinkRequest is what the LIFF page posts. The ID token is LINE's raw JWT: decoded
// claims from the browser are never trusted.
type liffLinkRequest struct {
	Token   string `json:"token"`
	IDToken string `json:"idToken"`
	Lang    string `json:"lang"`
	Friend  *bool  `json:"friend"`
}

// Validate returns every field at fault.
func (r *liffLinkRequest) Validate() map[string]string {
	errs := map[string]string{}
	if strings.TrimSpace(r.Token) == "" {
		errs["token"] = "required"
	}
	if strings.TrimSpace(r.IDToken) == "" {
		errs["idToken"] = "required"
	}
	if r.Friend == nil {
		errs["friend"] = "required"
	}
	return errs
}

// liffLinkResponse is the JSON answer: {status, reason?, message}.
type liffLinkResponse struct {
	Status       string            `json:"status"`
	Reason       string            `json:"reason,omitempty"`
	Message      string            `json:"message"`
	AddFriendURL string            `json:"addFriendUrl,omitempty"`
	Blocked      bool              `json:"blocked,omitempty"`
	Fields       map[string]string `json:"fields,omitempty"`
}

// liffAPILink verifies the LIFF user with LINE and completes the link. Same-origin only:
// no CORS headers are ever sent, and a foreign Origin is refused.
func (h *Handler) liffAPILink(c echo.Context) error {
	loc := req(c).Loc
	if !h.sameOriginRequest(c) {
		return c.JSON(http.StatusForbidden, liffLinkResponse{Status: "error", Reason: "origin", Message: loc.T("liff.bad_request")})
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, liffLinkBodyMax+1))
	if err != nil || len(body) > liffLinkBodyMax {
		return c.JSON(http.StatusRequestEntityTooLarge, liffLinkResponse{Status: "error", Reason: "too_large", Message: loc.T("liff.bad_request")})
	}
	var in liffLinkRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return c.JSON(http.StatusBadRequest, liffLinkResponse{Status: "error", Reason: "bad_json", Message: loc.T("liff.bad_request")})
	}
	if errs := in.Validate(); len(errs) > 0 {
		return c.JSON(http.StatusBadRequest, liffLinkResponse{Status: "error", Reason: "bad_request", Message: loc.T("liff.bad_request"), Fields: errs})
	}
	if lang := liffLanguage(in.Lang); lang != "" {
		loc = h.i18n.For(lang)
	}
	res, err := h.links.LinkLIFF(c.Request().Context(), omnilink.LIFFSubmission{Token: in.Token, IDToken: in.IDToken, NotFriend: !*in.Friend})
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			h.log.Error("liff link failed", "error", err)
			return c.JSON(http.StatusInternalServerError, liffLinkResponse{Status: "error", Reason: "internal", Message: loc.T("campaigns.reason_internal")})
		}
		if errors.Is(err, omnilink.ErrIDTokenRejected) {
			h.log.Info("liff id token rejected", "error", err)
		}
		return c.JSON(ae.Status, liffLinkResponse{Status: "error", Reason: ae.Key, Message: loc.T(ae.Key)})
	}
	out := liffLinkResponse{Status: string(res.Status), AddFriendURL: res.AddFriendURL, Blocked: res.Blocked}
	switch res.Status {
	case omnilink.StatusLinked:
		out.Message = loc.T("liff.linked_body")
	case omnilink.StatusFailed:
		out.Reason, out.Message = string(res.Reason), loc.T(res.Reason.Key())
	case omnilink.StatusFriendRequired:
		out.Message = loc.T("liff.friend_body")
		if res.Blocked {
			out.Message = loc.T("liff.unblock_body")
		}
	}
	return c.JSON(http.StatusOK, out)
}

// liffLanguage maps LIFF's getAppLanguage() ("zh-TW", "zh-Hant", "en-US", "ja") to ours.
func liffLanguage(lang string) string {
	l := strings.ToLower(lang)
	switch {
	case l == "":
		return ""
	case strings.HasPrefix(l, "zh"):
		return "zh-TW"
	case strings.HasPrefix(l, "en"):
		return "en"
	}
	if i18n.Supported(lang) {
		return lang
	}
	return ""
}
