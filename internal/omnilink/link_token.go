package omnilink

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"regexp"
	"strings"
)

// tokenBytes is the link token's entropy: 128 bits.
const tokenBytes = 16

// tokenLen is the length of a token in its URL form (unpadded base64url of 16 bytes).
const tokenLen = 22

// CodePrefix starts every WhatsApp link code, so a code stands out in the prefilled message.
const CodePrefix = "OL-"

// newToken returns a fresh random token and the hash that is stored for it.
func newToken() (raw string, hash []byte) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b)
	raw = base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(raw))
	return raw, h[:]
}

// ParseToken checks that s has a token's exact form and returns the hash to look it up by;
// anything else (truncated, padded, re-encoded, too long) is not a token.
func ParseToken(s string) (hash []byte, ok bool) {
	if len(s) != tokenLen {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != tokenBytes || base64.RawURLEncoding.EncodeToString(b) != s {
		return nil, false
	}
	h := sha256.Sum256([]byte(s))
	return h[:], true
}

// newCode returns a WhatsApp link code: the prefix and 8 base32 characters (40 bits), checked
// for uniqueness among open tokens by the database.
func newCode() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return CodePrefix + base32.StdEncoding.EncodeToString(b)
}

var codeRE = regexp.MustCompile(`(?i)\bOL-([A-Z2-7]{8})\b`)

// FindCode returns the first link code in a message, upper-cased, or "" when there is none.
func FindCode(text string) string {
	if len(text) > 4096 {
		text = text[:4096]
	}
	m := codeRE.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return CodePrefix + strings.ToUpper(m[1])
}

// hashIDToken is how a used ID token is remembered without keeping it.
func hashIDToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}
