// Package users renders the team-members pages: the list, the invitation form and the edit form.
package users

import (
	"time"

	"github.com/omnilink/omnilink/models"
)

// Row is one user in the team list.
type Row struct {
	ID        int64
	Name      string
	Email     string
	Role      string
	Disabled  bool
	Pending   bool   // invited, no password chosen yet
	InvitedAt string // when the latest invitation was sent, for pending members
	Expired   bool   // the invitation's link has expired: resend it
	LastLogin string
	IsSelf    bool
}

// ListVM is the team-members page.
type ListVM struct {
	Rows  []Row
	Roles []string
}

// NewListVM builds the members page for viewer at now, with times in the team's zone.
func NewListVM(zone models.TimeZone, list []models.User, viewerID int64, now time.Time) ListVM {
	vm := ListVM{Roles: RoleNames()}
	for _, u := range list {
		row := Row{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), Disabled: u.Disabled(), Pending: u.Pending(), IsSelf: u.ID == viewerID}
		row.LastLogin = formatTime(zone, u.LastLoginAt)
		if row.Pending {
			row.InvitedAt = formatTime(zone, u.InvitedAt)
			row.Expired = u.InvitedAt != nil && !now.Before(u.InvitedAt.Add(models.InviteLifetime))
		}
		vm.Rows = append(vm.Rows, row)
	}
	return vm
}

func formatTime(zone models.TimeZone, t *time.Time) string {
	if t == nil {
		return ""
	}
	return zone.Format(*t)
}

// RoleNames lists every role's value in display order.
func RoleNames() []string {
	out := make([]string, len(models.Roles))
	for i, r := range models.Roles {
		out[i] = string(r)
	}
	return out
}

// InviteForm is the invitation form with its values and per-field errors.
type InviteForm struct {
	Email   string
	Name    string
	Role    string
	Locale  string
	Roles   []string
	Locales []string
	Errors  map[string]string
	Error   string
}

// NewInviteForm is the form as typed (or empty, with the defaults, on first show).
func NewInviteForm(in models.InviteInput, errs map[string]string, msg string) InviteForm {
	return InviteForm{Email: in.Email, Name: in.Name, Role: string(in.Role), Locale: in.Locale,
		Roles: RoleNames(), Locales: models.Locales, Errors: errs, Error: msg}
}

// EditForm is a member's edit form.
type EditForm struct {
	ID     int64
	Email  string
	Name   string
	Errors map[string]string
	Error  string
}

// NewEditForm shows u with name as typed.
func NewEditForm(u *models.User, name string, errs map[string]string, msg string) EditForm {
	return EditForm{ID: u.ID, Email: u.Email, Name: name, Errors: errs, Error: msg}
}
