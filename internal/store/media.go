package store

import (
	"context"

	"gorm.io/gorm/clause"

	"github.com/omnilink/omnilink/models"
)

// SaveMedia stores an upload's blobs (once per content hash) and its media row.
func (s *Store) SaveMedia(ctx context.Context, m *models.Media, blobs ...models.MediaBlob) error {
	return s.WithTx(ctx, func(tx *Store) error {
		for i := range blobs {
			if err := tx.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&blobs[i]).Error; err != nil {
				return err
			}
		}
		return tx.q(ctx).Create(m).Error
	})
}

// Media loads one of a team's uploads.
func (s *Store) Media(ctx context.Context, teamID, id int64) (*models.Media, error) {
	return first[models.Media](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// MediaBlobPublic loads an image by its content hash, for anyone: the hash is the address the
// platforms fetch, and it reveals nothing that the image itself does not.
func (s *Store) MediaBlobPublic(ctx context.Context, hash string) (*models.MediaBlob, error) {
	return first[models.MediaBlob](s.q(ctx).Where("hash = ?", hash))
}
