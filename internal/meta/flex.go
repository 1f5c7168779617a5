package meta

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// flexInt decodes a JSON number or numeric string. Other shapes, fractions out of
// range and garbage decode as zero: Meta's payloads disagree on number encodings, and one
// odd field must not make a whole answer unreadable.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*n = 0
	if len(b) == 0 {
		return nil
	}
	var s string
	switch {
	case b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		s = string(b)
	default:
		return nil
	}
	*n = flexInt(parseInt(s))
	return nil
}

// parseInt reads an integer from s, truncating fractions and returning zero for values
// that do not fit in an int64.
func parseInt(s string) int64 {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0
	}
	return int64(f)
}

// JSON tree helpers for webhook bodies, which are decoded into `any` (with UseNumber) so
// that a wrongly typed field is read as empty instead of failing the whole batch.

func field(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, path ...string) string {
	switch x := field(v, path...).(type) {
	case string:
		return x
	case json.Number:
		// Kept verbatim so that long numeric ids keep every digit.
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func num(v any, path ...string) int64 {
	switch x := field(v, path...).(type) {
	case json.Number:
		return parseInt(x.String())
	case string:
		return parseInt(x)
	}
	return 0
}

func boolean(v any, path ...string) bool {
	switch x := field(v, path...).(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

func list(v any, path ...string) []any {
	a, _ := field(v, path...).([]any)
	return a
}

func object(v any, path ...string) map[string]any {
	m, _ := field(v, path...).(map[string]any)
	return m
}
