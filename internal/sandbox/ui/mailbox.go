package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	netmail "net/mail"
	"strconv"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/mail/capture"
	"github.com/omnilink/omnilink/models"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// mailID names a captured message stably: positions shift when the mailbox drops old mail.
func mailID(m capture.Captured) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(m.ReceivedAt.UnixNano(), 10)))
	h.Write(m.Raw)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// teamAddresses are the addresses a team's mail goes to: its people and its notification
// addresses, lower-cased.
func (s *Service) teamAddresses(ctx context.Context, teamID int64) (map[string]bool, models.TimeZone, error) {
	out := map[string]bool{}
	if s.teams == nil {
		return out, models.DefaultTimeZone, nil
	}
	team, err := s.teams.TeamSystem(ctx, teamID)
	if err != nil {
		return nil, "", err
	}
	users, err := s.teams.TeamUsers(ctx, teamID)
	if err != nil {
		return nil, "", err
	}
	for _, u := range users {
		out[strings.ToLower(u.Email)] = true
	}
	for _, e := range team.NotificationEmails {
		out[strings.ToLower(strings.TrimSpace(e))] = true
	}
	return out, team.TimeZone, nil
}

// forTeam reports whether a captured message went to one of the team's addresses.
func forTeam(m capture.Captured, addrs map[string]bool) bool {
	for _, to := range m.To {
		if a, err := netmail.ParseAddress(to); err == nil && addrs[strings.ToLower(a.Address)] {
			return true
		}
		if addrs[strings.ToLower(strings.TrimSpace(to))] {
			return true
		}
	}
	return false
}

// Mailbox lists the mail sent to the team, newest first, and opens the message named open
// ("" for none). Another team's mail does not exist here.
func (s *Service) Mailbox(ctx context.Context, teamID int64, open string) (sbview.MailboxVM, error) {
	vm := sbview.MailboxVM{Enabled: s.mailbox != nil}
	if s.mailbox == nil {
		if open != "" {
			return vm, apperr.ErrNotFound
		}
		return vm, nil
	}
	addrs, zone, err := s.teamAddresses(ctx, teamID)
	if err != nil {
		return vm, err
	}
	msgs := s.mailbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if !forTeam(m, addrs) {
			continue
		}
		row := sbview.MailRowVM{ID: mailID(m), At: zone.Format(m.ReceivedAt), From: m.From, To: strings.Join(m.To, ", "), Subject: m.Subject}
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

// MailHTML returns the HTML part of a message sent to the team, for the preview frame.
func (s *Service) MailHTML(ctx context.Context, teamID int64, id string) (string, error) {
	if s.mailbox != nil {
		addrs, _, err := s.teamAddresses(ctx, teamID)
		if err != nil {
			return "", err
		}
		for _, m := range s.mailbox.Messages() {
			if mailID(m) == id && m.HTML != "" && forTeam(m, addrs) {
				return m.HTML, nil
			}
		}
	}
	return "", apperr.ErrNotFound
}
