package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/lib/pq"
)

// reserveFast claims the idempotency key, writes the pending orders and takes
// the stock in one statement that commits on its own: a hot variant's row is
// locked only while that statement finishes and commits, as for a bare
// conditional UPDATE, with no round trip to the client in between. Prices,
// status and stock are read first without a lock; if the request has
// problems, or the key is taken, or anything moved between the read and the
// update, nothing is written and ok is false: the caller takes the careful
// path, which explains or replays.
func (db *DB) reserveFast(ctx context.Context, req CheckoutRequest) (checkoutID, amount int64, currency string, ok bool, err error) {
	want, sorted := wantedVariants(req.Lines)
	var rows []struct {
		lockedVariant
		SourceAuthor *int64 `db:"source_author"`
	}
	var source any
	if req.SourceContentID != nil {
		source = *req.SourceContentID
	}
	err = db.retry(ctx, func() error {
		rows = nil
		// The ids are behind a materialized CTE for the reason given at
		// pendingOrdersSQL: the generic plan is kept.
		return db.SelectContext(ctx, &rows, `WITH wanted AS MATERIALIZED (SELECT $1::bigint[] AS ids)
			SELECT `+lockedVariantColumns+`, (SELECT author_id FROM contents WHERE id = $2) AS source_author
			FROM wanted, `+lockedVariantTables+`
			WHERE v.id = ANY(wanted.ids)`, pq.Array(sorted), source)
	})
	if err != nil {
		return 0, 0, "", false, fmt.Errorf("read variants: %w", err)
	}
	byID := map[int64]*lockedVariant{}
	for i := range rows {
		byID[rows[i].ID] = &rows[i].lockedVariant
	}
	var creatorID *int64
	if req.SourceContentID != nil && len(rows) > 0 {
		creatorID = rows[0].SourceAuthor
	}
	if len(byID) != len(sorted) || len(checkLines(req.Lines, byID, want)) > 0 ||
		(req.SourceContentID != nil && creatorID == nil) || !oneCurrency(rows[0].CurrencyCode, byID) {
		return 0, 0, "", false, nil
	}
	currency = rows[0].CurrencyCode
	authors, err := contentAuthors(ctx, db, req, creatorID)
	if err != nil {
		return 0, 0, "", false, err
	}
	orders := planOrders(req, byID, authors)
	args := orders.args(req, req.IdempotencyKey, currency)
	query := reserveOneSQL
	if len(sorted) > 1 {
		query = reserveManySQL
	}
	var out struct {
		CheckoutID sql.NullInt64 `db:"checkout_id"`
		Taken      int           `db:"taken"`
	}
	err = db.retry(ctx, func() error { return db.GetContext(ctx, &out, query, args...) })
	switch {
	case stockRefused(err):
		return 0, 0, "", false, nil // the statement rolled back: nothing was written
	case err != nil:
		return 0, 0, "", false, fmt.Errorf("reserve: %w", err)
	case !out.CheckoutID.Valid:
		return 0, 0, "", false, nil // the key is taken
	case out.Taken != len(sorted):
		// Cannot happen: the lines' foreign keys make every variant exist.
		return 0, 0, "", false, fmt.Errorf("reserve: took %d of %d variants for checkout %d", out.Taken, len(sorted), out.CheckoutID.Int64)
	}
	return out.CheckoutID.Int64, orders.total, currency, true, nil
}

// stockRefused reports whether a reservation failed because a variant could
// not be taken as it was read: the stock column's CHECK (stock >= 0) refused
// the update, and with it the whole statement.
func stockRefused(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23514" && pqErr.Constraint == "product_variants_stock_check"
}

// The reservation claims the key ($1, $2), writes the orders and their lines,
// and then takes for each variant the quantity and price its lines were
// written with. Without the claim nothing is written. A variant whose price,
// currency or product status changed since it was read is set to stock -1,
// and one short of stock would go below zero: either way the CHECK (stock >=
// 0) fails the statement, and the orders and the key are rolled back with it.
//
// Taking the stock from the lines written makes the inserts finish before
// any variant row is locked: the lock is held for the update, the foreign
// key checks and the commit only.
const (
	reserveHeadSQL = `WITH claim AS (
		INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status, amount, currency_code)
		VALUES ($1, $2, $3, 'PENDING', $4, $5)
		ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id
	), ` + pendingOrdersSQL + `, taken AS (
		UPDATE product_variants v SET stock = CASE
			WHEN v.price_amount = x.price AND v.currency_code = $5 AND p.status = 'ACTIVE' THEN v.stock - x.q ELSE -1 END
		FROM products p, `
	reserveTailSQL = `
		RETURNING v.id
	)
	SELECT (SELECT id FROM claim) AS checkout_id, (SELECT count(*) FROM taken) AS taken`

	// One variant: its lines in one row, which the planner knows is one,
	// so it finds the variant by its key rather than scanning a small table.
	reserveOneSQL = reserveHeadSQL + `(
			SELECT min(variant_id) AS id, sum(quantity) AS q, min(unit_price_amount) AS price FROM new_lines
		) x
		WHERE v.id = x.id AND p.id = v.product_id` + reserveTailSQL

	// Several variants are locked in id order first, so that concurrent
	// checkouts of overlapping carts cannot deadlock.
	reserveManySQL = reserveHeadSQL + `(
			SELECT variant_id AS id, sum(quantity) AS q, min(unit_price_amount) AS price FROM new_lines GROUP BY variant_id
		) x, (
			SELECT l.id FROM product_variants l WHERE l.id IN (SELECT variant_id FROM new_lines) ORDER BY l.id FOR NO KEY UPDATE OF l
		) locked
		WHERE v.id = locked.id AND v.id = x.id AND p.id = v.product_id` + reserveTailSQL
)

// wantedVariants totals the quantity asked of each variant and lists the
// variants in id order, the order rows are locked in.
func wantedVariants(lines []CheckoutLine) (map[int64]int, []int64) {
	want := map[int64]int{}
	var ids []int64
	for _, l := range lines {
		if _, ok := want[l.VariantID]; !ok {
			ids = append(ids, l.VariantID)
		}
		want[l.VariantID] += l.Quantity
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return want, ids
}

func oneCurrency(currency string, byID map[int64]*lockedVariant) bool {
	for _, v := range byID {
		if v.CurrencyCode != currency {
			return false
		}
	}
	return true
}
