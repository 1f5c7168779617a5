package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/omnilink/omnilink/models"
)

// CustomerRow is a live customer as the customer list shows it.
type CustomerRow struct {
	models.Customer
	LastActivity *time.Time
}

// CustomerContact is a contact with its channel, as a customer's profile shows it.
type CustomerContact struct {
	models.Contact
	Platform    models.Platform
	ChannelName string
}

// CustomerTag is a tag on one of a customer's contacts.
type CustomerTag struct {
	CustomerID int64
	ContactID  int64
	TagID      int64
	Name       string
	Source     string
	AppliedAt  time.Time
}

// ErrMemberNoTaken is a member number another live customer of the team holds.
var ErrMemberNoTaken = errors.New("store: member number taken")

// TeamCustomers pages a team's live customers (absorbed ones excluded), latest activity first,
// matching q against the name, member number, a contact's name or platform id, or a tag name.
func (s *Store) TeamCustomers(ctx context.Context, teamID int64, q string, offset, limit int) ([]CustomerRow, int64, error) {
	where := `cu.team_id = ? AND cu.merged_into IS NULL`
	args := []any{teamID}
	if q = strings.TrimSpace(q); q != "" {
		like := "%" + escapeLike(q) + "%"
		where += ` AND (cu.display_name ILIKE ? OR cu.member_no ILIKE ?
			OR EXISTS (SELECT 1 FROM contacts ct WHERE ct.customer_id = cu.id AND (ct.name ILIKE ? OR ct.external_user_id = ?))
			OR EXISTS (SELECT 1 FROM contacts ct JOIN contact_tags x ON x.contact_id = ct.id JOIN tags t ON t.id = x.tag_id
				WHERE ct.customer_id = cu.id AND t.name ILIKE ?))`
		args = append(args, like, like, like, q, like)
	}
	var total int64
	if err := s.q(ctx).Raw(`SELECT count(*) FROM customers cu WHERE `+where, args...).Scan(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []CustomerRow
	err := s.q(ctx).Raw(`SELECT cu.*, act.last_activity FROM customers cu
		LEFT JOIN LATERAL (SELECT max(greatest(ct.last_inbound_at, ct.updated_at)) AS last_activity FROM contacts ct WHERE ct.customer_id = cu.id) act ON true
		WHERE `+where+` ORDER BY act.last_activity DESC NULLS LAST, cu.id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...).Scan(&out).Error
	return out, total, err
}

// TeamCustomer loads one of a team's customers (absorbed ones too: they redirect).
func (s *Store) TeamCustomer(ctx context.Context, teamID, id int64) (*models.Customer, error) {
	return first[models.Customer](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// TeamCustomersContacts lists the contacts of the given customers of a team with their channels.
func (s *Store) TeamCustomersContacts(ctx context.Context, teamID int64, customerIDs []int64) ([]CustomerContact, error) {
	var out []CustomerContact
	if len(customerIDs) == 0 {
		return out, nil
	}
	err := s.q(ctx).Raw(`SELECT ct.*, ch.platform, ch.display_name AS channel_name FROM contacts ct JOIN channels ch ON ch.id = ct.channel_id
		WHERE ct.team_id = ? AND ct.customer_id IN ? ORDER BY ch.platform, ct.id`, teamID, customerIDs).Scan(&out).Error
	return out, err
}

// TeamCustomersTags lists the tags on the contacts of the given customers of a team.
func (s *Store) TeamCustomersTags(ctx context.Context, teamID int64, customerIDs []int64) ([]CustomerTag, error) {
	var out []CustomerTag
	if len(customerIDs) == 0 {
		return out, nil
	}
	err := s.q(ctx).Raw(`SELECT ct.customer_id, x.contact_id, t.id AS tag_id, t.name, x.source, x.applied_at
		FROM contact_tags x JOIN contacts ct ON ct.id = x.contact_id JOIN tags t ON t.id = x.tag_id
		WHERE x.team_id = ? AND ct.customer_id IN ? ORDER BY t.name, x.contact_id`, teamID, customerIDs).Scan(&out).Error
	return out, err
}

// SetTeamCustomerMemberNo sets (or clears, with nil) a live customer's member number; a number
// another live customer of the team holds is ErrMemberNoTaken.
func (s *Store) SetTeamCustomerMemberNo(ctx context.Context, teamID, id int64, memberNo *string, now time.Time) error {
	res := s.q(ctx).Exec(`UPDATE customers SET member_no = ?, updated_at = ? WHERE team_id = ? AND id = ? AND merged_into IS NULL`, memberNo, now, teamID, id)
	if isUniqueViolation(res.Error, "customers_team_member_no_key") {
		return ErrMemberNoTaken
	}
	return affected(res)
}

// TeamLiveCustomerByMemberNo finds the live customer holding a member number (ErrNotFound when none).
func (s *Store) TeamLiveCustomerByMemberNo(ctx context.Context, teamID int64, memberNo string) (*models.Customer, error) {
	return first[models.Customer](s.q(ctx).Where("team_id = ? AND member_no = ? AND merged_into IS NULL", teamID, memberNo))
}

// TimelineItem is one thing that happened to a customer, on any of its channels.
type TimelineItem struct {
	Kind      string // in, out, card, click, linked, failed, tag, merge, undo
	At        time.Time
	ContactID int64
	Text      string
	Detail    string
}

// TeamCustomerTimeline lists the latest things that happened to a customer's contacts: messages
// both ways, cards sent, clicks, links and failures, tags, merges and undos, newest first.
func (s *Store) TeamCustomerTimeline(ctx context.Context, teamID, customerID int64, limit int) ([]TimelineItem, error) {
	var out []TimelineItem
	err := s.q(ctx).Raw(`WITH c AS (SELECT id FROM contacts WHERE team_id = @team AND customer_id = @cu)
		SELECT * FROM (
			SELECT m.direction AS kind, m.sent_at AS at, m.contact_id, m.body AS text, '' AS detail FROM messages m
				WHERE m.team_id = @team AND m.contact_id IN (SELECT id FROM c)
			UNION ALL SELECT 'card', ms.created_at, ms.contact_id, split_part(ms.cause, ':', 2), ms.outcome FROM message_sends ms
				WHERE ms.team_id = @team AND ms.contact_id IN (SELECT id FROM c) AND ms.cause LIKE 'campaign:%:card'
			UNION ALL SELECT 'click', a.first_clicked_at, a.source_contact_id, a.campaign_id::text, a.device FROM link_attempts a
				WHERE a.team_id = @team AND a.source_contact_id IN (SELECT id FROM c) AND a.first_clicked_at IS NOT NULL
			UNION ALL SELECT CASE a.status WHEN 'linked' THEN 'linked' ELSE 'failed' END, a.completed_at, a.source_contact_id, a.campaign_id::text,
					CASE WHEN a.status = 'linked' THEN '' WHEN a.reason = '' THEN 'none' ELSE a.reason END FROM link_attempts a
				WHERE a.team_id = @team AND (a.source_contact_id IN (SELECT id FROM c) OR a.target_contact_id IN (SELECT id FROM c))
					AND a.completed_at IS NOT NULL AND a.status <> 'open'
			UNION ALL SELECT 'tag', x.applied_at, x.contact_id, t.name, x.source FROM contact_tags x JOIN tags t ON t.id = x.tag_id
				WHERE x.team_id = @team AND x.contact_id IN (SELECT id FROM c)
			UNION ALL SELECT 'merge', g.created_at, 0, g.id::text, g.actor FROM merges g
				WHERE g.team_id = @team AND (g.survivor_id = @cu OR g.absorbed_id = @cu)
			UNION ALL SELECT 'undo', g.undone_at, 0, g.id::text, g.actor FROM merges g
				WHERE g.team_id = @team AND (g.survivor_id = @cu OR g.absorbed_id = @cu) AND g.undone_at IS NOT NULL
		) t ORDER BY at DESC LIMIT @lim`, map[string]any{"team": teamID, "cu": customerID, "lim": limit}).Scan(&out).Error
	return out, err
}

// MergeRow is a merge with both customers' names, for profiles.
type MergeRow struct {
	models.Merge
	SurvivorName string
	AbsorbedName string
}

// TeamCustomerMerges lists the merges a customer took part in, newest first.
func (s *Store) TeamCustomerMerges(ctx context.Context, teamID, customerID int64) ([]MergeRow, error) {
	var out []MergeRow
	err := s.q(ctx).Raw(`SELECT g.*, su.display_name AS survivor_name, ab.display_name AS absorbed_name FROM merges g
		JOIN customers su ON su.id = g.survivor_id JOIN customers ab ON ab.id = g.absorbed_id
		WHERE g.team_id = ? AND (g.survivor_id = ? OR g.absorbed_id = ?) ORDER BY g.created_at DESC, g.id DESC`, teamID, customerID, customerID).Scan(&out).Error
	return out, err
}
