// Package jsontree reads fields from JSON decoded into `any` (with UseNumber). Webhook bodies are
// read this way so that one wrongly typed field reads as empty instead of failing a whole delivery.
package jsontree

import (
	"encoding/json"
	"math"
	"strconv"
)

// Field walks path through nested objects; nil when any step is missing or not an object.
func Field(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Str reads a string; numbers keep every digit (long numeric ids) and booleans read as text.
func Str(v any, path ...string) string {
	switch x := Field(v, path...).(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// Int reads an integer from a number or numeric string; anything else, or out of range, is 0.
func Int(v any, path ...string) int64 {
	switch x := Field(v, path...).(type) {
	case json.Number:
		return ParseInt(x.String())
	case string:
		return ParseInt(x)
	}
	return 0
}

// Bool reads true from true or "true".
func Bool(v any, path ...string) bool {
	switch x := Field(v, path...).(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

// List reads an array.
func List(v any, path ...string) []any {
	a, _ := Field(v, path...).([]any)
	return a
}

// Object reads an object.
func Object(v any, path ...string) map[string]any {
	m, _ := Field(v, path...).(map[string]any)
	return m
}

// ParseInt reads an integer from s, truncating fractions and returning zero for values that do
// not fit in an int64.
func ParseInt(s string) int64 {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0
	}
	return int64(f)
}
