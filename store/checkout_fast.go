package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// errFastPathMissed aborts the fast reservation: the key was already
// claimed, or a variant's stock, price or status changed after it was read.
// The careful path (claimCheckout, then reserve under row locks) takes over.
var errFastPathMissed = errors.New("fast checkout path missed")

// reserveFast claims the idempotency key, writes the pending orders and takes
// the stock in one transaction of four round trips, and locks the variants
// only for its last statement and the commit: a hot variant's row lock is
// held as briefly as a bare conditional UPDATE's. Prices, status and stock
// are read without a lock and re-checked by the conditional stock update; if
// anything moved, or the request has problems, it writes nothing and reports
// ok = false, and the caller takes the careful path, which explains them.
func (db *DB) reserveFast(ctx context.Context, req CheckoutRequest) (checkoutID, amount int64, currency string, ok bool, err error) {
	want, sorted := wantedVariants(req.Lines)
	err = db.inTxRetry(ctx, func(tx *sqlx.Tx) error {
		// Both statements plan the same way whatever the arguments, and
		// planning them took as long as running them: reuse the plan.
		if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
			return err
		}
		var rows []struct {
			lockedVariant
			SourceAuthor *int64 `db:"source_author"`
		}
		var source any
		if req.SourceContentID != nil {
			source = *req.SourceContentID
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT v.id, v.product_id, v.sku, v.title AS variant_title, p.title,
				v.price_amount, v.currency_code, v.stock, p.status AS product_status, p.shop_id, s.owner_id, s.affiliate_rate_bps,
				(SELECT author_id FROM contents WHERE id = $2) AS source_author
			FROM product_variants v JOIN products p ON p.id = v.product_id JOIN shops s ON s.id = p.shop_id
			WHERE v.id = ANY($1)`, pq.Array(sorted), source); err != nil {
			return fmt.Errorf("read variants: %w", err)
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
			return errFastPathMissed
		}
		currency = rows[0].CurrencyCode
		authors, err := contentAuthors(ctx, tx, req, creatorID)
		if err != nil {
			return err
		}
		orders := planOrders(req, byID, authors)
		amount = orders.total
		if len(sorted) > 1 {
			// Several variants are locked in id order, so that concurrent
			// checkouts of overlapping carts cannot deadlock.
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM product_variants WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pq.Array(sorted)); err != nil {
				return fmt.Errorf("lock variants: %w", err)
			}
		}
		qty := make([]int64, len(sorted))
		prices := make([]int64, len(sorted))
		for i, id := range sorted {
			qty[i], prices[i] = int64(want[id]), byID[id].PriceAmount
		}
		address, _ := json.Marshal(req.ShippingAddress)
		args := []any{req.BuyerID, req.IdempotencyKey, req.hash(), amount, currency, nullIfEmpty(req.Campaign), string(address)}
		args = append(append(args, orders.args()...), pq.Array(sorted), pq.Array(qty), pq.Array(prices))
		var out struct {
			CheckoutID sql.NullInt64 `db:"checkout_id"`
			Taken      int           `db:"taken"`
		}
		if err := tx.GetContext(ctx, &out, reserveFastSQL, args...); err != nil {
			return fmt.Errorf("reserve: %w", err)
		}
		if !out.CheckoutID.Valid || out.Taken != len(sorted) {
			return errFastPathMissed // the transaction rolls back: nothing was written
		}
		checkoutID = out.CheckoutID.Int64
		return nil
	})
	if errors.Is(err, errFastPathMissed) {
		return 0, 0, "", false, nil
	}
	return checkoutID, amount, currency, err == nil, err
}

// reserveFastSQL claims the key ($1, $2), writes the orders and their lines,
// and then takes the stock only if every variant still has it at the price
// read and its product is still for sale. Without the claim no order, line
// or stock is written; the caller rolls back when fewer variants were taken
// than asked.
const reserveFastSQL = `WITH claim AS (
		INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status, amount, currency_code)
		VALUES ($1, $2, $3, 'PENDING', $4, $5)
		ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id
	), ` + pendingOrdersSQL + `, taken AS (
		-- Joining the count of lines written makes the inserts finish before
		-- any variant row is locked: the lock is held for the update and the
		-- commit only.
		UPDATE product_variants v SET stock = v.stock - x.q
		FROM (SELECT count(*) AS n FROM new_lines) written, unnest($24::bigint[], $25::int[], $26::bigint[]) AS x(id, q, price), products p
		WHERE written.n > 0 AND v.id = x.id AND p.id = v.product_id AND p.status = 'ACTIVE'
		  AND v.stock >= x.q AND v.price_amount = x.price AND v.currency_code = $5
		RETURNING v.id
	)
	SELECT (SELECT id FROM claim) AS checkout_id, (SELECT count(*) FROM taken) AS taken`

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
