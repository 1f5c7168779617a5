package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/omnilink/omnilink/models"
)

// CreateLinkToken stores a minted token (its hash) and records "card sent" on the
// participation of its campaign and source contact, creating the participation if needed.
func (s *Store) CreateLinkToken(ctx context.Context, t *models.LinkToken) error {
	if err := s.q(ctx).Create(t).Error; err != nil {
		return err
	}
	return s.q(ctx).Exec(`INSERT INTO link_attempts (team_id, campaign_id, source_contact_id, last_token_id, card_sent_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (campaign_id, source_contact_id) DO UPDATE SET last_token_id = EXCLUDED.last_token_id,
			card_sent_at = coalesce(link_attempts.card_sent_at, EXCLUDED.card_sent_at), updated_at = now()`,
		t.TeamID, t.CampaignID, t.SourceContactID, t.ID, t.CreatedAt).Error
}

// OpenLinkTokenByCodeSystem finds the open token carrying a WhatsApp code, system-wide (the
// caller checks that the message came to the campaign's target number).
func (s *Store) OpenLinkTokenByCodeSystem(ctx context.Context, code string) (*models.LinkToken, error) {
	return first[models.LinkToken](s.q(ctx).Where("wa_code = ? AND used_at IS NULL", code))
}

// LinkAttemptForUpdate loads and locks the team's participation of one campaign and source
// contact: every completion of the pair takes this lock first, so it completes once.
func (s *Store) LinkAttemptForUpdate(ctx context.Context, teamID, campaignID, sourceContactID int64) (*models.LinkAttempt, error) {
	var a models.LinkAttempt
	err := s.conn().QueryRowContext(ctx, `SELECT id, team_id, campaign_id, source_contact_id, last_token_id, card_sent_at,
			first_clicked_at, opened_at, device, os, in_app, friend_required_at, liff_verified_at, liff_user_id, id_token_hash,
			target_contact_id, target_created, status, reason, reason_detail, completed_at, created_at, updated_at
		FROM link_attempts WHERE team_id = $1 AND campaign_id = $2 AND source_contact_id = $3 FOR NO KEY UPDATE`,
		teamID, campaignID, sourceContactID).Scan(&a.ID, &a.TeamID, &a.CampaignID, &a.SourceContactID, &a.LastTokenID, &a.CardSentAt,
		&a.FirstClickedAt, &a.OpenedAt, &a.Device, &a.OS, &a.InApp, &a.FriendRequiredAt, &a.LiffVerifiedAt, &a.LiffUserID, &a.IDTokenHash,
		&a.TargetContactID, &a.TargetCreated, &a.Status, &a.Reason, &a.ReasonDetail, &a.CompletedAt, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// TeamLinkAttempt loads the team's participation of one campaign and source contact.
func (s *Store) TeamLinkAttempt(ctx context.Context, teamID, campaignID, sourceContactID int64) (*models.LinkAttempt, error) {
	return first[models.LinkAttempt](s.q(ctx).Where("team_id = ? AND campaign_id = ? AND source_contact_id = ?", teamID, campaignID, sourceContactID))
}

// ClickFacts is what the first click tells about the customer's device.
type ClickFacts struct {
	Device, OS, InApp string
	Opened            bool // the click sent the customer on to the target (LIFF or wa.me)
}

// RecordLinkClick stamps the first click (the participation) and the device of that click,
// and the first time the customer was sent on to the target.
func (s *Store) RecordLinkClick(ctx context.Context, teamID, campaignID, sourceContactID int64, f ClickFacts, now time.Time) error {
	var opened *time.Time
	if f.Opened {
		opened = &now
	}
	return s.q(ctx).Exec(`UPDATE link_attempts SET
			device = CASE WHEN first_clicked_at IS NULL THEN ? ELSE device END,
			os = CASE WHEN first_clicked_at IS NULL THEN ? ELSE os END,
			in_app = CASE WHEN first_clicked_at IS NULL THEN ? ELSE in_app END,
			first_clicked_at = coalesce(first_clicked_at, ?),
			opened_at = coalesce(opened_at, ?::timestamptz),
			updated_at = ?
		WHERE team_id = ? AND campaign_id = ? AND source_contact_id = ?
			AND (first_clicked_at IS NULL OR (opened_at IS NULL AND ?::timestamptz IS NOT NULL))`,
		f.Device, f.OS, f.InApp, now, opened, now, teamID, campaignID, sourceContactID, opened).Error
}

// SaveLinkAttempt writes a locked participation back.
func (s *Store) SaveLinkAttempt(ctx context.Context, a *models.LinkAttempt) error {
	return s.q(ctx).Save(a).Error
}

// UseLinkTokenSystem marks a token used (the link succeeded through it).
func (s *Store) UseLinkTokenSystem(ctx context.Context, id int64, now time.Time) error {
	return s.q(ctx).Exec(`UPDATE link_tokens SET used_at = coalesce(used_at, ?) WHERE id = ?`, now, id).Error
}

// LinkCompletionChecksSystem reads, in one query, whether a LINE ID token (by hash; nil: none) already
// completed a participation, and the campaign row's version (see CampaignWithRowVersion; 0 when
// the campaign is gone). Run after the participation's lock, it sees what committed meanwhile.
func (s *Store) LinkCompletionChecksSystem(ctx context.Context, campaignID int64, idHash []byte) (used bool, campaignVersion int64, err error) {
	err = s.conn().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM link_attempts WHERE id_token_hash = $1),
		coalesce((SELECT xmin::text::bigint FROM campaigns WHERE id = $2), 0)`, idHash, campaignID).Scan(&used, &campaignVersion)
	return used, campaignVersion, err
}

// SaveLinkedAttempt writes what linking changed on a locked participation and marks every open
// token of its pair used (after success no other card of the pair links anyone else), in one
// statement.
func (s *Store) SaveLinkedAttempt(ctx context.Context, a *models.LinkAttempt, now time.Time) error {
	_, err := s.conn().ExecContext(ctx, `WITH used AS (UPDATE link_tokens SET used_at = $1
			WHERE campaign_id = $2 AND source_contact_id = $3 AND used_at IS NULL)
		UPDATE link_attempts SET first_clicked_at = $4, liff_verified_at = $5, liff_user_id = $6,
			id_token_hash = $7, target_contact_id = $8, target_created = $9, status = $10, reason = $11,
			reason_detail = $12, completed_at = $13, updated_at = $14, opened_at = coalesce(opened_at, $16)
		WHERE id = $15`,
		now, a.CampaignID, a.SourceContactID, a.FirstClickedAt, a.LiffVerifiedAt, a.LiffUserID, a.IDTokenHash, a.TargetContactID,
		a.TargetCreated, a.Status, a.Reason, a.ReasonDetail, a.CompletedAt, a.UpdatedAt, a.ID, a.OpenedAt)
	return err
}

// CampaignAny loads a team's campaign including a deleted one (links must tell "does not exist").
func (s *Store) CampaignAny(ctx context.Context, teamID, id int64) (*models.Campaign, error) {
	return first[models.Campaign](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// TeamContactsOnChannel lists a team's contacts of one channel for pickers, newest activity first.
func (s *Store) TeamContactsOnChannel(ctx context.Context, teamID, channelID int64, limit int) ([]models.Contact, error) {
	var out []models.Contact
	err := s.q(ctx).Where("team_id = ? AND channel_id = ?", teamID, channelID).
		Order("last_inbound_at DESC NULLS LAST, id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// ContactByExternalID finds a team's contact by channel and platform user id.
func (s *Store) ContactByExternalID(ctx context.Context, teamID, channelID int64, externalID string) (*models.Contact, error) {
	return first[models.Contact](s.q(ctx).Where("team_id = ? AND channel_id = ? AND external_user_id = ?", teamID, channelID, externalID))
}

// LinkContext is a token with what a click needs of its campaign, channels and contact, read
// in one query (the click is the hot path).
type LinkContext struct {
	Token            models.LinkToken
	CampaignStatus   models.CampaignStatus
	CampaignDeleted  bool
	WAMessage        string
	SourceChannelID  int64
	SourceStatus     *models.ChannelStatus // nil: not the team's any more
	ContactChannelID *int64
	TargetChannelID  int64
	TargetStatus     *models.ChannelStatus
	TargetPlatform   models.Platform
	TargetExternalID string
	TargetSettings   models.ChannelSettings
	// TargetCredentials is the target channel's sealed credentials (see models.Channel).
	TargetCredentials string
}

// LinkContextByHashSystem finds a token by its hash with its context, system-wide: the hash is
// the capability the link carries.
func (s *Store) LinkContextByHashSystem(ctx context.Context, hash []byte) (*LinkContext, error) {
	// Scanned column by column: this is every click's query, and gorm's reflective scan cost
	// more than the query itself.
	row := s.conn().QueryRowContext(ctx, `SELECT t.id, t.team_id, t.campaign_id, t.source_contact_id, t.token_hash, t.wa_code, t.created_at,
			t.expires_at, t.used_at, c.status, c.deleted_at IS NOT NULL, c.wa_message,
			c.source_channel_id, s.status, ct.channel_id,
			c.target_channel_id, g.status, coalesce(g.platform, ''), coalesce(g.external_id, ''), coalesce(g.settings, '{}'),
			coalesce(g.credentials, '')
		FROM link_tokens t
		JOIN campaigns c ON c.id = t.campaign_id AND c.team_id = t.team_id
		LEFT JOIN channels s ON s.id = c.source_channel_id AND s.team_id = t.team_id
		LEFT JOIN contacts ct ON ct.id = t.source_contact_id AND ct.team_id = t.team_id
		LEFT JOIN channels g ON g.id = c.target_channel_id AND g.team_id = t.team_id
		WHERE t.token_hash = $1`, hash)
	var lx LinkContext
	t := &lx.Token
	err := row.Scan(&t.ID, &t.TeamID, &t.CampaignID, &t.SourceContactID, &t.TokenHash, &t.WACode, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt,
		&lx.CampaignStatus, &lx.CampaignDeleted, &lx.WAMessage, &lx.SourceChannelID, &lx.SourceStatus, &lx.ContactChannelID,
		&lx.TargetChannelID, &lx.TargetStatus, &lx.TargetPlatform, &lx.TargetExternalID, &lx.TargetSettings, &lx.TargetCredentials)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &lx, nil
}

// FailUnfinishedAttemptsSystem marks clicked participations whose every card has expired
// unused as failed without a stored reason (the customer never sent the message or never
// opened the target app), system-wide; it returns how many.
func (s *Store) FailUnfinishedAttemptsSystem(ctx context.Context, now time.Time) (int64, error) {
	res := s.q(ctx).Exec(`UPDATE link_attempts a SET status = 'failed', reason = 'none', completed_at = ?, updated_at = ?
		WHERE a.status = 'open' AND a.first_clicked_at IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM link_tokens t WHERE t.campaign_id = a.campaign_id
		      AND t.source_contact_id = a.source_contact_id AND t.used_at IS NULL AND t.expires_at > ?)`, now, now, now)
	return res.RowsAffected, res.Error
}

// FollowCandidate is an open participation waiting for a LINE user to add the target account.
type FollowCandidate struct {
	CampaignID      int64
	SourceContactID int64
	LastTokenID     int64
}

// TeamFollowCandidates lists open participations of campaigns with LinkOnFollow on whose
// target is channelID and whose verified LIFF visit by lineUserID came after since.
func (s *Store) TeamFollowCandidates(ctx context.Context, teamID, channelID int64, lineUserID string, since time.Time) ([]FollowCandidate, error) {
	var out []FollowCandidate
	err := s.q(ctx).Raw(`SELECT a.campaign_id, a.source_contact_id, a.last_token_id FROM link_attempts a
		JOIN campaigns c ON c.id = a.campaign_id AND c.team_id = a.team_id
		WHERE a.team_id = ? AND a.status = 'open' AND a.liff_user_id = ? AND a.friend_required_at IS NOT NULL
		  AND a.liff_verified_at >= ? AND a.last_token_id IS NOT NULL
		  AND c.target_channel_id = ? AND c.link_on_follow AND c.deleted_at IS NULL`,
		teamID, lineUserID, since, channelID).Scan(&out).Error
	return out, err
}

// LinkTokenSystem loads a token by id, system-wide (from a participation the caller holds).
func (s *Store) LinkTokenSystem(ctx context.Context, id int64) (*models.LinkToken, error) {
	return first[models.LinkToken](s.q(ctx).Where("id = ?", id))
}
