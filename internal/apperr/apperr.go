// Package apperr defines the typed errors services return; each carries the HTTP status and the
// i18n message key the console shows, so handlers map them in one place.
package apperr

import (
	"errors"
	"net/http"
)

// Error is a failure a user can be told about.
type Error struct {
	Status int    // HTTP status to answer with
	Key    string // i18n message key shown to the user
	Field  string // form field at fault, if any
	Args   map[string]any
	Err    error    // underlying cause, for logs only
	Fields []*Error // every field at fault, when a form had several (see Fields)
}

// Error returns the message key and cause, for logs.
func (e *Error) Error() string {
	s := e.Key
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is match on status and key, so sentinel values compare by meaning.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.Key == e.Key
}

// With returns a copy carrying template arguments for the message.
func (e *Error) With(args map[string]any) *Error {
	c := *e
	c.Args = args
	return &c
}

// Wrap returns a copy carrying cause as its underlying error.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// Sentinels for the common cases.
var (
	ErrNotFound     = &Error{Status: http.StatusNotFound, Key: "error.not_found"}
	ErrForbidden    = &Error{Status: http.StatusForbidden, Key: "error.forbidden"}
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Key: "error.unauthorized"}
	ErrTooMany      = &Error{Status: http.StatusTooManyRequests, Key: "error.too_many_attempts"}
	ErrInternal     = &Error{Status: http.StatusInternalServerError, Key: "error.internal"}
)

// Invalid reports bad input in one form field.
func Invalid(field, key string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Key: key, Field: field}
}

// Fields reports bad input in several form fields at once, so a form can show every problem
// after one submit; nil when errs is empty.
func Fields(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	return &Error{Status: http.StatusUnprocessableEntity, Key: "error.invalid_form", Fields: errs}
}

// FieldErrors lists the field errors e carries: its Fields, or itself when it names one field.
func (e *Error) FieldErrors() []*Error {
	if len(e.Fields) > 0 {
		return e.Fields
	}
	if e.Field != "" {
		return []*Error{e}
	}
	return nil
}

// Conflict reports a state clash such as a duplicate.
func Conflict(field, key string) *Error {
	return &Error{Status: http.StatusConflict, Key: key, Field: field}
}

// Forbidden reports an action the actor may not take, with a specific reason.
func Forbidden(key string) *Error { return &Error{Status: http.StatusForbidden, Key: key} }

// From extracts an *Error from err's chain; ok is false for unexpected errors.
func From(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}
