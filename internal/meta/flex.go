package meta

import (
	"bytes"
	"encoding/json"

	"github.com/omnilink/omnilink/internal/jsontree"
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
	*n = flexInt(jsontree.ParseInt(s))
	return nil
}
