package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/settings"
)

// TeamSettings saves a team's own settings.
type TeamSettings interface {
	UpdateTeamSettings(ctx context.Context, teamID int64, name string, zone models.TimeZone) error
}

// teamSettingsForm is the team settings form as posted.
type teamSettingsForm struct {
	Name     string
	TimeZone string
}

// Validate returns every field's message key at once; empty means the form may be saved.
func (f teamSettingsForm) Validate() map[string]string {
	errs := map[string]string{}
	if n := utf8.RuneCountInString(f.Name); n == 0 || n > 200 {
		errs["name"] = "team_settings.error_name"
	}
	if !models.TimeZone(f.TimeZone).Valid() {
		errs["time_zone"] = "team_settings.error_time_zone"
	}
	return errs
}

func (f teamSettingsForm) view(loc *i18n.Localizer, errKeys map[string]string) settings.TeamForm {
	out := settings.TeamForm{Name: f.Name, TimeZone: f.TimeZone, Errors: map[string]string{}}
	for field, key := range errKeys {
		out.Errors[field] = loc.T(key)
	}
	return out
}

// teamSettingsPage shows the team's name and time zone.
func (h *Handler) teamSettingsPage(c echo.Context) error {
	r := req(c)
	f := teamSettingsForm{Name: r.Team.Name, TimeZone: string(r.Team.TimeZone.OrDefault())}
	return render(c, http.StatusOK, settings.Team(h.page(c, "team_settings.title"), settings.NewTeamVM(f.view(r.Loc, nil), time.Now())))
}

// teamSettingsSave validates and saves the form; a bad field re-renders the form with 422.
func (h *Handler) teamSettingsSave(c echo.Context) error {
	r := req(c)
	f := teamSettingsForm{Name: strings.TrimSpace(c.FormValue("name")), TimeZone: strings.TrimSpace(c.FormValue("time_zone"))}
	if errs := f.Validate(); len(errs) > 0 {
		return render(c, http.StatusUnprocessableEntity, settings.Team(h.page(c, "team_settings.title"), settings.NewTeamVM(f.view(r.Loc, errs), time.Now())))
	}
	if err := h.teams.UpdateTeamSettings(c.Request().Context(), r.User.TeamID, f.Name, models.TimeZone(f.TimeZone)); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("team_settings.saved"))
	return redirect(c, "/settings/team")
}
