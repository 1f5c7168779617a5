// Package mail sends email: a Mailer interface, an SMTP implementation and a
// logging fallback for installations without SMTP.
package mail

import (
	"context"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"unicode"
)

// Message is one email to send.
type Message struct {
	// To lists the recipients as RFC 5322 addresses ("a@example.com" or "Name <a@example.com>").
	To []string
	// Subject may hold any UTF-8 text; it is encoded per RFC 2047 on the wire.
	Subject string
	// Text is the text/plain body.
	Text string
	// HTML is the text/html body; with Text it forms multipart/alternative.
	HTML string
	// Headers adds header fields such as Message-ID or X-Omnilink-Idempotency.
	Headers map[string]string
}

// Mailer sends email.
type Mailer interface {
	// Send delivers m or returns an error that IsTemporary classifies.
	Send(ctx context.Context, m Message) error
}

// HeaderIdempotency carries the outbox idempotency key so a receiver (or the
// capture server in tests) can recognise a retried delivery.
const HeaderIdempotency = "X-Omnilink-Idempotency"

// New returns an SMTP mailer for smtpURL, or a LogMailer when smtpURL is
// empty so a fresh installation runs without an SMTP server.
func New(smtpURL, from string, logger *slog.Logger) (Mailer, error) {
	if strings.TrimSpace(smtpURL) == "" {
		return NewLogMailer(logger), nil
	}
	return NewSMTP(smtpURL, from)
}

// isReservedHeader names fields the mailer writes itself; letting callers set them
// would produce duplicate or contradictory fields.
func isReservedHeader(canonical string) bool {
	switch canonical {
	case "From", "To", "Cc", "Bcc", "Subject", "Sender", "Date", "Return-Path",
		"Mime-Version", "Content-Type", "Content-Transfer-Encoding":
		return true
	}
	return false
}

// sanitize flattens the subject and header values onto one line: a channel or team name with a
// line break (or another control character) must neither inject header fields nor make the
// email undeliverable. The caller's map is not modified.
func sanitize(m Message) Message {
	m.Subject = HeaderValue(m.Subject)
	if len(m.Headers) > 0 {
		h := make(map[string]string, len(m.Headers))
		for k, v := range m.Headers {
			h[k] = HeaderValue(v)
		}
		m.Headers = h
	}
	return m
}

// HeaderValue makes text safe for one header line: every run of line breaks, tabs and other
// control characters becomes a single space, and the ends are trimmed.
func HeaderValue(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// validate rejects messages that no retry could fix, before any connection is made.
func validate(m Message) error {
	if len(m.To) == 0 {
		return permanent("message has no recipients")
	}
	for _, to := range m.To {
		if _, err := netmail.ParseAddress(to); err != nil {
			return permanent(fmt.Sprintf("recipient %q is not a valid address", to))
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return permanent("subject contains a line break")
	}
	if m.Text == "" && m.HTML == "" {
		return permanent("message has neither a text nor an HTML body")
	}
	for name, value := range m.Headers {
		if !isToken(name) {
			return permanent(fmt.Sprintf("header name %q is not valid", name))
		}
		canonical := textproto.CanonicalMIMEHeaderKey(name)
		if isReservedHeader(canonical) {
			return permanent(fmt.Sprintf("header %q is set by the mailer and cannot be overridden", canonical))
		}
		if strings.ContainsAny(value, "\r\n") {
			// A line break would let the value inject further header fields.
			return permanent(fmt.Sprintf("header %q contains a line break", canonical))
		}
		switch canonical {
		case "Message-Id":
			if _, err := messageID(value); err != nil {
				return err
			}
		case "Reply-To":
			if _, err := netmail.ParseAddress(value); err != nil {
				return permanent(fmt.Sprintf("Reply-To %q is not a valid address", value))
			}
		}
	}
	return nil
}

// messageID strips optional angle brackets and checks the id-left@id-right shape.
func messageID(v string) (string, error) {
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "<"), ">")
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" {
		return "", permanent(fmt.Sprintf("Message-ID %q must look like <id@domain>", v))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return "", permanent(fmt.Sprintf("Message-ID %q must be printable ASCII without spaces", v))
		}
	}
	return id, nil
}

func isToken(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}
