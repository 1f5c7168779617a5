package channels

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/omnilink/omnilink/internal/apperr"
)

// fieldErrors collects every problem of a form, in field order, so one submit shows them all.
type fieldErrors []*apperr.Error

func (fe *fieldErrors) add(field, key string, args ...any) {
	e := apperr.Invalid(field, key)
	if len(args) > 0 {
		m := map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			m[args[i].(string)] = args[i+1]
		}
		e = e.With(m)
	}
	*fe = append(*fe, e)
}

func (fe fieldErrors) err() error { return apperr.Fields(fe) }

var onlyDigits = regexp.MustCompile(`^[0-9]+$`)

// Platform ids are all digits; their real lengths vary, so the rule is wide and the message
// says exactly which part is wrong.
const minIDDigits, maxIDDigits = 6, 20

// numericID checks a platform id typed into field; required ids must not be empty.
func (fe *fieldErrors) numericID(field, value string, required bool) {
	switch {
	case value == "":
		if required {
			fe.add(field, "channels.error_required")
		}
	case !onlyDigits.MatchString(value):
		fe.add(field, "channels.error_digits_only")
	case len(value) < minIDDigits || len(value) > maxIDDigits:
		fe.add(field, "channels.error_digits_length", "Min", minIDDigits, "Max", maxIDDigits, "Got", len(value))
	}
}

// token checks a pasted access token: present, long enough to be whole, one line.
func (fe *fieldErrors) token(field, value, shapeKey string) {
	switch {
	case value == "":
		fe.add(field, "channels.error_required")
	case utf8.RuneCountInString(value) < 20 || strings.ContainsAny(value, " \t\r\n"):
		fe.add(field, shapeKey)
	}
}
