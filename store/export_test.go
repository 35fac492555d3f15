package store

import (
	"context"
)

// RefreshContentScoresInChunks is RefreshContentScores in chunks of the
// given size, without rests, so that tests can cross chunk boundaries.
func (db *DB) RefreshContentScoresInChunks(ctx context.Context, chunk int64) error {
	return db.refreshContentScores(ctx, chunk, 0)
}
