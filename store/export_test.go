package store

import (
	"context"
	"time"
)

// RefreshContentScoresInChunks is RefreshContentScores in chunks of the
// given size, without rests, so that tests can cross chunk boundaries.
func (db *DB) RefreshContentScoresInChunks(ctx context.Context, chunk int64) error {
	_, err := db.refreshScores(ctx, true, chunk, 0)
	return err
}

// RefreshChangedContentScoresInChunks is RefreshChangedContentScores
// re-scoring chunk contents per statement.
func (db *DB) RefreshChangedContentScoresInChunks(ctx context.Context, chunk int64) (ScoreRefresh, error) {
	return db.refreshScores(ctx, false, chunk, 0)
}

// RecomputeContentScoresWithoutRests is RecomputeContentScores without the
// rests between chunks, for benchmarks.
func (db *DB) RecomputeContentScoresWithoutRests(ctx context.Context) (ScoreRefresh, error) {
	return db.refreshScores(ctx, true, scoreChunk, 0)
}

// VariantsByProductsSQL is the statement VariantsByProductIDs runs.
const VariantsByProductsSQL = variantsByProductsSQL

// FeedChangesPruner is RunFeedChangesPrune's state, stepped by tests at
// the times they choose.
type FeedChangesPruner struct{ p feedChangesPruner }

// Step is one of RunFeedChangesPrune's steps, as if taken at now.
func (p *FeedChangesPruner) Step(ctx context.Context, db *DB, now time.Time) error {
	return p.p.step(ctx, db, now)
}

// Checkout's statements whose campaign pricing must be inlined: the short
// path's read of the variants and its reservations of one and of several
// variants.
var (
	CheckoutReadVariantsSQL = readVariantsSQL
	CheckoutReserveOneSQL   = reserveOneSQL
	CheckoutReserveManySQL  = reserveManySQL
)
