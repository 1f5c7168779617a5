package crypto

// Error is the type of this package's sentinel errors; being a string
// constant, it keeps them immutable and comparable with errors.Is.
type Error string

// Error returns the message.
func (e Error) Error() string { return string(e) }

// Sentinel errors; returned errors wrap them with detail.
const (
	// ErrBadMasterKey reports an unusable OMNILINK_SECRET_KEY.
	ErrBadMasterKey = Error("crypto: OMNILINK_SECRET_KEY is invalid")
	// ErrBadKey reports a Box key of the wrong size or a clash of key ids.
	ErrBadKey = Error("crypto: invalid encryption key")
	// ErrMalformed reports a sealed value that is not in the v1:<kid>:<data> form.
	ErrMalformed = Error("crypto: sealed value is malformed")
	// ErrUnknownKey reports a sealed value whose key id is not in the Box.
	ErrUnknownKey = Error("crypto: sealed with an unknown key")
	// ErrDecrypt reports a sealed value that fails authentication: its bytes
	// were altered or it is opened with different associated data. GCM cannot
	// tell these two apart.
	ErrDecrypt = Error("crypto: cannot decrypt: the value was tampered with or belongs to a different record (associated data mismatch)")
	// ErrPlaintextSecret reports an attempt to store a Secret unencrypted.
	ErrPlaintextSecret = Error("crypto: refusing to store a Secret in plaintext; seal it with Box.Seal")
)
