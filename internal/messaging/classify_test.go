package messaging

import (
	"context"
	"fmt"
	"testing"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/models"
)

// Each platform answer the send path must tell apart lands in its own class: recipient errors
// are recorded and not retried, window refusals are recorded as skips, auth errors break the
// channel, and only transient trouble is retried.
func TestClassifySendErrors(t *testing.T) {
	g := func(status, code, sub int) error {
		return fmt.Errorf("send: %w", &meta.GraphError{HTTPStatus: status, Code: code, Subcode: sub, Message: "x"})
	}
	cases := []struct {
		name string
		p    models.Platform
		err  error
		want failure
	}{
		{"messenger unavailable 551", models.Facebook, g(400, 551, 1545041), failRecipient},
		{"messenger unavailable 200/1545041", models.Facebook, g(403, 200, 1545041), failRecipient},
		{"messenger 10/2018108", models.Facebook, g(400, 10, 2018108), failRecipient},
		{"no matching user", models.Instagram, g(400, 100, 2018001), failRecipient},
		{"whatsapp undeliverable", models.WhatsApp, g(400, 131026, 0), failRecipient},
		{"messenger window", models.Facebook, g(400, 10, 2018278), failWindow},
		{"instagram window", models.Instagram, g(400, 10, 2534022), failWindow},
		{"whatsapp re-engagement", models.WhatsApp, g(400, 131047, 0), failWindow},
		{"password changed", models.Facebook, g(400, 190, 460), failAuth},
		{"permission removed", models.Instagram, g(403, 10, 0), failAuth},
		{"graph server error", models.Facebook, g(500, 2, 0), failTransient},
		{"graph throttled", models.WhatsApp, g(400, 130429, 0), failRateLimit},
		{"timeout", models.LINE, context.DeadlineExceeded, failTransient},
		{"line unknown user", models.LINE, &line.APIError{Status: 400, Message: "Failed to send messages"}, failRecipient},
		{"line bad to", models.LINE, &line.APIError{Status: 400, Message: "The request body has 1 error(s)", Details: []line.ErrorDetail{{Property: "to", Message: "invalid user id"}}}, failRecipient},
		{"line bad message", models.LINE, &line.APIError{Status: 400, Message: "The request body has 1 error(s)", Details: []line.ErrorDetail{{Property: "messages[0].text", Message: "must be specified"}}}, failOther},
		{"line token", models.LINE, &line.APIError{Status: 401, Message: "Authentication failed"}, failAuth},
		{"line 500", models.LINE, &line.APIError{Status: 500, Message: "An error occurred"}, failTransient},
		{"line 429", models.LINE, &line.APIError{Status: 429, Message: "The API rate limit has been exceeded."}, failRateLimit},
	}
	for _, c := range cases {
		if got := classify(c.p, c.err); got != c.want {
			t.Errorf("%s: class %d, want %d", c.name, got, c.want)
		}
	}
}

// Retry keys are LINE's UUID form, stable per outbox row and distinct between rows.
func TestLineRetryKeyDerivedFromRow(t *testing.T) {
	a, b := LineRetryKey("message.send:1:k"), LineRetryKey("message.send:1:k")
	if a != b || a == LineRetryKey("message.send:1:other") || len(a) != 36 {
		t.Fatalf("keys %s %s", a, b)
	}
}
