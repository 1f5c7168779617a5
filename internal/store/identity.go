package store

import (
	"context"
	"fmt"
	"time"

	"github.com/omnilink/omnilink/models"
)

// EnsureTeamContactCustomer gives a team's contact a customer of its own when it has none
// (contacts made before customers existed) and returns the customer id.
func (s *Store) EnsureTeamContactCustomer(ctx context.Context, teamID, contactID int64) (int64, error) {
	var id int64
	err := s.q(ctx).Raw(`WITH c AS (SELECT id, name FROM contacts WHERE team_id = ? AND id = ? AND customer_id IS NULL FOR NO KEY UPDATE),
		cu AS (INSERT INTO customers (team_id, display_name) SELECT ?, name FROM c RETURNING id)
		UPDATE contacts SET customer_id = (SELECT id FROM cu) WHERE id = (SELECT id FROM c) RETURNING customer_id`,
		teamID, contactID, teamID).Scan(&id).Error
	if err != nil || id != 0 {
		return id, err
	}
	err = s.q(ctx).Raw(`SELECT coalesce(customer_id, 0) FROM contacts WHERE team_id = ? AND id = ?`, teamID, contactID).Scan(&id).Error
	return id, err
}

// LockTeamCustomers locks the team's customers with the given ids in id order (the one order
// every merge takes, so two merges never wait on each other in a circle) and returns them.
func (s *Store) LockTeamCustomers(ctx context.Context, teamID int64, ids []int64) ([]models.Customer, error) {
	var out []models.Customer
	err := s.q(ctx).Raw(`SELECT * FROM customers WHERE team_id = ? AND id IN ? ORDER BY id FOR NO KEY UPDATE`, teamID, ids).Scan(&out).Error
	return out, err
}

// LockTeamContactsCustomers locks, in id order, the customers the given contacts of a team
// belong to as the statement starts, and returns them. Callers read the contacts' customers
// again under the lock: one may have moved meanwhile.
func (s *Store) LockTeamContactsCustomers(ctx context.Context, teamID int64, contactIDs []int64) ([]models.Customer, error) {
	rows, err := s.conn().QueryContext(ctx, `SELECT id, team_id, member_no, display_name, merged_into, created_at, updated_at
		FROM customers WHERE team_id = $1 AND id IN
		(SELECT customer_id FROM contacts WHERE team_id = $1 AND id IN (`+placeholders(2, len(contactIDs))+`)) ORDER BY id FOR NO KEY UPDATE`,
		append([]any{teamID}, anyOf(contactIDs)...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []models.Customer
	for rows.Next() {
		var c models.Customer
		if err := rows.Scan(&c.ID, &c.TeamID, &c.MemberNo, &c.DisplayName, &c.MergedInto, &c.CreatedAt, &c.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CustomerContactIDs lists the team's contacts under a customer.
func (s *Store) CustomerContactIDs(ctx context.Context, teamID, customerID int64) ([]int64, error) {
	var ids []int64
	err := s.q(ctx).Raw(`SELECT id FROM contacts WHERE team_id = ? AND customer_id = ? ORDER BY id`, teamID, customerID).Scan(&ids).Error
	return ids, err
}

// MergeFacts is what a merge must know of its two customers before it writes.
type MergeFacts struct {
	// HeldBy is the absorbed side's contact on a channel where both customers hold a different
	// contact (one identity per channel); 0 when no channel clashes.
	HeldBy   int64
	Contacts models.IDList // the absorbed customer's contacts
	Pointed  models.IDList // the customers that point at the absorbed one
}

// mergeFactColumns select a MergeFacts for survivor $2 and absorbed $3 of team $1.
const mergeFactColumns = `coalesce((SELECT x.id FROM contacts x JOIN contacts y ON y.channel_id = x.channel_id AND y.id <> x.id
		WHERE x.team_id = $1 AND x.customer_id = $2 AND y.customer_id = $3 ORDER BY x.id LIMIT 1), 0),
	(SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') FROM contacts WHERE team_id = $1 AND customer_id = $3),
	(SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') FROM customers WHERE team_id = $1 AND merged_into = $3)`

// TeamMergeFacts reads the channel clash, the absorbed customer's contacts and the customers
// merged into it in one query.
func (s *Store) TeamMergeFacts(ctx context.Context, teamID, survivorID, absorbedID int64) (MergeFacts, error) {
	var f MergeFacts
	err := s.conn().QueryRowContext(ctx, `SELECT `+mergeFactColumns, teamID, survivorID, absorbedID).Scan(&f.HeldBy, &f.Contacts, &f.Pointed)
	return f, err
}

// TeamLinkFacts reads in one query the customers the given contacts of a team belong to now
// (0 for none; contacts of other teams are absent) and the merge facts of survivor and
// absorbed, which mean something only when those are the contacts' customers.
func (s *Store) TeamLinkFacts(ctx context.Context, teamID int64, contactIDs []int64, survivorID, absorbedID int64) (map[int64]int64, MergeFacts, error) {
	var row struct {
		MergeFacts
		OwnerContacts  models.IDList
		OwnerCustomers models.IDList
	}
	in := placeholders(4, len(contactIDs))
	err := s.conn().QueryRowContext(ctx, `SELECT `+mergeFactColumns+`,
			(SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') FROM contacts WHERE team_id = $1 AND id IN (`+in+`)),
			(SELECT coalesce(jsonb_agg(coalesce(customer_id, 0) ORDER BY id), '[]') FROM contacts WHERE team_id = $1 AND id IN (`+in+`))`,
		append([]any{teamID, survivorID, absorbedID}, anyOf(contactIDs)...)...).Scan(&row.HeldBy, &row.Contacts, &row.Pointed, &row.OwnerContacts, &row.OwnerCustomers)
	if err != nil {
		return nil, MergeFacts{}, err
	}
	if len(row.OwnerContacts) != len(row.OwnerCustomers) {
		return nil, MergeFacts{}, fmt.Errorf("link facts: %d contacts, %d customers", len(row.OwnerContacts), len(row.OwnerCustomers))
	}
	owners := make(map[int64]int64, len(row.OwnerContacts))
	for i, id := range row.OwnerContacts {
		owners[id] = row.OwnerCustomers[i]
	}
	return owners, row.MergeFacts, nil
}

// MergeCustomers moves every contact of absorbed to survivor, points absorbed (and whatever
// pointed at it) to survivor, takes the absorbed member number and name when the survivor has
// none, and records the merge with its snapshot. The moves and the record are one statement.
func (s *Store) MergeCustomers(ctx context.Context, m *models.Merge, memberNo *string, absorbedName string, audit *models.AuditEntry, now time.Time) error {
	q := s.q(ctx)
	m.CreatedAt = now
	// A survivor without a name takes the absorbed one's (an Instagram identity has none). The
	// audit entry is written in the same statement, with the merge's id added to its detail.
	err := s.conn().QueryRowContext(ctx, `WITH moved AS (UPDATE contacts SET customer_id = $2, updated_at = $4 WHERE team_id = $1 AND customer_id = $3),
			pointed AS (UPDATE customers SET merged_into = $2, updated_at = $4 WHERE team_id = $1 AND (id = $3 OR merged_into = $3)),
			named AS (UPDATE customers SET display_name = $7, updated_at = $4
				WHERE team_id = $1 AND id = $2 AND display_name = '' AND $7 <> ''),
			merge AS (INSERT INTO merges (team_id, survivor_id, absorbed_id, snapshot, actor, created_at)
				VALUES ($1, $2, $3, $5, $6, $4) RETURNING id),
			logged AS (INSERT INTO audit_log (team_id, actor_user_id, action, target, detail, created_at)
				SELECT $1, $8, $9, $10, CAST($11 AS jsonb) || jsonb_build_object('merge_id', merge.id), $4 FROM merge)
		SELECT id FROM merge`, m.TeamID, m.SurvivorID, m.AbsorbedID, now, m.Snapshot, m.Actor, absorbedName,
		audit.ActorUserID, audit.Action, audit.Target, audit.Detail).Scan(&m.ID)
	if err != nil || memberNo == nil {
		return err
	}
	// A statement of its own: the number is unique among live customers, and the absorbed
	// customer has left them only once the statement above is done.
	return q.Exec(`UPDATE customers SET member_no = ?, updated_at = ? WHERE team_id = ? AND id = ? AND member_no IS NULL`,
		*memberNo, now, m.TeamID, m.SurvivorID).Error
}

// RestoreTeamCustomerName gives a customer its name back (undoing a merge) unless it has been
// renamed since: only a customer still named taken becomes named name.
func (s *Store) RestoreTeamCustomerName(ctx context.Context, teamID, id int64, taken, name string, now time.Time) error {
	return s.q(ctx).Exec(`UPDATE customers SET display_name = ?, updated_at = ? WHERE team_id = ? AND id = ? AND display_name = ?`,
		name, now, teamID, id, taken).Error
}

// TeamMergeForUpdate loads and locks one of a team's merges.
func (s *Store) TeamMergeForUpdate(ctx context.Context, teamID, id int64) (*models.Merge, error) {
	var out []models.Merge
	if err := s.q(ctx).Raw(`SELECT * FROM merges WHERE team_id = ? AND id = ? FOR UPDATE`, teamID, id).Scan(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return &out[0], nil
}

// UndoMerge puts the snapshot's contacts and customers back under absorbed and marks the merge undone.
func (s *Store) UndoMerge(ctx context.Context, m *models.Merge, contacts, pointed []int64, survivorMemberNo *string, now time.Time) error {
	q := s.q(ctx)
	// The survivor gives the member number back first: a number names one live customer.
	if err := q.Exec(`UPDATE customers SET member_no = ?, updated_at = ? WHERE team_id = ? AND id = ?`, survivorMemberNo, now, m.TeamID, m.SurvivorID).Error; err != nil {
		return err
	}
	if len(contacts) > 0 {
		if err := q.Exec(`UPDATE contacts SET customer_id = ?, updated_at = ? WHERE team_id = ? AND id IN ? AND customer_id = ?`,
			m.AbsorbedID, now, m.TeamID, contacts, m.SurvivorID).Error; err != nil {
			return err
		}
	}
	if err := q.Exec(`UPDATE customers SET merged_into = NULL, updated_at = ? WHERE team_id = ? AND id = ?`, now, m.TeamID, m.AbsorbedID).Error; err != nil {
		if isUniqueViolation(err, "customers_team_member_no_key") {
			return ErrMemberNoTaken
		}
		return err
	}
	if len(pointed) > 0 {
		if err := q.Exec(`UPDATE customers SET merged_into = ?, updated_at = ? WHERE team_id = ? AND id IN ?`, m.AbsorbedID, now, m.TeamID, pointed).Error; err != nil {
			return err
		}
	}
	return q.Exec(`UPDATE merges SET undone_at = ? WHERE id = ?`, now, m.ID).Error
}

// LaterLiveMergeOf finds the newest merge after m that is still in place and involves either of
// m's customers (0 when there is none): undoing m first would pull contacts from under it.
func (s *Store) LaterLiveMergeOf(ctx context.Context, m *models.Merge) (int64, error) {
	var id int64
	err := s.q(ctx).Raw(`SELECT coalesce(max(id), 0) FROM merges WHERE team_id = ? AND id > ? AND undone_at IS NULL
		AND (survivor_id IN (?, ?) OR absorbed_id IN (?, ?))`, m.TeamID, m.ID, m.SurvivorID, m.AbsorbedID, m.SurvivorID, m.AbsorbedID).Scan(&id).Error
	return id, err
}

// TeamMerge loads one of a team's merges.
func (s *Store) TeamMerge(ctx context.Context, teamID, id int64) (*models.Merge, error) {
	return first[models.Merge](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}
