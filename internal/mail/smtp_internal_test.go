package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"syscall"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
)

const from = "Omnilink <alerts@omnilink.test>"

func TestNewSMTPParsesURLForms(t *testing.T) {
	cases := []struct {
		url      string
		host     string
		port     int
		implicit bool
		tls      gomail.TLSPolicy
		user     string
		pass     string
		auth     gomail.SMTPAuthType
		timeout  time.Duration
	}{
		{"smtp://user:pass@mail.example.com:587", "mail.example.com", 587, false, gomail.TLSOpportunistic, "user", "pass", gomail.SMTPAuthAutoDiscover, defaultTimeout},
		{"smtp://mail.example.com", "mail.example.com", 587, false, gomail.TLSOpportunistic, "", "", "", defaultTimeout},
		{"SMTP://mail.example.com:25/", "mail.example.com", 25, false, gomail.TLSOpportunistic, "", "", "", defaultTimeout},
		{"smtps://user:pass@mail.example.com", "mail.example.com", 465, true, gomail.TLSOpportunistic, "user", "pass", gomail.SMTPAuthAutoDiscover, defaultTimeout},
		{"smtps://mail.example.com:2465", "mail.example.com", 2465, true, gomail.TLSOpportunistic, "", "", "", defaultTimeout},
		{"smtp://127.0.0.1:1025?tls=none", "127.0.0.1", 1025, false, gomail.NoTLS, "", "", "", defaultTimeout},
		{"smtp://[::1]:1025?tls=none", "::1", 1025, false, gomail.NoTLS, "", "", "", defaultTimeout},
		{"smtp://u:p@h:587?tls=required&auth=plain&timeout=5s", "h", 587, false, gomail.TLSMandatory, "u", "p", gomail.SMTPAuthPlain, 5 * time.Second},
		{"smtp://apikey:p%40ss%3Aw0rd%2F@smtp.sendgrid.net:587?auth=login", "smtp.sendgrid.net", 587, false, gomail.TLSOpportunistic, "apikey", "p@ss:w0rd/", gomail.SMTPAuthLogin, defaultTimeout},
		{"  smtp://h:2525?tls=starttls  ", "h", 2525, false, gomail.TLSOpportunistic, "", "", "", defaultTimeout},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			s, err := NewSMTP(c.url, from)
			if err != nil {
				t.Fatal(err)
			}
			if s.host != c.host || s.port != c.port || s.implicit != c.implicit || s.tls != c.tls ||
				s.user != c.user || s.password.Reveal() != c.pass || s.auth != c.auth || s.timeout != c.timeout {
				t.Errorf("got host=%q port=%d implicit=%v tls=%v user=%q pass=%q auth=%q timeout=%v",
					s.host, s.port, s.implicit, s.tls, s.user, s.password.Reveal(), s.auth, s.timeout)
			}
		})
	}
}

func TestNewSMTPRejectsMalformedURLsWithoutLeakingThePassword(t *testing.T) {
	const pw = "hunter2secret"
	cases := []struct{ url, want string }{
		{"", "no scheme"},
		{"mail.example.com", "no scheme"},
		{"http://u:" + pw + "@h", `scheme "http" is not supported`},
		{"user:" + pw + "@host:587", `scheme "user" is not supported`},
		{"smtp:u:" + pw + "@h", "must start with smtp://"},
		{"smtp://u:" + pw + "@:587", "has no host"},
		{"smtp://u:" + pw + "@h:99999", `invalid port "99999"`},
		{"smtp://u:" + pw + "@h:0", `invalid port "0"`},
		{"smtp://u:" + pw + "@h:abc", "not a valid URL"},
		{"smtp://u:" + pw + "%zz@h", "not a valid URL"},
		{"smtp://u:" + pw + "@h/inbox", "must not have a path"},
		{"smtps://u:" + pw + "@h?tls=none", "cannot be combined with smtps://"},
		{"smtp://u:" + pw + "@h?tls=maybe", `unknown tls="maybe"`},
		{"smtp://u:" + pw + "@h?auth=magic", `unknown auth="magic"`},
		{"smtp://h?auth=plain", "needs a user name"},
		{"smtp://u:" + pw + "@h?timeout=-1s", "not a positive duration"},
		{"smtp://u:" + pw + "@h?timeout=soon", "not a positive duration"},
		{"smtp://u:" + pw + "@h?colour=blue", `unknown parameter "colour"`},
		{"smtp://u:" + pw + "@h?tls=%zz", "malformed query"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			s, err := NewSMTP(c.url, from)
			if err == nil {
				t.Fatalf("accepted as %v", s)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %q", err)
			}
		})
	}
}

func TestNewSMTPValidatesFrom(t *testing.T) {
	for _, f := range []string{"", "  ", "not an address", "a@b@c"} {
		if _, err := NewSMTP("smtp://h", f); err == nil || !strings.Contains(err.Error(), "MAIL_FROM") {
			t.Errorf("From %q: err = %v, want a MAIL_FROM error", f, err)
		}
	}
	s, err := NewSMTP("smtp://h", "Omnilink 通知 <alerts@omnilink.test>")
	if err != nil {
		t.Fatal(err)
	}
	if s.fromAddr.Address != "alerts@omnilink.test" || s.fromAddr.Name != "Omnilink 通知" {
		t.Errorf("parsed From = %+v", s.fromAddr)
	}
}

func TestSMTPMailerPrintsWithoutThePassword(t *testing.T) {
	s, err := NewSMTP("smtps://alerts%40omnilink.test:hunter2secret@mail.example.com", from)
	if err != nil {
		t.Fatal(err)
	}
	if want := "smtps://alerts%40omnilink.test@mail.example.com:465 (implicit TLS)"; s.String() != want {
		t.Errorf("String = %q, want %q", s.String(), want)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("mailer", "smtp", s)
	for _, out := range []string{s.String(), fmt.Sprintf("%v %+v %#v", s, *s, *s), logged.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("output leaks the password: %s", out)
		}
	}
	if !strings.Contains(logged.String(), "mail.example.com:465") {
		t.Errorf("log lacks the server: %s", logged.String())
	}
	modes := map[string]string{
		"smtp://h":               "STARTTLS when offered",
		"smtp://h?tls=required":  "STARTTLS required",
		"smtp://h:1025?tls=none": "no TLS",
	}
	for u, mode := range modes {
		s, err := NewSMTP(u, from)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(s.String(), mode) {
			t.Errorf("%s described as %q, want %q", u, s.String(), mode)
		}
	}
}

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name      string
		err       error
		temporary bool
		code      int
	}{
		{"greeting 421", fmt.Errorf("dial failed: %w", &textproto.Error{Code: 421, Msg: "busy"}), true, 421},
		{"greeting 554", fmt.Errorf("dial failed: %w", &textproto.Error{Code: 554, Msg: "no service"}), false, 554},
		{"auth 535", fmt.Errorf("dial failed: SMTP AUTH failed: %w", &textproto.Error{Code: 535, Msg: "bad credentials"}), false, 535},
		{"connection refused", fmt.Errorf("dial failed: %w", refused), true, 0},
		{"deadline", context.DeadlineExceeded, true, 0},
		{"canceled", context.Canceled, true, 0},
		{"unknown", errors.New("something odd"), true, 0},
	}
	for _, c := range cases {
		temporary, code := classify(c.err)
		if temporary != c.temporary || code != c.code {
			t.Errorf("%s: classify = %v, %d; want %v, %d", c.name, temporary, code, c.temporary, c.code)
		}
		if IsTemporary(c.err) != c.temporary {
			t.Errorf("%s: IsTemporary = %v", c.name, !c.temporary)
		}
	}
	if IsTemporary(nil) {
		t.Error("IsTemporary(nil) = true")
	}
	wrapped := fmt.Errorf("outbox: %w", &Error{Temporary: false, Code: 550, Err: errors.New("rejected")})
	if IsTemporary(wrapped) {
		t.Error("a wrapped permanent *Error counted as temporary")
	}
	if IsTemporary(fmt.Errorf("outbox: %w", &Error{Temporary: true, Err: refused})) != true {
		t.Error("a wrapped temporary *Error counted as permanent")
	}
	if msg := (&Error{Temporary: true, Err: refused}).Error(); !strings.HasPrefix(msg, "mail: temporary failure: ") {
		t.Errorf("Error() = %q", msg)
	}
}
