// Package settings renders the team's settings pages.
package settings

import (
	"slices"
	"strings"

	"github.com/omnilink/omnilink/models"
)

// RoleChoice is one role's checkbox on the alert recipients page.
type RoleChoice struct {
	Value   string
	Checked bool
}

// AlertsVM is the alert recipients page.
type AlertsVM struct {
	Roles     []RoleChoice
	Addresses string // one per line
	Max       int
	Errors    map[string]string
	Error     string
}

// NewAlertsVM shows a team's saved alert settings.
func NewAlertsVM(a models.AlertSettings) AlertsVM {
	roles := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		roles[i] = string(r)
	}
	return NewAlertsFormVM(models.AlertInput{Roles: roles, Addresses: strings.Join(a.Addresses, "\n")}, nil, "")
}

// NewAlertsFormVM shows the form as typed, with its errors.
func NewAlertsFormVM(in models.AlertInput, errs map[string]string, msg string) AlertsVM {
	vm := AlertsVM{Addresses: in.Addresses, Max: models.MaxAlertAddresses, Errors: errs, Error: msg}
	for _, r := range models.Roles {
		vm.Roles = append(vm.Roles, RoleChoice{Value: string(r), Checked: slices.Contains(in.Roles, string(r))})
	}
	return vm
}
