package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/users"
)

func roleNames() []string {
	out := make([]string, len(models.Roles))
	for i, r := range models.Roles {
		out[i] = string(r)
	}
	return out
}

func (h *Handler) userList(c echo.Context) error {
	r := req(c)
	list, err := h.users.TeamUsers(c.Request().Context(), r.User.TeamID)
	if err != nil {
		return err
	}
	rows := make([]users.Row, 0, len(list))
	for _, u := range list {
		row := users.Row{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), Disabled: u.Disabled(), IsSelf: u.ID == r.User.ID}
		if u.LastLoginAt != nil {
			row.LastLogin = r.Team.TimeZone.Format(*u.LastLoginAt)
		}
		rows = append(rows, row)
	}
	return render(c, http.StatusOK, users.List(h.page(c, "users.title"), rows, roleNames()))
}

func (h *Handler) userNew(c echo.Context) error {
	return render(c, http.StatusOK, users.New(h.page(c, "users.new"), users.Form{Role: string(models.RoleAgent)}, roleNames()))
}

func (h *Handler) userCreate(c echo.Context) error {
	r := req(c)
	in := models.UserInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: models.Role(c.FormValue("role")), Password: c.FormValue("password")}
	u, err := h.accounts.CreateUser(c.Request().Context(), r.User, in)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		f := users.Form{Email: in.Email, Name: in.Name, Role: string(in.Role)}
		f.Errors, f.Error = formErrors(r.Loc, ae, "email", "name", "role", "password")
		return render(c, ae.Status, users.New(h.page(c, "users.new"), f, roleNames()))
	}
	h.flash(c, "success", r.Loc.T("users.created", "Name", u.Name))
	return redirect(c, "/users")
}

func (h *Handler) userRole(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.accounts.ChangeRole(c.Request().Context(), r.User, id, models.Role(c.FormValue("role"))); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("users.role_changed"))
	return redirect(c, "/users")
}

func (h *Handler) userDisable(c echo.Context) error { return h.setDisabled(c, true) }
func (h *Handler) userEnable(c echo.Context) error  { return h.setDisabled(c, false) }

func (h *Handler) setDisabled(c echo.Context, disabled bool) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.accounts.SetDisabled(c.Request().Context(), r.User, id, disabled); err != nil {
		return err
	}
	key := "users.enabled_flash"
	if disabled {
		key = "users.disabled_flash"
	}
	h.flash(c, "success", r.Loc.T(key))
	return redirect(c, "/users")
}

// pathID parses the :id parameter; a malformed id is simply not found.
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.ErrNotFound
	}
	return id, nil
}
