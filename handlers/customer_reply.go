package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	customerviews "github.com/omnilink/omnilink/views/customers"
)

// customerReply sends an agent's text to one of the customer's identities through the one
// outbound path; when the window or the friendship rules it out, the page says why.
func (h *Handler) customerReply(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	form := customerviews.ReplyForm{ContactID: c.FormValue("contact_id"), Text: c.FormValue("text"), Key: c.FormValue("key")}
	contact, _ := strconv.ParseInt(form.ContactID, 10, 64)
	if len(form.Key) < 16 || len(form.Key) > 64 {
		return apperr.Invalid("key", "error.bad_request")
	}
	res, err := h.customers.Reply(c.Request().Context(), r.User, id, contact, form.Text, form.Key)
	if problems := fieldProblems(r.Loc.TMap, err, "text", "contact_id"); problems != nil {
		return h.renderCustomer(c, http.StatusUnprocessableEntity, id, nil, problems, form)
	}
	if err != nil {
		return err
	}
	if res.Outcome == models.SendQueued || res.Outcome == models.SendSent {
		h.flash(c, "success", r.Loc.T("customers.reply_sent"))
	} else {
		h.flash(c, "error", r.Loc.T("customers.reply_not_sent", "Reason", r.Loc.T("messaging.outcome."+string(res.Outcome))))
	}
	return redirect(c, "/customers/"+idString(id)+"#reply")
}

// fieldProblems collects the field errors among err (one, or several joined) for the named
// fields; nil when err carries none of them.
func fieldProblems(t func(string, map[string]any) string, err error, fields ...string) customerviews.Problems {
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := customerviews.Problems{}
	for _, e := range list {
		var ae *apperr.Error
		if !errors.As(e, &ae) {
			return nil
		}
		for _, f := range fields {
			if ae.Field == f {
				out[f] = t(ae.Key, ae.Args)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
