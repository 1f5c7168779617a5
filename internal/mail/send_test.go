package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	netmail "net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/mail"
	"github.com/omnilink/omnilink/internal/mail/capture"
)

var (
	_ mail.Mailer = (*mail.SMTPMailer)(nil)
	_ mail.Mailer = (*mail.LogMailer)(nil)
)

const sender = "Omnilink 通知 <alerts@omnilink.test>"

func startCapture(t *testing.T) *capture.Server {
	t.Helper()
	srv, err := capture.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func newMailer(t *testing.T, url string) *mail.SMTPMailer {
	t.Helper()
	m, err := mail.NewSMTP(url, sender)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func waitOne(t *testing.T, srv *capture.Server) capture.Captured {
	t.Helper()
	msgs, err := srv.Wait(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	return msgs[len(msgs)-1]
}

func alert() mail.Message {
	return mail.Message{
		To:      []string{"王小明 <ming@example.tw>", "ops@example.com"},
		Subject: "【警告】頻道連線中斷：台北旗艦店 Facebook 粉絲專頁",
		Text: "您好，\n\n頻道「台北旗艦店」的連線已中斷，原因：使用者變更了密碼。\n" +
			strings.Repeat("請重新授權以恢復訊息收發。", 12) + "\n\n= omnilink",
		HTML: `<p>您好，</p><p>頻道「<b>台北旗艦店</b>」的連線已中斷。</p><p><a href="https://omnilink.test/channels/42">重新授權</a></p>`,
		Headers: map[string]string{
			"Message-ID":             "<health-42-1@omnilink.test>",
			mail.HeaderIdempotency:   "health:channel:42:failing-since:2026-01-05T10:00:00Z",
			"reply-to":               "客服 <support@omnilink.test>",
			"X-Omnilink-Channel-Ref": "頻道 42",
		},
	}
}

func TestSendDeliversMultipartAlternativeWithUTF8(t *testing.T) {
	srv := startCapture(t)
	m := alert()
	if err := newMailer(t, srv.URL()).Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	got := waitOne(t, srv)
	if got.ParseError != "" {
		t.Fatalf("capture could not parse the message: %s\n%s", got.ParseError, got.Raw)
	}
	if got.Subject != m.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, m.Subject)
	}
	if got.Text != m.Text {
		t.Errorf("Text = %q, want %q", got.Text, m.Text)
	}
	if got.HTML != m.HTML {
		t.Errorf("HTML = %q, want %q", got.HTML, m.HTML)
	}
	if got.From != "alerts@omnilink.test" {
		t.Errorf("envelope From = %q", got.From)
	}
	if !slices.Equal(got.To, []string{"ming@example.tw", "ops@example.com"}) {
		t.Errorf("envelope To = %q", got.To)
	}
	if ct, _, _ := mime.ParseMediaType(got.Headers.Get("Content-Type")); ct != "multipart/alternative" {
		t.Errorf("Content-Type = %q", got.Headers.Get("Content-Type"))
	}
	if id := got.Headers.Get("Message-Id"); id != "<health-42-1@omnilink.test>" {
		t.Errorf("Message-ID = %q", id)
	}
	if k := got.Headers.Get(mail.HeaderIdempotency); k != m.Headers[mail.HeaderIdempotency] {
		t.Errorf("idempotency header = %q", k)
	}
	dec := &mime.WordDecoder{}
	if v, _ := dec.DecodeHeader(got.Headers.Get("X-Omnilink-Channel-Ref")); v != "頻道 42" {
		t.Errorf("custom header = %q (raw %q)", v, got.Headers.Get("X-Omnilink-Channel-Ref"))
	}
	parser := netmail.AddressParser{WordDecoder: dec}
	if a, err := parser.Parse(got.Headers.Get("From")); err != nil || a.Name != "Omnilink 通知" || a.Address != "alerts@omnilink.test" {
		t.Errorf("From header %q → %+v, %v", got.Headers.Get("From"), a, err)
	}
	if a, err := parser.Parse(got.Headers.Get("Reply-To")); err != nil || a.Name != "客服" || a.Address != "support@omnilink.test" {
		t.Errorf("Reply-To header %q → %+v, %v", got.Headers.Get("Reply-To"), a, err)
	}
	if to, err := parser.ParseList(got.Headers.Get("To")); err != nil || len(to) != 2 || to[0].Name != "王小明" {
		t.Errorf("To header %q → %+v, %v", got.Headers.Get("To"), to, err)
	}
	if _, err := got.Headers.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	// The wire form must be 7-bit clean headers with RFC 2047 words and no
	// line over the RFC 5322 limit of 998 characters.
	head, _, _ := strings.Cut(string(got.Raw), "\r\n\r\n")
	if strings.Contains(head, "頻道") || !strings.Contains(head, "=?UTF-8?") {
		t.Errorf("subject is not RFC 2047 encoded:\n%s", head)
	}
	for _, line := range strings.Split(string(got.Raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line of %d bytes on the wire", len(line))
		}
	}
	if strings.Contains(string(got.Raw), "User-Agent") || strings.Contains(string(got.Raw), "X-Mailer") {
		t.Error("message advertises the mailer software")
	}
}

func TestSendSinglePartBodies(t *testing.T) {
	srv := startCapture(t)
	mailer := newMailer(t, srv.URL())
	for _, m := range []mail.Message{
		{To: []string{"a@example.com"}, Subject: "text", Text: "只有文字"},
		{To: []string{"a@example.com"}, Subject: "html", HTML: "<p>只有 HTML</p>"},
	} {
		srv.Reset()
		if err := mailer.Send(ctx(t), m); err != nil {
			t.Fatal(err)
		}
		got := waitOne(t, srv)
		ct, params, _ := mime.ParseMediaType(got.Headers.Get("Content-Type"))
		wantCT := "text/plain"
		if m.HTML != "" {
			wantCT = "text/html"
		}
		if ct != wantCT || !strings.EqualFold(params["charset"], "utf-8") {
			t.Errorf("%s: Content-Type = %q", m.Subject, got.Headers.Get("Content-Type"))
		}
		// A single-part body ends with the line break that closes the message.
		if strings.TrimSuffix(got.Text, "\n") != m.Text || strings.TrimSuffix(got.HTML, "\n") != m.HTML {
			t.Errorf("%s: got text %q html %q", m.Subject, got.Text, got.HTML)
		}
	}
}

func TestSendGeneratesUniqueMessageIDsOnTheSenderDomain(t *testing.T) {
	srv := startCapture(t)
	mailer := newMailer(t, srv.URL())
	m := mail.Message{To: []string{"a@example.com"}, Subject: "no id", Text: "x"}
	for range 2 {
		if err := mailer.Send(ctx(t), m); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := srv.Wait(ctx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	a, b := msgs[0].Headers.Get("Message-Id"), msgs[1].Headers.Get("Message-Id")
	if !strings.HasPrefix(a, "<") || !strings.HasSuffix(a, "@omnilink.test>") || len(a) < 20 {
		t.Errorf("Message-ID %q", a)
	}
	if a == b {
		t.Errorf("two messages share Message-ID %q", a)
	}
}

func TestSendFallsBackToPlainWhenSTARTTLSIsNotOffered(t *testing.T) {
	srv := startCapture(t)
	// No tls=none: opportunistic STARTTLS must still deliver to a server without it.
	if err := newMailer(t, "smtp://"+srv.Addr()).Send(ctx(t), mail.Message{To: []string{"a@example.com"}, Subject: "opportunistic", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := waitOne(t, srv); got.Subject != "opportunistic" {
		t.Errorf("Subject = %q", got.Subject)
	}
	// tls=required must refuse to send in the clear.
	err := newMailer(t, "smtp://"+srv.Addr()+"?tls=required").Send(ctx(t), mail.Message{To: []string{"a@example.com"}, Subject: "must not arrive", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("tls=required against a plain server: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages captured, want 1", n)
	}
}

func TestSMTPSSpeaksTLSFromTheFirstByte(t *testing.T) {
	srv := startCapture(t)
	// The capture server greets in plain text, so an implicit-TLS client must fail the handshake.
	err := newMailer(t, "smtps://"+srv.Addr()+"?timeout=3s").Send(ctx(t), mail.Message{To: []string{"a@example.com"}, Subject: "tls", Text: "x"})
	if err == nil {
		t.Fatal("smtps:// delivered over a plain-text connection")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "tls") {
		t.Errorf("error %q does not point at TLS", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages captured over smtps:// to a plain server", n)
	}
}

func TestSendAuthenticates(t *testing.T) {
	srv := startCapture(t)
	const pw = "hunter2secret"
	url := "smtp://alerts%40omnilink.test:" + pw + "@" + srv.Addr() + "?tls=none&auth=plain"
	if err := newMailer(t, url).Send(ctx(t), mail.Message{To: []string{"a@example.com"}, Subject: "auth", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := waitOne(t, srv); got.AuthUser != "alerts@omnilink.test" {
		t.Errorf("AuthUser = %q", got.AuthUser)
	}
	// auth=auto refuses PLAIN over an unencrypted link rather than expose the password.
	err := newMailer(t, "smtp://u:"+pw+"@"+srv.Addr()+"?tls=none").Send(ctx(t), mail.Message{To: []string{"a@example.com"}, Subject: "auto", Text: "x"})
	if err == nil {
		t.Fatal("auth=auto sent a password over plain TCP")
	}
	if strings.Contains(err.Error(), pw) {
		t.Errorf("error leaks the password: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages captured, want 1", n)
	}
}

func TestSendClassifiesServerRejections(t *testing.T) {
	srv := startCapture(t)
	const pw = "hunter2secret"
	mailer := newMailer(t, "smtp://u:"+pw+"@"+srv.Addr()+"?tls=none&auth=plain")
	m := mail.Message{To: []string{"a@example.com"}, Subject: "rejected", Text: "x"}
	for _, c := range []struct {
		code      int
		temporary bool
	}{{451, true}, {421, true}, {550, false}, {554, false}} {
		srv.SetFailing(c.code)
		err := mailer.Send(ctx(t), m)
		if err == nil {
			t.Fatalf("%d: Send succeeded", c.code)
		}
		if mail.IsTemporary(err) != c.temporary {
			t.Errorf("%d: IsTemporary = %v, want %v (%v)", c.code, !c.temporary, c.temporary, err)
		}
		var me *mail.Error
		if !errors.As(err, &me) || me.Code != c.code {
			t.Errorf("%d: error %v does not carry the code", c.code, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprint(c.code)) || strings.Contains(err.Error(), pw) {
			t.Errorf("%d: error text %q", c.code, err)
		}
	}
	srv.SetFailing(0)
	if err := mailer.Send(ctx(t), m); err != nil {
		t.Fatalf("after clearing the fault: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages captured, want only the one sent after clearing", n)
	}
}

func TestSendToAStoppedServerIsTemporary(t *testing.T) {
	srv := startCapture(t)
	const pw = "hunter2secret"
	mailer := newMailer(t, "smtp://u:"+pw+"@"+srv.Addr()+"?tls=none&auth=plain&timeout=3s")
	m := mail.Message{To: []string{"a@example.com"}, Subject: "outage", Text: "x"}
	srv.Stop()
	err := mailer.Send(ctx(t), m)
	if err == nil {
		t.Fatal("Send to a stopped server succeeded")
	}
	if !mail.IsTemporary(err) {
		t.Errorf("refused connection is not temporary: %v", err)
	}
	if strings.Contains(err.Error(), pw) {
		t.Errorf("error leaks the password: %v", err)
	}
	if !strings.Contains(err.Error(), srv.Addr()[strings.LastIndex(srv.Addr(), ":")+1:]) {
		t.Errorf("error %q does not name the server", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := mailer.Send(ctx(t), m); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got := waitOne(t, srv); got.Subject != "outage" {
		t.Errorf("Subject = %q", got.Subject)
	}
}

func TestSendHonoursContext(t *testing.T) {
	srv := startCapture(t)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	err := newMailer(t, srv.URL()).Send(c, mail.Message{To: []string{"a@example.com"}, Subject: "cancelled", Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !mail.IsTemporary(err) {
		t.Error("a cancelled send is not temporary")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages captured after cancellation", n)
	}
}

func invalidMessages() map[string]mail.Message {
	ok := func(f func(*mail.Message)) mail.Message {
		m := mail.Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"}
		f(&m)
		return m
	}
	return map[string]mail.Message{
		"no recipients":      ok(func(m *mail.Message) { m.To = nil }),
		"bad recipient":      ok(func(m *mail.Message) { m.To = []string{"not an address"} }),
		"bad header name":    ok(func(m *mail.Message) { m.Headers = map[string]string{"X Ref": "1"} }),
		"reserved header":    ok(func(m *mail.Message) { m.Headers = map[string]string{"bcc": "evil@example.com"} }),
		"no body":            ok(func(m *mail.Message) { m.Text = "" }),
		"bad message id":     ok(func(m *mail.Message) { m.Headers = map[string]string{"Message-ID": "<no-at-sign>"} }),
		"spaced message id":  ok(func(m *mail.Message) { m.Headers = map[string]string{"Message-ID": "<a b@c>"} }),
		"bad reply-to":       ok(func(m *mail.Message) { m.Headers = map[string]string{"Reply-To": "nobody"} }),
		"content-type clash": ok(func(m *mail.Message) { m.Headers = map[string]string{"Content-Type": "text/evil"} }),
	}
}

func TestSendRejectsInvalidMessagesPermanently(t *testing.T) {
	srv := startCapture(t)
	mailer := newMailer(t, srv.URL())
	for name, m := range invalidMessages() {
		err := mailer.Send(ctx(t), m)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if mail.IsTemporary(err) {
			t.Errorf("%s: IsTemporary = true for %v", name, err)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d invalid messages reached the server", n)
	}
}

func TestSendIsSafeForConcurrentUse(t *testing.T) {
	srv := startCapture(t)
	mailer := newMailer(t, srv.URL())
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- mailer.Send(ctx(t), mail.Message{To: []string{"a@example.com"}, Subject: fmt.Sprintf("通知 %02d", i), Text: "x"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	msgs, err := srv.Wait(ctx(t), n)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range msgs {
		subjects = append(subjects, m.Subject)
	}
	slices.Sort(subjects)
	for i, s := range subjects {
		if want := fmt.Sprintf("通知 %02d", i); s != want {
			t.Errorf("subject %d = %q, want %q", i, s, want)
		}
	}
}

func TestLogMailerLogsOneLineWithoutTheBody(t *testing.T) {
	var buf bytes.Buffer
	lm := mail.NewLogMailer(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := alert()
	if err := lm.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want exactly one log line, got %q", out)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["subject"] != m.Subject || rec["message_id"] != m.Headers["Message-ID"] || rec["idempotency_key"] != m.Headers[mail.HeaderIdempotency] {
		t.Errorf("record lacks the envelope: %v", rec)
	}
	if to, _ := rec["to"].([]any); len(to) != 2 || to[1] != "ops@example.com" {
		t.Errorf("to = %v", rec["to"])
	}
	for _, body := range []string{"重新授權", "台北旗艦店」的連線", "https://omnilink.test/channels/42"} {
		if strings.Contains(out, body) {
			t.Errorf("log line contains body text %q: %s", body, out)
		}
	}
}

func TestLogMailerRejectsInvalidMessagesLikeSMTP(t *testing.T) {
	var buf bytes.Buffer
	lm := mail.NewLogMailer(slog.New(slog.NewJSONHandler(&buf, nil)))
	for name, m := range invalidMessages() {
		if err := lm.Send(context.Background(), m); err == nil || mail.IsTemporary(err) {
			t.Errorf("%s: err = %v, want a permanent error", name, err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("invalid messages were logged: %s", buf.String())
	}
}

func TestNewChoosesTheMailer(t *testing.T) {
	m, err := mail.New("", sender, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*mail.LogMailer); !ok {
		t.Errorf("without SMTP_URL: %T, want *mail.LogMailer", m)
	}
	m, err = mail.New("smtp://127.0.0.1:1025?tls=none", sender, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*mail.SMTPMailer); !ok {
		t.Errorf("with SMTP_URL: %T, want *mail.SMTPMailer", m)
	}
	if _, err := mail.New("ftp://x", sender, nil); err == nil {
		t.Error("a bad SMTP_URL was accepted")
	}
}

// A line break in the subject or a header value (a channel named across two lines) is flattened
// to a space: the email is delivered, and nothing is injected into its header.
func TestLineBreaksInHeaderValuesAreFlattened(t *testing.T) {
	srv := startCapture(t)
	m := mail.Message{To: []string{"a@example.com"}, Subject: "【警告】台北店\r\nBcc: evil@example.com\n\t", Text: "t",
		Headers: map[string]string{"X-Ref": "1\r\nBcc: evil@example.com"}}
	if err := newMailer(t, srv.URL()).Send(ctx(t), m); err != nil {
		t.Fatalf("a subject with a line break was not sent: %v", err)
	}
	msgs, err := srv.Wait(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	got := msgs[0]
	if got.Subject != "【警告】台北店 Bcc: evil@example.com" || got.Headers.Get("X-Ref") != "1 Bcc: evil@example.com" {
		t.Errorf("subject %q, X-Ref %q: want each on one line", got.Subject, got.Headers.Get("X-Ref"))
	}
	if len(got.To) != 1 || got.To[0] != "a@example.com" || got.Headers.Get("Bcc") != "" {
		t.Errorf("a header was injected: recipients %v, Bcc %q", got.To, got.Headers.Get("Bcc"))
	}
	if m.Headers["X-Ref"] != "1\r\nBcc: evil@example.com" {
		t.Error("the caller's headers were modified")
	}
}
