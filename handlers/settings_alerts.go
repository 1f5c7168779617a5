package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/settings"
)

// alertsForm is the alert recipients form as submitted.
type alertsForm struct{ models.AlertInput }

// Validate returns the settings and every problem with the form; bad addresses are named.
func (f alertsForm) Validate() (models.AlertSettings, models.FieldErrors, []string) {
	return f.Parse()
}

var alertFields = []string{"roles", "addresses"}

func (h *Handler) settingsAlertsPage(c echo.Context) error {
	a, err := h.members.AlertSettings(c.Request().Context(), req(c).User)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.Alerts(h.page(c, "alerts.title"), settings.NewAlertsVM(a)))
}

func (h *Handler) settingsAlerts(c echo.Context) error {
	r := req(c)
	params, err := c.FormParams()
	if err != nil {
		return err
	}
	f := alertsForm{models.AlertInput{Roles: params["roles"], Addresses: params.Get("addresses")}}
	shown := models.AlertInput{Roles: f.Roles, Addresses: retyped(f.Addresses)}
	a, fe, bad := f.Validate()
	if len(fe) > 0 {
		errs, msg := fieldMessages(r.Loc, fe, alertFields...)
		if fe.Has("addresses") && len(bad) > 0 {
			for i := range bad {
				bad[i] = retyped(bad[i])
			}
			errs["addresses"] = r.Loc.T("error.alert_address_invalid", "Addresses", strings.Join(bad, ", "))
		} else if fe.Has("addresses") {
			errs["addresses"] = r.Loc.T("error.alert_address_count", "Max", models.MaxAlertAddresses)
		}
		return render(c, http.StatusUnprocessableEntity, settings.Alerts(h.page(c, "alerts.title"), settings.NewAlertsFormVM(shown, errs, msg)))
	}
	if err := h.members.SaveAlertSettings(c.Request().Context(), r.User, a); err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		errs, msg := formErrors(r.Loc, ae, alertFields...)
		return render(c, ae.Status, settings.Alerts(h.page(c, "alerts.title"), settings.NewAlertsFormVM(shown, errs, msg)))
	}
	h.flash(c, "success", r.Loc.T("alerts.saved_flash"))
	return redirect(c, "/settings/alerts")
}
