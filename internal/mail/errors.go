package mail

import (
	"errors"
	"net/textproto"

	gomail "github.com/wneessen/go-mail"
)

// Error is a failed send, classified so a retrying outbox can decide whether
// to try again.
type Error struct {
	// Temporary is true when a later attempt may succeed (network failure,
	// timeout, 4xx reply) and false when it cannot (5xx reply, invalid message).
	Temporary bool
	// Code is the SMTP reply code when the server sent one, otherwise 0.
	Code int
	// Err is the underlying error.
	Err error
}

// Error describes the failure; it never contains SMTP credentials.
func (e *Error) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return "mail: " + kind + " failure: " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsTemporary reports whether err is a send failure worth retrying. Errors
// that are not an *Error are classified the same way Send classifies them.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Temporary
	}
	temporary, _ := classify(err)
	return temporary
}

func permanent(msg string) error {
	return &Error{Temporary: false, Err: errors.New(msg)}
}

// classify decides retryability from the SMTP reply code when there is one;
// anything without a code (refused connection, timeout, dropped connection,
// TLS handshake) is treated as temporary, because the outbox caps attempts
// and losing an alert is worse than retrying a hopeless one.
func classify(err error) (temporary bool, code int) {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if c := se.ErrorCode(); c != 0 {
			return c/100 == 4, c
		}
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return false, 0
		}
		return true, 0
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code/100 == 4, te.Code
	}
	return true, 0
}
