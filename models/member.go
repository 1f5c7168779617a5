package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TokenPurpose says what a single-use account link is for.
type TokenPurpose string

// Account link purposes.
const (
	TokenInvite TokenPurpose = "invite"
	TokenReset  TokenPurpose = "reset"
)

// Lifetimes of account links: an invitation waits a week for someone to read their mail; a
// password reset is asked for by the person at the keyboard, so an hour is plenty and keeps a
// leaked link short-lived.
const (
	InviteLifetime = 7 * 24 * time.Hour
	ResetLifetime  = time.Hour
)

// UserToken is a single-use account link; only the SHA-256 of its secret is stored.
type UserToken struct {
	ID        int64
	UserID    int64
	Purpose   TokenPurpose
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
}

// InviteInput is what an admin types to invite a team member.
type InviteInput struct {
	Email  string
	Name   string
	Role   Role
	Locale string // the language of the invitation and of the member's console
}

// Normalize trims the name and lower-cases the email.
func (in *InviteInput) Normalize() {
	in.Email = NormalizeEmail(in.Email)
	in.Name = NormalizeName(in.Name)
}

// Validate returns every problem with a normalised invitation.
func (in InviteInput) Validate() FieldErrors {
	var fe FieldErrors
	fe.Add("email", EmailProblem(in.Email))
	fe.Add("name", NameProblem(in.Name))
	if !in.Role.Valid() {
		fe.Add("role", "error.role_invalid")
	}
	if !ValidLocale(in.Locale) {
		fe.Add("locale", "error.locale_invalid")
	}
	return fe
}

// MaxAlertAddresses bounds the extra alert addresses a team may list.
const MaxAlertAddresses = 20

// RoleList is a list of roles kept in a jsonb column.
type RoleList []Role

// Value encodes the list as a JSON array; nil becomes [].
func (l RoleList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Role(l))
	return string(b), err
}

// Scan decodes a JSON array.
func (l *RoleList) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case []byte:
		return json.Unmarshal(v, (*[]Role)(l))
	case string:
		return json.Unmarshal([]byte(v), (*[]Role)(l))
	default:
		return fmt.Errorf("RoleList: cannot scan %T", src)
	}
}

// DefaultAlertRoles receive channel alerts unless a team chooses otherwise: admins, and
// supervisors because they can reauthorise channels.
var DefaultAlertRoles = RoleList{RoleAdmin, RoleSupervisor}

// AlertSettings says who receives a team's channel-alert emails.
type AlertSettings struct {
	Roles     RoleList
	Addresses []string // extra addresses, lower-cased and deduplicated
}

// AlertInput is the alert settings form as typed: the chosen roles and one address per line.
type AlertInput struct {
	Roles     []string
	Addresses string
}

// Parse validates the form and returns the settings, or every problem at once. Each bad
// address is named in its message.
func (in AlertInput) Parse() (AlertSettings, FieldErrors, []string) {
	var out AlertSettings
	var fe FieldErrors
	var bad []string
	for _, r := range in.Roles {
		role := Role(r)
		if !role.Valid() {
			fe.Add("roles", "error.role_invalid")
			break
		}
		if !slices.Contains(out.Roles, role) {
			out.Roles = append(out.Roles, role)
		}
	}
	// Commas, semicolons and spaces separate addresses as well as new lines, as people paste lists.
	fields := strings.FieldsFunc(in.Addresses, func(r rune) bool {
		return r == '\n' || r == '\r' || r == ',' || r == ';' || r == ' ' || r == '\t'
	})
	for _, f := range fields {
		e := NormalizeEmail(f)
		if EmailProblem(e) != "" {
			bad = append(bad, f)
			continue
		}
		if !slices.Contains(out.Addresses, e) {
			out.Addresses = append(out.Addresses, e)
		}
	}
	if len(bad) > 0 {
		fe.Add("addresses", "error.alert_address_invalid")
	} else if len(out.Addresses) > MaxAlertAddresses {
		fe.Add("addresses", "error.alert_address_count")
	}
	if len(fe) == 0 && len(out.Roles) == 0 && len(out.Addresses) == 0 {
		fe.Add("roles", "error.alert_nobody")
	}
	if out.Roles == nil {
		out.Roles = RoleList{}
	}
	return out, fe, bad
}

// AccountEmailKind tells an invitation from a password reset.
type AccountEmailKind string

// Account email kinds.
const (
	EmailInvite AccountEmailKind = "invite"
	EmailReset  AccountEmailKind = "reset"
)

// AccountEmail is the data of an invitation or password-reset email.
type AccountEmail struct {
	Kind        AccountEmailKind
	Locale      string
	To          string
	Name        string
	TeamName    string
	InviterName string
	Link        string
	ExpiresAt   time.Time
	TimeZone    TimeZone // the team's; the email names it
}
