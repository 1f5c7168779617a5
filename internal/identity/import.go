package identity

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Import limits: the file is read whole (it is small), rows beyond the limit are refused.
const (
	ImportMaxBytes = 2 << 20
	ImportMaxRows  = 10000
)

// Import file errors: nothing is applied when the file itself cannot be read.
var (
	ErrImportEncoding = apperr.Invalid("file", "customers.import_error_encoding")
	ErrImportFormat   = apperr.Invalid("file", "customers.import_error_format")
	ErrImportEmpty    = apperr.Invalid("file", "customers.import_error_empty")
	ErrImportTooMany  = apperr.Invalid("file", "customers.import_error_rows")
)

// ImportOutcome is what happened to one row.
type ImportOutcome string

// Row outcomes; every refusal has an i18n key customers.import_<outcome>.
const (
	ImportApplied        ImportOutcome = "applied"
	ImportUnchanged      ImportOutcome = "unchanged"
	ImportBadRow         ImportOutcome = "bad_row"
	ImportUnknownChannel ImportOutcome = "unknown_channel"
	ImportUnknownContact ImportOutcome = "unknown_contact"
	ImportBadMemberNo    ImportOutcome = "bad_member_no"
	ImportDuplicateNo    ImportOutcome = "duplicate_in_file"
	ImportDuplicateRow   ImportOutcome = "repeated_contact"
	ImportTaken          ImportOutcome = "taken"
	ImportHasOther       ImportOutcome = "has_other"
)

// ImportRow is one row of the report.
type ImportRow struct {
	Line       int
	Channel    string
	ExternalID string
	MemberNo   string
	Outcome    ImportOutcome
	Detail     string // the member number already there, for has_other
}

// Applied reports whether the row changed or confirmed a member number.
func (r ImportRow) Applied() bool { return r.Outcome == ImportApplied || r.Outcome == ImportUnchanged }

// ImportMemberNumbers reads a CSV of (channel, external user id, member number) and applies
// each row in its own savepoint: a row is applied whole or not at all, and the report says
// which and why. The channel is named by its platform account id, its display name or its id.
func (s *Customers) ImportMemberNumbers(ctx context.Context, actor *models.User, r io.Reader) ([]ImportRow, error) {
	raw, err := io.ReadAll(io.LimitReader(r, ImportMaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > ImportMaxBytes {
		return nil, ErrImportTooMany.With(map[string]any{"Max": ImportMaxRows})
	}
	raw = bytes.TrimPrefix(raw, []byte("\uFEFF"))
	if !utf8.Valid(raw) {
		return nil, ErrImportEncoding
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	records, err := cr.ReadAll()
	if err != nil {
		return nil, ErrImportFormat.Wrap(err)
	}
	if len(records) > 0 && isImportHeader(records[0]) {
		records = records[1:]
	}
	if len(records) == 0 {
		return nil, ErrImportEmpty
	}
	if len(records) > ImportMaxRows {
		return nil, ErrImportTooMany.With(map[string]any{"Max": ImportMaxRows})
	}
	chans, err := s.st.TeamChannels(ctx, actor.TeamID)
	if err != nil {
		return nil, err
	}
	rows := make([]ImportRow, len(records))
	type key struct {
		ch  int64
		ext string
	}
	channelOf := make([]int64, len(records))
	byNo := map[string][]int{}
	seen := map[key]bool{}
	for i, rec := range records {
		row := &rows[i]
		row.Line = i + 1
		if len(rec) != 3 {
			row.Outcome = ImportBadRow
			continue
		}
		row.Channel, row.ExternalID, row.MemberNo = strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		ch := findChannel(chans, row.Channel)
		switch no, err := CleanMemberNo(row.MemberNo); {
		case ch == nil:
			row.Outcome = ImportUnknownChannel
		case row.ExternalID == "":
			row.Outcome = ImportUnknownContact
		case err != nil || no == nil:
			row.Outcome = ImportBadMemberNo
		case seen[key{ch.ID, row.ExternalID}]:
			row.Outcome = ImportDuplicateRow
		default:
			seen[key{ch.ID, row.ExternalID}] = true
			channelOf[i] = ch.ID
			byNo[row.MemberNo] = append(byNo[row.MemberNo], i)
		}
	}
	// One number for two identities in one file is ambiguous: refuse all of them.
	for _, lines := range byNo {
		if len(lines) > 1 {
			for _, i := range lines {
				rows[i].Outcome = ImportDuplicateNo
			}
		}
	}
	applied := 0
	for i := range rows {
		if rows[i].Outcome != "" {
			continue
		}
		row := &rows[i]
		err := s.st.WithTx(ctx, func(tx *store.Store) error {
			c, err := tx.ContactByExternalID(ctx, actor.TeamID, channelOf[i], row.ExternalID)
			if errors.Is(err, store.ErrNotFound) {
				row.Outcome = ImportUnknownContact
				return nil
			}
			if err != nil {
				return err
			}
			cuID, err := tx.EnsureTeamContactCustomer(ctx, actor.TeamID, c.ID)
			if err != nil {
				return err
			}
			cu, err := tx.TeamCustomer(ctx, actor.TeamID, cuID)
			if err != nil {
				return err
			}
			switch {
			case cu.MemberNo != nil && *cu.MemberNo == row.MemberNo:
				row.Outcome = ImportUnchanged
				return nil
			case cu.MemberNo != nil:
				row.Outcome, row.Detail = ImportHasOther, *cu.MemberNo
				return nil
			}
			no := row.MemberNo
			err = tx.SetTeamCustomerMemberNo(ctx, actor.TeamID, cuID, &no, s.now())
			if errors.Is(err, store.ErrMemberNoTaken) {
				row.Outcome = ImportTaken
				return errRollback
			}
			if err != nil {
				return err
			}
			row.Outcome = ImportApplied
			return nil
		})
		if err != nil && !errors.Is(err, errRollback) {
			return nil, err
		}
		if row.Outcome == ImportApplied {
			applied++
		}
	}
	err = s.st.AddAudit(ctx, &models.AuditEntry{TeamID: actor.TeamID, ActorUserID: &actor.ID, Action: "customer.member_import",
		Detail: models.JSONMap{"rows": len(rows), "applied": applied}, CreatedAt: s.now()})
	return rows, err
}

// errRollback ends a row's transaction without applying it.
var errRollback = errors.New("identity: row refused")

func isImportHeader(rec []string) bool {
	if len(rec) == 0 {
		return false
	}
	h := strings.ToLower(strings.TrimSpace(rec[0]))
	return h == "channel" || h == "渠道" || h == "頻道"
}

func findChannel(chans []models.Channel, name string) *models.Channel {
	if name == "" {
		return nil
	}
	for i := range chans {
		if chans[i].ExternalID == name || strconv.FormatInt(chans[i].ID, 10) == name {
			return &chans[i]
		}
	}
	// A display name counts only when one channel carries it (a Page and its Instagram
	// account often share one).
	var found *models.Channel
	for i := range chans {
		if chans[i].DisplayName == name {
			if found != nil {
				return nil
			}
			found = &chans[i]
		}
	}
	return found
}
