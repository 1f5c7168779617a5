package mail

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/omnilink/omnilink/internal/crypto"
)

// urlHelp is appended to URL errors; it shows the accepted forms without
// echoing the operator's URL, which may carry a password.
const urlHelp = "want smtp://user:pass@host:587 (STARTTLS when offered), smtps://user:pass@host:465 (implicit TLS) or smtp://host:1025?tls=none; " +
	"optional query: tls=opportunistic|required|none, auth=auto|plain|login|cram-md5|scram-sha-1|scram-sha-256|xoauth2, timeout=30s"

// defaultTimeout bounds a whole delivery so a hung server cannot stall the outbox.
const defaultTimeout = 30 * time.Second

// SMTPMailer sends email through an SMTP server, opening one connection per message.
type SMTPMailer struct {
	host     string
	port     int
	implicit bool // smtps://: TLS from the first byte
	tls      gomail.TLSPolicy
	user     string
	password crypto.Secret
	auth     gomail.SMTPAuthType
	timeout  time.Duration
	from     string // as configured, for the From header
	fromAddr *netmail.Address
}

// NewSMTP parses smtpURL and the From address (MAIL_FROM) into an SMTPMailer;
// errors never contain the password.
func NewSMTP(smtpURL, from string) (*SMTPMailer, error) {
	s, err := parseURL(strings.TrimSpace(smtpURL))
	if err != nil {
		return nil, err
	}
	from = strings.TrimSpace(from)
	if from == "" {
		return nil, fmt.Errorf("mail: MAIL_FROM is empty; set it to an address such as \"Omnilink <alerts@example.com>\"")
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: MAIL_FROM %q is not a valid address: %v", from, err)
	}
	s.from, s.fromAddr = from, addr
	return s, nil
}

func parseURL(raw string) (*SMTPMailer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole input, password included, so it is dropped.
		return nil, fmt.Errorf("mail: SMTP_URL is not a valid URL; %s", urlHelp)
	}
	s := &SMTPMailer{timeout: defaultTimeout, tls: gomail.TLSOpportunistic}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		s.port = gomail.DefaultPortTLS
	case "smtps":
		s.port, s.implicit = gomail.DefaultPortSSL, true
	case "":
		return nil, fmt.Errorf("mail: SMTP_URL has no scheme; %s", urlHelp)
	default:
		return nil, fmt.Errorf("mail: SMTP_URL scheme %q is not supported; %s", u.Scheme, urlHelp)
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("mail: SMTP_URL must start with %s:// followed by the host; %s", u.Scheme, urlHelp)
	}
	shown := u.Redacted()
	s.host = u.Hostname()
	if s.host == "" {
		return nil, fmt.Errorf("mail: SMTP_URL %s has no host; %s", shown, urlHelp)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mail: SMTP_URL %s has an invalid port %q", shown, p)
		}
		s.port = n
	}
	if (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, fmt.Errorf("mail: SMTP_URL %s must not have a path or fragment; %s", shown, urlHelp)
	}
	if u.User != nil {
		s.user = u.User.Username()
		pass, _ := u.User.Password()
		s.password = crypto.Secret(pass)
		s.auth = gomail.SMTPAuthAutoDiscover
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP_URL %s has a malformed query; %s", shown, urlHelp)
	}
	for key, values := range q {
		v := strings.ToLower(values[len(values)-1])
		switch key {
		case "tls":
			if s.implicit {
				return nil, fmt.Errorf("mail: SMTP_URL %s: tls=%s cannot be combined with smtps:// (TLS is implicit)", shown, v)
			}
			switch v {
			case "opportunistic", "starttls":
				s.tls = gomail.TLSOpportunistic
			case "required", "mandatory":
				s.tls = gomail.TLSMandatory
			case "none", "off", "false":
				s.tls = gomail.NoTLS
			default:
				return nil, fmt.Errorf("mail: SMTP_URL %s: unknown tls=%q; %s", shown, v, urlHelp)
			}
		case "auth":
			t, ok := authTypes()[v]
			if !ok {
				return nil, fmt.Errorf("mail: SMTP_URL %s: unknown auth=%q; %s", shown, v, urlHelp)
			}
			if s.user == "" {
				return nil, fmt.Errorf("mail: SMTP_URL %s: auth=%s needs a user name in the URL", shown, v)
			}
			s.auth = t
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("mail: SMTP_URL %s: timeout=%q is not a positive duration such as 30s", shown, v)
			}
			s.timeout = d
		default:
			return nil, fmt.Errorf("mail: SMTP_URL %s: unknown parameter %q; %s", shown, key, urlHelp)
		}
	}
	return s, nil
}

// authTypes maps the auth= query values to go-mail's mechanisms. "auto"
// picks the strongest offered mechanism and, without TLS, refuses PLAIN and
// LOGIN so a password never crosses the network in the clear.
func authTypes() map[string]gomail.SMTPAuthType {
	return map[string]gomail.SMTPAuthType{
		"auto":          gomail.SMTPAuthAutoDiscover,
		"plain":         gomail.SMTPAuthPlain,
		"login":         gomail.SMTPAuthLogin,
		"cram-md5":      gomail.SMTPAuthCramMD5,
		"scram-sha-1":   gomail.SMTPAuthSCRAMSHA1,
		"scram-sha-256": gomail.SMTPAuthSCRAMSHA256,
		"xoauth2":       gomail.SMTPAuthXOAUTH2,
	}
}

// String describes the server without credentials, for start-up logs. A
// value receiver makes fmt use it for SMTPMailer values too, whose
// unexported password field fmt would otherwise print raw.
func (s SMTPMailer) String() string {
	scheme, mode := "smtp", "STARTTLS when offered"
	switch {
	case s.implicit:
		scheme, mode = "smtps", "implicit TLS"
	case s.tls == gomail.TLSMandatory:
		mode = "STARTTLS required"
	case s.tls == gomail.NoTLS:
		mode = "no TLS"
	}
	user := ""
	if s.user != "" {
		user = url.User(s.user).String() + "@"
	}
	return fmt.Sprintf("%s://%s%s:%d (%s)", scheme, user, s.host, s.port, mode)
}

// GoString keeps %#v from printing the password field.
func (s SMTPMailer) GoString() string { return "mail.SMTPMailer(" + s.String() + ")" }

// LogValue logs the mailer as its credential-free description.
func (s SMTPMailer) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Send delivers m over a fresh connection. The returned *Error says whether a
// retry may help; ctx and the URL's timeout bound the whole exchange.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	// A client per message keeps Send safe for concurrent use: go-mail
	// clients carry per-connection state.
	client, err := gomail.NewClient(s.host, s.options()...)
	if err != nil {
		return &Error{Temporary: false, Err: fmt.Errorf("configuring SMTP client for %s: %w", s, err)}
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		temporary, code := classify(err)
		return &Error{Temporary: temporary, Code: code, Err: fmt.Errorf("via %s: %w", s, err)}
	}
	return nil
}

func (s *SMTPMailer) options() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(s.timeout)}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.tls))
	}
	if s.user != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(s.auth),
			gomail.WithUsername(s.user),
			gomail.WithPassword(s.password.Reveal()))
	}
	return opts
}

func (s *SMTPMailer) build(m Message) (*gomail.Msg, error) {
	m = sanitize(m)
	if err := validate(m); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, &Error{Err: fmt.Errorf("MAIL_FROM %q: %w", s.from, err)}
	}
	if err := msg.To(m.To...); err != nil {
		return nil, &Error{Err: fmt.Errorf("recipients: %w", err)}
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	hasID := false
	for name, value := range m.Headers {
		switch canonical := textproto.CanonicalMIMEHeaderKey(name); canonical {
		case "Message-Id":
			id, err := messageID(value)
			if err != nil {
				return nil, err
			}
			msg.SetMessageIDWithValue(id)
			hasID = true
		case "Reply-To":
			if err := msg.ReplyTo(value); err != nil {
				return nil, &Error{Err: fmt.Errorf("Reply-To: %w", err)}
			}
		default:
			msg.SetGenHeader(gomail.Header(canonical), value)
		}
	}
	if !hasID {
		msg.SetMessageIDWithValue(s.newMessageID())
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	return msg, nil
}

// newMessageID uses the sender's domain rather than the host name, which
// receivers weigh when scoring mail and which leaks nothing about the server.
func (s *SMTPMailer) newMessageID() string {
	domain := "omnilink.invalid"
	if _, d, ok := strings.Cut(s.fromAddr.Address, "@"); ok && d != "" {
		domain = d
	}
	return strings.ToLower(rand.Text()) + "@" + domain
}
