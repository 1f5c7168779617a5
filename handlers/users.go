package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/users"
)

func (h *Handler) userList(c echo.Context) error {
	r := req(c)
	list, err := h.users.TeamUsers(c.Request().Context(), r.User.TeamID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, users.List(h.page(c, "users.title"), users.NewListVM(r.Team.TimeZone, list, r.User.ID, h.now())))
}

func (h *Handler) userRole(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	role := models.Role(c.FormValue("role"))
	u, err := h.accounts.ChangeRole(c.Request().Context(), r.User, id, role)
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("users.role_changed", "Name", u.Name, "Role", r.Loc.T("role."+string(role))))
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
	u, err := h.accounts.SetDisabled(c.Request().Context(), r.User, id, disabled)
	if err != nil {
		return err
	}
	key := "users.enabled_flash"
	if disabled {
		key = "users.disabled_flash"
	}
	h.flash(c, "success", r.Loc.T(key, "Name", u.Name))
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
