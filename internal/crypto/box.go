package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of a Box key (AES-256).
const KeySize = 32

const (
	sealVersion = "v1"
	// kidLen is the length of a key id in hex characters (4 bytes).
	kidLen = 8
)

// Strict decoding makes every sealed value have one spelling, so a value that
// opens is byte-for-byte what Seal produced.
func sealEncoding() *base64.Encoding { return base64.RawURLEncoding.Strict() }

// KeyID returns the id stored in values sealed with key: the first 4 bytes of
// a domain-separated SHA-256 of the key, in hex, so operators never assign ids.
func KeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("omnilink key id\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// Box seals secrets at rest with AES-256-GCM under a current key and opens
// values sealed under the current key or any older one.
type Box struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewBox returns a Box that seals with current and opens with current or any
// of older; every key must be 32 bytes.
func NewBox(current []byte, older ...[]byte) (*Box, error) {
	b := &Box{aeads: make(map[string]cipher.AEAD, 1+len(older))}
	keys := map[string][]byte{}
	for i, key := range append([][]byte{current}, older...) {
		if len(key) != KeySize {
			return nil, fmt.Errorf("%w: key %d is %d bytes, want %d", ErrBadKey, i, len(key), KeySize)
		}
		kid := KeyID(key)
		if prev, ok := keys[kid]; ok {
			if string(prev) == string(key) {
				continue // the same key listed twice is harmless
			}
			return nil, fmt.Errorf("%w: keys %q share the key id; generate a new key", ErrBadKey, kid)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		keys[kid] = key
		b.aeads[kid] = aead
		if i == 0 {
			b.current = kid
		}
	}
	return b, nil
}

// KeyID returns the id of the key new values are sealed with.
func (b *Box) KeyID() string { return b.current }

// String names the current key id only, so a Box (value or pointer) is safe to print.
func (b Box) String() string { return "crypto.Box{current: " + b.current + "}" }

// GoString matches String so %#v shows no key material either.
func (b Box) GoString() string { return b.String() }

// header is authenticated together with the caller's associated data so the
// version and key id cannot be swapped without detection.
func header(kid string) string { return sealVersion + ":" + kid + ":" }

// Seal encrypts plaintext bound to aad (for example "channel:42:access_token")
// and returns "v1:<kid>:<base64url(nonce|ciphertext|tag)>".
func (b *Box) Seal(plaintext, aad []byte) string {
	h := header(b.current)
	ct := b.aeads[b.current].Seal(nil, nil, plaintext, additionalData(h, aad))
	return h + sealEncoding().EncodeToString(ct)
}

// Open decrypts a value produced by Seal with the same aad, choosing the key
// by the id inside the value.
func (b *Box) Open(value string, aad []byte) ([]byte, error) {
	kid, ct, err := parseSealed(value)
	if err != nil {
		return nil, err
	}
	aead, ok := b.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("%w: key id %q is not configured (was an old key dropped from rotation?)", ErrUnknownKey, kid)
	}
	pt, err := aead.Open(nil, nil, ct, additionalData(header(kid), aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// NeedsRotation reports whether value differs from what Seal produces now
// (an older key, an unknown key or a malformed value), so a re-encryption job
// should Open and Seal it again; Open explains any value it cannot read.
func (b *Box) NeedsRotation(value string) bool {
	kid, _, err := parseSealed(value)
	return err != nil || kid != b.current
}

func additionalData(header string, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}

func parseSealed(value string) (kid string, ciphertext []byte, err error) {
	version, rest, ok := strings.Cut(value, ":")
	if !ok {
		return "", nil, fmt.Errorf("%w: want %s:<key id>:<data>", ErrMalformed, sealVersion)
	}
	if version != sealVersion {
		if len(version) > 8 {
			version = version[:8] + "…"
		}
		return "", nil, fmt.Errorf("%w: unsupported version %q, want %q", ErrMalformed, version, sealVersion)
	}
	kid, data, ok := strings.Cut(rest, ":")
	if !ok || len(kid) != kidLen || !isLowerHex(kid) || data == "" {
		return "", nil, fmt.Errorf("%w: want %s:<8 hex key id>:<data>", ErrMalformed, sealVersion)
	}
	ciphertext, err = sealEncoding().DecodeString(data)
	if err != nil {
		return "", nil, fmt.Errorf("%w: the data part is not unpadded base64url", ErrMalformed)
	}
	return kid, ciphertext, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
