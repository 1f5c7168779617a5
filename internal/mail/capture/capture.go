// Package capture is an in-process SMTP server that keeps every message it
// receives, for tests and the sandbox mailbox, with switches to simulate
// outages.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	netmail "net/mail"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// MaxMessages bounds the mailbox of a long-running sandbox; the oldest
// messages are dropped first.
const MaxMessages = 1000

// maxMessageBytes caps one message so a runaway sender cannot exhaust memory.
const maxMessageBytes = 25 << 20

// Captured is one received message.
type Captured struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To lists the envelope recipients (RCPT TO), Bcc included.
	To []string
	// AuthUser is the user name the client authenticated with, if any; the
	// password is never kept.
	AuthUser string
	// Subject is the decoded Subject header.
	Subject string
	// Text is the first text/plain part, decoded, with CRLF turned into LF.
	Text string
	// HTML is the first text/html part, decoded, with CRLF turned into LF.
	HTML string
	// Headers holds the top-level header fields as received (not decoded).
	Headers netmail.Header
	// Raw is the message exactly as received after DATA.
	Raw []byte
	// ReceivedAt is when the message was accepted.
	ReceivedAt time.Time
	// ParseError says why the MIME structure could not be fully read; the
	// message is kept regardless so the sandbox can still show Raw.
	ParseError string
}

func (c Captured) clone() Captured {
	c.To = slices.Clone(c.To)
	c.Raw = slices.Clone(c.Raw)
	if c.Headers != nil {
		h := make(netmail.Header, len(c.Headers))
		for k, v := range c.Headers {
			h[k] = slices.Clone(v)
		}
		c.Headers = h
	}
	return c
}

// Server is a running capture server. Its methods are safe for concurrent use.
type Server struct {
	addr string // fixed at Start so Restart comes back on the same port

	mu       sync.Mutex
	smtp     *smtp.Server // nil while stopped
	ln       net.Listener
	served   chan struct{}
	messages []Captured
	received int           // since the last Reset, including dropped ones
	arrived  chan struct{} // closed and replaced on every arrival, to wake Wait
	failCode int
	closed   bool
	done     chan struct{} // closed by Close
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves SMTP
// without TLS.
func Start(addr string) (*Server, error) {
	s := &Server{arrived: make(chan struct{}), done: make(chan struct{})}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("capture: listen on %s: %w", addr, err)
	}
	s.addr = ln.Addr().String()
	s.mu.Lock()
	s.serve(ln)
	s.mu.Unlock()
	return s, nil
}

// serve must be called with s.mu held.
func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	srv.Domain = "capture.omnilink.invalid"
	srv.AllowInsecureAuth = true // plain TCP only; credentials are accepted, never checked
	srv.EnableSMTPUTF8 = true
	srv.MaxMessageBytes = maxMessageBytes
	srv.MaxRecipients = 100
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0) // closing connections on Stop is expected noise
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	s.smtp, s.ln, s.served = srv, ln, served
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// URL returns an smtp:// URL with tls=none that mail.NewSMTP accepts.
func (s *Server) URL() string { return "smtp://" + s.addr + "?tls=none" }

// Messages returns copies of the kept messages, oldest first.
func (s *Server) Messages() []Captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot()
}

func (s *Server) snapshot() []Captured {
	out := make([]Captured, len(s.messages))
	for i, m := range s.messages {
		out[i] = m.clone()
	}
	return out
}

// Wait blocks until at least n messages have arrived since the last Reset
// and returns the kept messages. On timeout or Close it returns what has
// arrived so far with an error that says how many were missing.
func (s *Server) Wait(ctx context.Context, n int) ([]Captured, error) {
	for {
		s.mu.Lock()
		if s.received >= n {
			msgs := s.snapshot()
			s.mu.Unlock()
			return msgs, nil
		}
		arrived, got, msgs := s.arrived, s.received, s.snapshot()
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return msgs, fmt.Errorf("capture: waited for %d messages, got %d: %w", n, got, ctx.Err())
		case <-s.done:
			return msgs, fmt.Errorf("capture: waited for %d messages, got %d: server closed", n, got)
		}
	}
}

// Reset empties the mailbox and restarts the count Wait uses.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages, s.received = nil, 0
}

// SetFailing makes every RCPT TO fail with code (4xx temporary, 5xx
// permanent) until SetFailing(0); other codes clear the fault.
func (s *Server) SetFailing(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code < 400 || code > 599 {
		code = 0
	}
	s.failCode = code
}

func (s *Server) failing() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failCode
}

// Stop closes the listener and open connections, so senders see a refused
// connection, while keeping the mailbox for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln, served := s.smtp, s.ln, s.served
	s.smtp, s.ln = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	// go-smtp only closes listeners Serve has registered; closing ours too
	// stops a Serve goroutine that has not started yet.
	_ = ln.Close()
	<-served
}

// Restart listens again on the same address after Stop; it is a no-op when running.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("capture: server is closed")
	}
	if s.smtp != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("capture: listen again on %s: %w", s.addr, err)
	}
	s.serve(ln)
	return nil
}

// Close stops the server for good and wakes any Wait.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.Stop()
	return nil
}

func (s *Server) store(c Captured) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, c)
	if len(s.messages) > MaxMessages {
		s.messages = slices.Delete(s.messages, 0, len(s.messages)-MaxMessages)
	}
	s.received++
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// session is one SMTP connection's transaction state.
type session struct {
	srv      *Server
	authUser string
	from     string
	to       []string
}

// AuthMechanisms offers PLAIN so mailers configured with credentials can be tested.
func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth accepts any credentials and remembers only the user name.
func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, _ string) error {
		x.authUser = username
		return nil
	}), nil
}

// Mail starts a transaction.
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from, x.to = from, nil
	return nil
}

// Rcpt adds a recipient unless a fault is injected.
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code := x.srv.failing(); code != 0 {
		return injected(code)
	}
	x.to = append(x.to, to)
	return nil
}

// Data stores the message; it is never relayed.
func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c := parse(raw)
	c.From, c.To, c.AuthUser, c.ReceivedAt = x.from, slices.Clone(x.to), x.authUser, time.Now()
	x.srv.store(c)
	return nil
}

// Reset drops the transaction but keeps the authentication.
func (x *session) Reset() { x.from, x.to = "", nil }

// Logout has nothing to release.
func (x *session) Logout() error { return nil }

// injected builds the reply for SetFailing, with a matching enhanced status code.
func injected(code int) *smtp.SMTPError {
	if code/100 == 4 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message: "Temporary failure injected by the capture server"}
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "Recipient rejected by the capture server"}
}
