package models

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Locales the console speaks; the first is the default.
var Locales = []string{"zh-TW", "en"}

// ValidLocale reports whether l is a supported locale.
func ValidLocale(l string) bool { return l == "zh-TW" || l == "en" }

// User is a console account within one team.
type User struct {
	ID            int64
	TeamID        int64
	Email         string
	Name          string
	PasswordHash  string
	Role          Role
	Locale        string // empty means the team's locale
	DisabledAt    *time.Time
	InvitePending bool       // invited, no password chosen yet
	InvitedAt     *time.Time // when the latest invitation was sent
	LastLoginAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Disabled reports whether the account has been switched off.
func (u *User) Disabled() bool { return u.DisabledAt != nil }

// Pending reports whether the user was invited and has not chosen a password yet.
func (u *User) Pending() bool { return u.InvitePending }

// EffectiveLocale returns the user's own locale or, when unset, the team's.
func (u *User) EffectiveLocale(team *Team) string {
	if u.Locale != "" {
		return u.Locale
	}
	if team != nil && team.Locale != "" {
		return team.Locale
	}
	return Locales[0]
}

// Password rules: at least MinPasswordLen characters and at most MaxPasswordLen bytes, because
// bcrypt reads no further than 72 bytes (a Chinese character takes three).
const (
	MinPasswordLen = 10
	MaxPasswordLen = 72
)

// Name and email limits, as the users table checks them.
const (
	MaxNameLen  = 100
	MaxEmailLen = 254
)

// NormalizeEmail trims and lower-cases an email address. Text that is not UTF-8 is left as it
// is, because lower-casing would quietly turn its bad bytes into U+FFFD and make it look valid.
func NormalizeEmail(s string) string {
	if !utf8.ValidString(s) {
		return s
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// NormalizeName trims a person's name.
func NormalizeName(s string) string { return strings.TrimSpace(s) }

// FieldError names the offending form field and an i18n message key.
type FieldError struct {
	Field string
	Key   string
}

// Error implements error with the message key, for logs.
func (e FieldError) Error() string { return e.Field + ": " + e.Key }

// FieldErrors is every problem a form has, so they can all be shown at once.
type FieldErrors []FieldError

// Add records a problem with field when key is not empty.
func (fe *FieldErrors) Add(field, key string) {
	if key != "" {
		*fe = append(*fe, FieldError{field, key})
	}
}

// Has reports whether field has a problem.
func (fe FieldErrors) Has(field string) bool {
	for _, e := range fe {
		if e.Field == field {
			return true
		}
	}
	return false
}

// CleanText reports whether s is valid UTF-8 without control characters (NUL, newlines, escapes),
// which the database and every display would otherwise choke on.
func CleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// EmailProblem returns the message key for what is wrong with a normalised email, or "".
func EmailProblem(email string) string {
	if !CleanText(email) || len(email) < 3 || len(email) > MaxEmailLen || strings.ContainsAny(email, " <>\"\\,;") {
		return "error.email_invalid"
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || !strings.Contains(email, "@") {
		return "error.email_invalid"
	}
	return ""
}

// NameProblem returns the message key for what is wrong with a trimmed name, or "".
func NameProblem(name string) string {
	if !CleanText(name) {
		return "error.name_text"
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxNameLen {
		return "error.name_length"
	}
	return ""
}

// PasswordProblem returns the message key for what is wrong with a new password, or "".
func PasswordProblem(p string) string {
	switch {
	case !utf8.ValidString(p) || strings.ContainsRune(p, 0):
		return "error.password_text"
	case utf8.RuneCountInString(p) < MinPasswordLen:
		return "error.password_length"
	case len(p) > MaxPasswordLen:
		return "error.password_too_long"
	}
	return ""
}

// ValidatePassword checks the rules for a new password.
func ValidatePassword(p string) []FieldError {
	var fe FieldErrors
	fe.Add("password", PasswordProblem(p))
	return fe
}
