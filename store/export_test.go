package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
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

// ScoreChangesSQL is the incremental refresh's statement that finds the
// contents to re-score.
const ScoreChangesSQL = scoreChangesSQL

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

// VariantsByContentIDs loads, in one statement, every variant of every
// active product carried as a card by the contents contentIDs (the products
// ProductsByContentIDs returns), keyed by product ID, in display order, as
// VariantsByProductIDs would return them. The feed read it beside
// ProductsByContentIDs before CardsWithVariantsByContentIDs read both in one
// statement; it is kept for tests only, as that statement's reference.
func (db *DB) VariantsByContentIDs(ctx context.Context, contentIDs []int64) (map[int64][]*ProductVariant, error) {
	var rows []*ProductVariant
	if err := db.SelectContext(ctx, &rows, `SELECT `+variantColumns+`
		FROM product_variants v JOIN products p ON p.id = v.product_id`+variantOfferJoin+`
		WHERE v.product_id IN (SELECT cp.product_id FROM content_products cp WHERE cp.content_id = ANY($1)) AND p.status = 'ACTIVE'
		ORDER BY v.product_id, v.position, v.id`, pq.Array(contentIDs)); err != nil {
		return nil, fmt.Errorf("variants by contents: %w", err)
	}
	out := map[int64][]*ProductVariant{}
	for _, v := range rows {
		out[v.ProductID] = append(out[v.ProductID], v)
	}
	return out, nil
}

// The completion's statements (completeCheckout): the full one and the one
// for a checkout that claimed no cart line and redeemed no code.
var (
	CheckoutCompleteSQL     = completeSQL
	CheckoutCompleteBareSQL = completeBareSQL
)
