package capture

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func send(s *Server, subject string, to ...string) error {
	if len(to) == 0 {
		to = []string{"ops@example.com"}
	}
	body := "Subject: " + subject + "\r\nX-Test: yes\r\n\r\nbody of " + subject + "\r\n"
	// smtp.SendMail insists on STARTTLS, which the capture server does not offer.
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail("alerts@omnilink.test", to, strings.NewReader(body))
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCapturesEnvelopeAndContent(t *testing.T) {
	s := start(t)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr = %q, want the bound port", s.Addr())
	}
	if want := "smtp://" + s.Addr() + "?tls=none"; s.URL() != want {
		t.Errorf("URL = %q, want %q", s.URL(), want)
	}
	before := time.Now()
	if err := send(s, "hello", "a@example.com", "b@example.com"); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Wait(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if m.From != "alerts@omnilink.test" || strings.Join(m.To, ",") != "a@example.com,b@example.com" {
		t.Errorf("envelope %q → %q", m.From, m.To)
	}
	if m.Subject != "hello" || m.Text != "body of hello\n" || m.Headers.Get("X-Test") != "yes" {
		t.Errorf("content: %+v", m)
	}
	if m.ReceivedAt.Before(before) || m.ReceivedAt.After(time.Now()) {
		t.Errorf("ReceivedAt %v outside the send window", m.ReceivedAt)
	}
	if !strings.Contains(string(m.Raw), "X-Test: yes") {
		t.Errorf("Raw = %q", m.Raw)
	}
}

func TestAuthRecordsUserButNotPassword(t *testing.T) {
	s := start(t)
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "alerts@omnilink.test", "pa55word")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("alerts@omnilink.test", []string{"x@example.com"}, strings.NewReader("Subject: auth\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Wait(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].AuthUser != "alerts@omnilink.test" {
		t.Errorf("AuthUser = %q", msgs[0].AuthUser)
	}
	if strings.Contains(fmt.Sprintf("%+v", msgs[0]), "pa55word") {
		t.Error("the captured message keeps the password")
	}
}

func TestWaitBlocksUntilEnoughMessages(t *testing.T) {
	s := start(t)
	errc := make(chan error, 1)
	go func() {
		for i := range 3 {
			if err := send(s, fmt.Sprintf("m%d", i)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	msgs, err := s.Wait(waitCtx(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[0].Subject != "m0" || msgs[2].Subject != "m2" {
		t.Fatalf("got %d messages: %+v", len(msgs), msgs)
	}
}

func TestWaitTimesOutWithACount(t *testing.T) {
	s := start(t)
	if err := send(s, "only one"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	msgs, err := s.Wait(ctx, 2)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "waited for 2 messages, got 1") {
		t.Errorf("err = %q does not give the count", err)
	}
	if len(msgs) != 1 {
		t.Errorf("got %d partial messages, want 1", len(msgs))
	}
}

func TestCloseWakesWait(t *testing.T) {
	s := start(t)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Wait(context.Background(), 1)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("Wait after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after Close")
	}
	if err := s.Restart(); err == nil {
		t.Error("Restart after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestResetEmptiesMailboxAndCount(t *testing.T) {
	s := start(t)
	if err := send(s, "before"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Wait(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	s.Reset()
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages after Reset", n)
	}
	if err := send(s, "after"); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Wait(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Subject != "after" {
		t.Errorf("after Reset: %+v", msgs)
	}
}

func TestMessagesReturnsCopies(t *testing.T) {
	s := start(t)
	if err := send(s, "original"); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Wait(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	msgs[0].Subject = "changed"
	msgs[0].To[0] = "changed"
	msgs[0].Headers["X-Test"][0] = "changed"
	msgs[0].Raw[0] = 'X'
	again := s.Messages()[0]
	if again.Subject != "original" || again.To[0] != "ops@example.com" || again.Headers.Get("X-Test") != "yes" || again.Raw[0] != 'S' {
		t.Errorf("mutating a returned message changed the mailbox: %+v", again)
	}
}

func TestSetFailingRejectsWithTheCode(t *testing.T) {
	s := start(t)
	for _, code := range []int{451, 550, 421, 554} {
		s.SetFailing(code)
		err := send(s, "rejected")
		var se *smtp.SMTPError
		if !errors.As(err, &se) {
			t.Fatalf("code %d: err = %v, want an SMTP error", code, err)
		}
		if se.Code != code || se.EnhancedCode[0] != code/100 {
			t.Errorf("got %d %v, want %d", se.Code, se.EnhancedCode, code)
		}
	}
	s.SetFailing(250) // not a failure code: clears the fault
	if err := send(s, "accepted"); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || msgs[0].Subject != "accepted" {
		t.Errorf("rejected messages were kept: %+v", msgs)
	}
	s.SetFailing(451)
	s.SetFailing(0)
	if err := send(s, "accepted again"); err != nil {
		t.Errorf("SetFailing(0) did not clear: %v", err)
	}
}

func TestStopRefusesConnectionsAndRestartComesBackOnTheSamePort(t *testing.T) {
	s := start(t)
	if err := send(s, "before"); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	s.Stop()
	s.Stop() // idempotent
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("connected to a stopped server")
	}
	if err := send(s, "while down"); err == nil {
		t.Fatal("sent to a stopped server")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart while running: %v", err)
	}
	if s.Addr() != addr {
		t.Errorf("address changed from %s to %s", addr, s.Addr())
	}
	if err := send(s, "after"); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Wait(waitCtx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Subject != "before" || msgs[1].Subject != "after" {
		t.Errorf("mailbox across restart: %+v", msgs)
	}
}

func TestStopDropsOpenConnections(t *testing.T) {
	s := start(t)
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("test"); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := c.Mail("alerts@omnilink.test", nil); err == nil {
		t.Error("an open connection survived Stop")
	}
}

func TestMailboxKeepsTheNewestMaxMessages(t *testing.T) {
	s := start(t)
	for i := range MaxMessages + 5 {
		s.store(Captured{Subject: fmt.Sprint(i)})
	}
	msgs := s.Messages()
	if len(msgs) != MaxMessages {
		t.Fatalf("kept %d messages, want %d", len(msgs), MaxMessages)
	}
	if msgs[0].Subject != "5" || msgs[len(msgs)-1].Subject != fmt.Sprint(MaxMessages+4) {
		t.Errorf("kept %s..%s", msgs[0].Subject, msgs[len(msgs)-1].Subject)
	}
	// Wait counts arrivals, not kept messages, so it still returns.
	if _, err := s.Wait(waitCtx(t), MaxMessages+5); err != nil {
		t.Error(err)
	}
}

func TestStartReportsAddressInUse(t *testing.T) {
	s := start(t)
	if _, err := Start(s.Addr()); err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Errorf("second Start on %s: %v", s.Addr(), err)
	}
}
