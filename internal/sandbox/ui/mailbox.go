package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/mail/capture"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// mailID names a captured message stably: positions shift when the mailbox drops old mail.
func mailID(m capture.Captured) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(m.ReceivedAt.UnixNano(), 10)))
	h.Write(m.Raw)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Mailbox lists the captured mail newest first and opens the message named open ("" for none).
func (s *Service) Mailbox(open string) (sbview.MailboxVM, error) {
	vm := sbview.MailboxVM{Enabled: s.mailbox != nil}
	if s.mailbox == nil {
		if open != "" {
			return vm, apperr.ErrNotFound
		}
		return vm, nil
	}
	msgs := s.mailbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		row := sbview.MailRowVM{ID: mailID(m), At: s.format(m.ReceivedAt), From: m.From, To: strings.Join(m.To, ", "), Subject: m.Subject}
		if open != "" && row.ID == open {
			row.Open = true
			vm.Open = &sbview.MailVM{MailRowVM: row, Text: m.Text, HTML: m.HTML != "", Raw: string(m.Raw), ParseError: m.ParseError}
		}
		vm.Messages = append(vm.Messages, row)
	}
	if open != "" && vm.Open == nil {
		return vm, apperr.ErrNotFound
	}
	return vm, nil
}

// MailHTML returns the HTML part of a captured message, for the preview frame.
func (s *Service) MailHTML(id string) (string, error) {
	if s.mailbox != nil {
		for _, m := range s.mailbox.Messages() {
			if mailID(m) == id && m.HTML != "" {
				return m.HTML, nil
			}
		}
	}
	return "", apperr.ErrNotFound
}
