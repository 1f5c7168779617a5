package models

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Locales the console speaks; the first is the default.
var Locales = []string{"zh-TW", "en"}

// ValidLocale reports whether l is a supported locale.
func ValidLocale(l string) bool { return l == "zh-TW" || l == "en" }

// User is a console account within one team.
type User struct {
	ID           int64
	TeamID       int64
	Email        string
	Name         string
	PasswordHash string
	Role         Role
	Locale       string // empty means the team's locale
	DisabledAt   *time.Time
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Disabled reports whether the account has been switched off.
func (u *User) Disabled() bool { return u.DisabledAt != nil }

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

// Password length limits; the upper bound keeps hashing cost bounded.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// UserInput is the data an admin submits to create or change a user.
type UserInput struct {
	Email    string
	Name     string
	Role     Role
	Password string
}

// FieldError names the offending form field and an i18n message key.
type FieldError struct {
	Field string
	Key   string
}

// Error implements error with the message key, for logs.
func (e FieldError) Error() string { return e.Field + ": " + e.Key }

// ValidateNewUser checks a user-creation form; the result is empty when all is well.
func (in UserInput) ValidateNewUser() []FieldError {
	var errs []FieldError
	if _, err := mail.ParseAddress(in.Email); err != nil || !strings.Contains(in.Email, "@") || len(in.Email) > 254 || strings.ContainsAny(in.Email, " <>") {
		errs = append(errs, FieldError{"email", "error.email_invalid"})
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Name)); n < 1 || n > 100 {
		errs = append(errs, FieldError{"name", "error.name_length"})
	}
	if !in.Role.Valid() {
		errs = append(errs, FieldError{"role", "error.role_invalid"})
	}
	errs = append(errs, ValidatePassword(in.Password)...)
	return errs
}

// ValidatePassword checks the length rules for a new password.
func ValidatePassword(p string) []FieldError {
	if n := utf8.RuneCountInString(p); n < MinPasswordLen || len(p) > MaxPasswordLen {
		return []FieldError{{"password", "error.password_length"}}
	}
	return nil
}
