package mail

import (
	"context"
	"log/slog"
	"net/textproto"
)

// LogMailer records each message as one log line without its body; it stands
// in for SMTP when SMTP_URL is not set so alerts are at least visible.
type LogMailer struct {
	logger *slog.Logger
}

// NewLogMailer returns a LogMailer writing to logger (slog.Default() when nil).
func NewLogMailer(logger *slog.Logger) *LogMailer {
	if logger == nil {
		logger = slog.Default()
	}
	return &LogMailer{logger: logger}
}

// Send validates m like SMTPMailer does, so bad messages fail in development
// too, then logs its envelope. Bodies are left out: they hold customer data
// and re-authorisation links.
func (l *LogMailer) Send(ctx context.Context, m Message) error {
	m = sanitize(m)
	if err := validate(m); err != nil {
		return err
	}
	l.logger.LogAttrs(ctx, slog.LevelInfo, "email not sent: SMTP_URL is not set",
		slog.Any("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("message_id", header(m.Headers, "Message-Id")),
		slog.String("idempotency_key", header(m.Headers, HeaderIdempotency)),
		slog.Int("text_bytes", len(m.Text)),
		slog.Int("html_bytes", len(m.HTML)),
	)
	return nil
}

// header looks a field up case-insensitively, as header names are.
func header(h map[string]string, canonical string) string {
	for k, v := range h {
		if textproto.CanonicalMIMEHeaderKey(k) == canonical {
			return v
		}
	}
	return ""
}
