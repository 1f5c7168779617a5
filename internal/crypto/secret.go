package crypto

import (
	"database/sql/driver"
	"fmt"
	"log/slog"
)

const redacted = "[redacted]"

// Secret is a string, such as an access token, that prints as [redacted] in
// fmt, JSON, text encoders and slog, so it cannot be logged by accident.
// fmt cannot call methods on unexported struct fields, so a struct holding a
// Secret in one needs its own String method.
type Secret string

// Reveal returns the underlying value; its name makes every use easy to find.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String returns [redacted].
func (Secret) String() string { return redacted }

// GoString returns [redacted] for %#v.
func (Secret) GoString() string { return redacted }

// Format writes [redacted] for every fmt verb, including %d and %x.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue returns [redacted] for slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns [redacted] for encoders that use encoding.TextMarshaler
// (XML, TOML). encoding/json writes string-kind map keys directly, so never
// use a Secret as a map key.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Value refuses to write a Secret to a database, so a plaintext token cannot
// reach a column by accident; store Box.Seal(secret) instead.
func (Secret) Value() (driver.Value, error) { return nil, ErrPlaintextSecret }
