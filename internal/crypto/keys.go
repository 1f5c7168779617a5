// Package crypto derives the server's subkeys from its master secret, seals
// secrets at rest with rotatable AES-256-GCM keys, and provides a string type
// that refuses to be printed.
package crypto

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
)

// MasterKeySize is the length in bytes of OMNILINK_SECRET_KEY once decoded.
const MasterKeySize = 32

// Purposes name the independent subkeys derived from the master key; the
// version suffix lets one purpose move to a new subkey without touching others.
const (
	PurposeSessionHash  = "omnilink/session-hash/v1"
	PurposeSessionBlock = "omnilink/session-block/v1"
	PurposeCSRF         = "omnilink/csrf/v1"
	PurposeTokens       = "omnilink/token-encryption/v1"
)

// ParseMasterKey decodes OMNILINK_SECRET_KEY (standard or URL-safe base64,
// padded or not) and checks that it holds exactly 32 bytes.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: it is empty; generate one with `openssl rand -base64 32`", ErrBadMasterKey)
	}
	var key []byte
	decoded := false
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			key, decoded = b, true
			break
		}
	}
	if !decoded {
		// The value itself is never echoed: it may be a real secret with a typo.
		return nil, fmt.Errorf("%w: it is not valid base64 (standard or URL-safe); generate one with `openssl rand -base64 32`", ErrBadMasterKey)
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("%w: it decodes to %d bytes, want %d; generate one with `openssl rand -base64 32`", ErrBadMasterKey, len(key), MasterKeySize)
	}
	if subtle.ConstantTimeCompare(key, make([]byte, MasterKeySize)) == 1 {
		return nil, fmt.Errorf("%w: it is all zero bytes, which looks like a placeholder", ErrBadMasterKey)
	}
	return key, nil
}

// DeriveKey returns n bytes of HKDF-SHA256 output keyed by master with purpose
// as the info string, so each purpose gets an independent subkey.
// It panics if purpose is empty or n is outside 1..8160, which are programming errors.
func DeriveKey(master []byte, purpose string, n int) []byte {
	if purpose == "" {
		panic("crypto: DeriveKey needs a purpose")
	}
	if n < 1 {
		panic("crypto: DeriveKey needs a positive length")
	}
	key, err := hkdf.Key(sha256.New, master, nil, purpose, n)
	if err != nil {
		panic("crypto: DeriveKey: " + err.Error())
	}
	return key
}

// Keys holds the subkeys the server derives from its master secret.
type Keys struct {
	// SessionHash authenticates session cookies (HMAC, 64 bytes).
	SessionHash []byte
	// SessionBlock encrypts session cookies (AES-256, 32 bytes).
	SessionBlock []byte
	// CSRF signs CSRF tokens (32 bytes).
	CSRF []byte
	// Tokens encrypts platform tokens at rest through a Box (AES-256, 32 bytes).
	Tokens []byte
}

// NewKeys derives every subkey from a 32-byte master key.
func NewKeys(master []byte) (Keys, error) {
	if len(master) != MasterKeySize {
		return Keys{}, fmt.Errorf("%w: got %d bytes, want %d", ErrBadMasterKey, len(master), MasterKeySize)
	}
	return Keys{
		SessionHash:  DeriveKey(master, PurposeSessionHash, 64),
		SessionBlock: DeriveKey(master, PurposeSessionBlock, 32),
		CSRF:         DeriveKey(master, PurposeCSRF, 32),
		Tokens:       DeriveKey(master, PurposeTokens, 32),
	}, nil
}

// String redacts the keys so a config dump cannot leak them.
func (Keys) String() string { return redacted }

// GoString redacts the keys for %#v.
func (Keys) GoString() string { return redacted }

// Format redacts the keys for every fmt verb.
func (Keys) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue redacts the keys in slog records.
func (Keys) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts the keys in JSON output.
func (Keys) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
