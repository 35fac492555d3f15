package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// reservation is what reserving a checkout came to: reserved (this process
// holds the payment's lease), the key already taken (neither reserved nor
// problems), or problems (nothing written).
type reservation struct {
	reserved bool
	attempt  paymentAttempt
	problems Problems
	// unflushed: the reservation committed without waiting for its WAL to
	// reach the disk and was not flushed by the same call (the procedure
	// answered another mode than "flushed"); flushReservation must make it
	// durable before the provider is called.
	unflushed bool
}

// reserve claims the idempotency key and writes, in one transaction, the
// pending orders and their lines, the payment record (with this process
// holding its lease) and the cart lines' claim, and takes the stock. It
// tries the short path first and falls back to the careful one, which
// explains problems.
//
// A guest checkout (req.Email and req.CartKey set) takes the careful path
// only: its guest_checkouts row (email, order token) is written in the
// reservation's transaction, so it exists whatever becomes of the reply
// (see recordGuestCheckout).
func (db *DB) reserve(ctx context.Context, provider string, req CheckoutRequest) (reservation, error) {
	// Discount codes are a stock counted under their rows' locks (see
	// checkoutDiscounts): a checkout with codes takes the careful path.
	if req.guest() || len(req.DiscountCodes) > 0 {
		return db.reserveCareful(ctx, provider, req)
	}
	r, outcome, err := db.reserveFast(ctx, provider, req)
	if err != nil || outcome != fastMoved {
		return r, err
	}
	return db.reserveCareful(ctx, provider, req)
}

// Outcomes of the short path.
const (
	fastReserved = iota
	fastKeyTaken
	fastMoved // problems to explain, or something moved: take the careful path
)

// reserveFast claims the idempotency key, writes the pending orders, the
// payment record and the cart claim and takes the stock in one statement
// that commits on its own, without waiting for the disk (reserveCommitSQL):
// a hot variant's row is locked only while that statement runs, with no
// round trip to the client and no WAL flush in between; the reservation is
// flushed afterwards, in the same call, before any provider call
// (reserveCallSQL). Prices, status, stock and the
// lines' sources are read first without a lock; if the request has
// problems, or anything moved between the read and the update, nothing is
// written.
func (db *DB) reserveFast(ctx context.Context, provider string, req CheckoutRequest) (reservation, int, error) {
	want, sorted := wantedVariants(req.Lines)
	var rows []lockedVariant
	err := db.retry(ctx, func() error {
		rows = nil
		return db.SelectContext(ctx, &rows, readVariantsSQL, pq.Array(sorted), req.ShippingAddress.CountryCode, req.cartBuyer())
	})
	if err != nil {
		return reservation{}, 0, fmt.Errorf("read variants: %w", err)
	}
	byID := map[int64]*lockedVariant{}
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	if len(byID) != len(sorted) || len(checkLines(req, byID, want)) > 0 || !oneCurrency(rows[0].CurrencyCode, byID) {
		return reservation{}, fastMoved, nil
	}
	costs, problems, err := priceCheckout(req, byID, nil)
	if err != nil || len(problems) > 0 {
		return reservation{}, fastMoved, err
	}
	sources, problems, err := lineSources(ctx, db, req, byID)
	if err != nil || len(problems) > 0 {
		return reservation{}, fastMoved, err
	}
	currency := rows[0].CurrencyCode
	orders := planOrders(req, byID, sources, costs)
	pkey, err := db.providerKey(ctx, req.BuyerID, req.IdempotencyKey)
	if err != nil {
		return reservation{}, 0, err
	}
	a := paymentAttempt{ProviderKey: pkey, Amount: orders.total, Currency: currency, plan: &orders, bare: req.bare()}
	args := append(append(orders.args(req, req.IdempotencyKey, currency), a.args(provider, db.PaymentSettings, req)...), orders.costArgs()...)
	listPrices := make([]int64, len(sorted))
	for i, id := range sorted {
		listPrices[i] = byID[id].ListPriceAmount
	}
	args = append(args, pq.Array(sorted), pq.Array(listPrices))
	var out struct {
		CheckoutID sql.NullInt64  `db:"o_checkout_id"`
		Taken      sql.NullInt64  `db:"o_taken"`
		CommitMode sql.NullString `db:"o_mode"`
	}
	err = db.retry(ctx, func() error { return db.GetContext(ctx, &out, reserveCallSQL, args...) })
	switch {
	case stockRefused(err):
		return reservation{}, fastMoved, nil // the statement rolled back: nothing was written
	case err != nil:
		return reservation{}, 0, fmt.Errorf("reserve: %w", err)
	case !out.CheckoutID.Valid:
		return reservation{}, fastKeyTaken, nil
	case out.Taken.Int64 != int64(len(sorted)):
		// Cannot happen: the lines' foreign keys make every variant exist.
		return reservation{}, 0, fmt.Errorf("reserve: took %d of %d variants for checkout %d", out.Taken.Int64, len(sorted), out.CheckoutID.Int64)
	}
	a.CheckoutID = out.CheckoutID.Int64
	return reservation{reserved: true, attempt: a, unflushed: out.CommitMode.String != "flushed"}, fastReserved, nil
}

// reserveCareful does what reserveFast does in a transaction that locks the
// variants (in id order, so concurrent checkouts cannot deadlock) and the
// cart lines, and explains every problem; with problems nothing is written.
func (db *DB) reserveCareful(ctx context.Context, provider string, req CheckoutRequest) (reservation, error) {
	want, sorted := wantedVariants(req.Lines)
	// The provider key is derived before the transaction: deriving it may
	// read the installation id from the pool, which must never be waited
	// for while this transaction holds the variants' locks (a burst of
	// checkouts of one variant fills the pool with transactions waiting for
	// those locks).
	pkey, err := db.providerKey(ctx, req.BuyerID, req.IdempotencyKey)
	if err != nil {
		return reservation{}, err
	}
	var r reservation
	err = db.inTxRetry(ctx, func(tx *sqlx.Tx) error {
		r = reservation{}
		var checkoutID int64
		err := tx.GetContext(ctx, &checkoutID, `INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status)
			VALUES ($1, $2, $3, 'PENDING') ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id`,
			req.BuyerID, req.IdempotencyKey, req.hash())
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the key is taken
		} else if err != nil {
			return fmt.Errorf("claim checkout: %w", err)
		}
		if req.guest() {
			if err := recordGuestCheckout(ctx, tx, checkoutID, req.Email, GuestOrderToken(req.CartKey, checkoutID)); err != nil {
				return err
			}
		}
		var rows []lockedVariant
		if err := tx.SelectContext(ctx, &rows, `SELECT `+lockedVariantColumns+`
			FROM `+lockedVariantTables+`
			WHERE v.id = ANY($1) ORDER BY v.id FOR UPDATE OF v`, pq.Array(sorted), req.ShippingAddress.CountryCode, req.cartBuyer()); err != nil {
			return fmt.Errorf("lock variants: %w", err)
		}
		byID := map[int64]*lockedVariant{}
		for i := range rows {
			byID[rows[i].ID] = &rows[i]
		}
		r.problems = checkLines(req, byID, want)
		var shopIDs []int64
		for _, v := range rows {
			shopIDs = append(shopIDs, v.ShopID)
		}
		terms, err := checkoutDiscounts(ctx, tx, req, shopIDs)
		if err != nil {
			return err
		}
		costs, problems, err := priceCheckout(req, byID, terms)
		if err != nil {
			return err
		}
		r.problems = append(r.problems, problems...)
		sources, problems, err := lineSources(ctx, tx, req, byID)
		if err != nil {
			return err
		}
		r.problems = append(r.problems, problems...).firstPerField()
		if len(r.problems) == 0 && !oneCurrency(rows[0].CurrencyCode, byID) {
			r.problems = Problems{errMixedCurrencies()}
		}
		if len(r.problems) == 0 {
			r.problems, err = claimableCart(ctx, tx, req)
			if err != nil {
				return err
			}
		}
		if len(r.problems) > 0 {
			return errRollback
		}
		qty := make([]int64, len(sorted))
		for i, id := range sorted {
			qty[i] = int64(want[id])
		}
		if _, err := tx.ExecContext(ctx, `UPDATE product_variants v SET stock = v.stock - x.q
			FROM unnest($1::bigint[], $2::int[]) AS x(id, q) WHERE v.id = x.id`, pq.Array(sorted), pq.Array(qty)); err != nil {
			return fmt.Errorf("take stock: %w", err)
		}
		currency := rows[0].CurrencyCode
		orders := planOrders(req, byID, sources, costs)
		a := paymentAttempt{CheckoutID: checkoutID, ProviderKey: pkey, Amount: orders.total, Currency: currency, plan: &orders, bare: req.bare()}
		args := append(append(orders.args(req, checkoutID, currency), a.args(provider, db.PaymentSettings, req)...), orders.costArgs()...)
		var written int
		if err := tx.GetContext(ctx, &written, writeCarefulSQL, args...); err != nil {
			return fmt.Errorf("write orders: %w", err)
		}
		if written != len(orders.shopIDs) {
			return fmt.Errorf("write orders: wrote %d of %d", written, len(orders.shopIDs))
		}
		if err := redeemDiscounts(ctx, tx, checkoutID, req.buyerKey(), costs.discounts); err != nil {
			return err
		}
		r.reserved, r.attempt = true, a
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return r, err
}

// claimableCart checks that the cart lines a checkout buys are still in the
// cart and not being bought by another checkout, and locks them.
func claimableCart(ctx context.Context, tx *sqlx.Tx, req CheckoutRequest) (Problems, error) {
	ids := cartLineIDs(req)
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []struct {
		ID         int64         `db:"id"`
		CheckoutID sql.NullInt64 `db:"checkout_id"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT id, checkout_id FROM cart_lines WHERE buyer_id = $1 AND id = ANY($2)
		ORDER BY id FOR UPDATE`, req.BuyerID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("lock cart: %w", err)
	}
	for _, r := range rows {
		if r.CheckoutID.Valid {
			return Problems{FieldErrorf(EConflict, "cartId", "this cart is being checked out in another request; wait for it to finish").Because(ReasonCartInCheckout)}, nil
		}
	}
	if len(rows) != len(ids) {
		return Problems{FieldErrorf(EConflict, "cartId", "the cart changed while checking out; review it and check out again").Because(ReasonCartInCheckout)}, nil
	}
	return nil, nil
}

// bare reports whether the request buys no cart line and enters no
// discount code: its checkout then has no cart line claimed and no code
// redeemed to clear when it is paid (paymentAttempt.bare).
func (req CheckoutRequest) bare() bool {
	return len(cartLineIDs(req)) == 0 && len(req.DiscountCodes) == 0
}

// cartLineIDs lists the cart lines a request buys (never nil).
func cartLineIDs(req CheckoutRequest) []int64 {
	ids := []int64{}
	for _, l := range req.Lines {
		if l.CartLineID != nil {
			ids = append(ids, *l.CartLineID)
		}
	}
	return ids
}

// args are the arguments $29 to $32 of the reservation statements, after
// pendingOrders.args: the provider, the provider key, the lease, and the
// cart lines to claim.
func (a paymentAttempt) args(provider string, s PaymentSettings, req CheckoutRequest) []any {
	return []any{provider, a.ProviderKey, fmt.Sprintf("%d milliseconds", s.lease().Milliseconds()), pq.Array(cartLineIDs(req))}
}

// checkLines finds unknown, unavailable, repriced and short-stocked lines.
// A request that carries the total the buyer saw (ExpectedTotal) is held to
// that total instead of to each cart line's price when added
// (priceCheckout).
func checkLines(req CheckoutRequest, byID map[int64]*lockedVariant, want map[int64]int) Problems {
	var p Problems
	for i, l := range req.Lines {
		field := fmt.Sprintf("lines.%d", i)
		v := byID[l.VariantID]
		switch {
		case v == nil:
			p = append(p, FieldErrorf(ENotFound, field+".variantId", "variant not found"))
		case v.ProductStatus != ProductActive:
			// Not named: a product set back to DRAFT may carry a title its
			// shop has not published (auth.CanSeeProduct).
			p = append(p, FieldErrorf(EInvalid, field+".variantId", "this item is no longer sold").Because(ReasonNotAvailable))
		case req.ExpectedTotal == nil && l.SeenPriceAmount != nil && *l.SeenPriceAmount != v.PriceAmount:
			p = append(p, FieldErrorf(EInvalid, field+".variantId", "the price of %s changed to %s", v.Title,
				Money{Minor: v.PriceAmount, CurrencyCode: v.CurrencyCode}.Amount()).Because(ReasonPriceChanged))
		case v.Stock < want[l.VariantID]:
			p = append(p, FieldErrorf(EInvalid, field+".quantity", "only %d of %s (%s) left", v.Stock, v.Title, v.VariantTitle).Because(ReasonInsufficientStock))
		}
	}
	return p
}

// lineSource is the content a line is bought from, as the database has it.
type lineSource struct {
	ContentID int64
	// AuthorID is who made the content.
	AuthorID int64
}

// lineSources finds, for each line bought from a content, that content's
// author, checking that the content exists and that the line's product is a
// card on it (PRODUCT_NOT_ON_CONTENT otherwise). It returns the sources by
// line index.
func lineSources(ctx context.Context, q sqlx.QueryerContext, req CheckoutRequest, byID map[int64]*lockedVariant) (map[int]lineSource, Problems, error) {
	var contents, products []int64
	var lineIdx []int
	for i, l := range req.Lines {
		src := l.SourceContentID
		if src == nil {
			src = req.SourceContentID
		}
		if src == nil || byID[l.VariantID] == nil {
			continue
		}
		contents, products, lineIdx = append(contents, *src), append(products, byID[l.VariantID].ProductID), append(lineIdx, i)
	}
	if len(contents) == 0 {
		return nil, nil, nil
	}
	var rows []struct {
		N        int           `db:"n"`
		AuthorID sql.NullInt64 `db:"author_id"`
		OnIt     bool          `db:"on_content"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT x.n, c.author_id,
			EXISTS (SELECT 1 FROM content_products cp WHERE cp.content_id = x.content_id AND cp.product_id = x.product_id) AS on_content
		FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS x(content_id, product_id, n)
		LEFT JOIN contents c ON c.id = x.content_id ORDER BY x.n`, pq.Array(contents), pq.Array(products)); err != nil {
		return nil, nil, fmt.Errorf("line sources: %w", err)
	}
	out := map[int]lineSource{}
	var p Problems
	for _, r := range rows {
		i := lineIdx[r.N-1]
		field := "sourceContentId"
		if req.Lines[i].SourceContentID != nil {
			field = fmt.Sprintf("lines.%d.sourceContentId", i)
		}
		switch {
		case !r.AuthorID.Valid:
			p = append(p, FieldErrorf(ENotFound, field, "content not found"))
		case !r.OnIt:
			// The input at fault: the line, or for a cart checkout (which
			// sends no lines) the request's source.
			onField := fmt.Sprintf("lines.%d.variantId", i)
			if req.FromCart && req.Lines[i].SourceContentID == nil {
				onField = "sourceContentId"
			}
			p = append(p, FieldErrorf(EInvalid, onField, "%s is not a product card on that content",
				byID[req.Lines[i].VariantID].Title).Because(ReasonNotOnContent))
		default:
			out[i] = lineSource{ContentID: contents[r.N-1], AuthorID: r.AuthorID.Int64}
		}
	}
	return out, p, nil
}

// stockRefused reports whether a reservation failed because a variant could
// not be taken as it was read: the stock column's CHECK (stock >= 0) refused
// the update, and with it the whole statement.
func stockRefused(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23514" && pqErr.Constraint == "product_variants_stock_check"
}

// The reservation's payment record and cart claim, for the checkout named
// by the "claim" CTE: $29 provider, $30 provider key, $31 lease, $32 cart
// lines. The process writing it holds the payment's lease.
const reservePaymentSQL = `, payment AS (
		INSERT INTO payments (checkout_id, provider, provider_key, status, amount, currency_code, lease_until, attempts)
		SELECT id, $29, $30, 'PENDING', $4, $5, now() + $31::interval, 1 FROM claim
		RETURNING id
	), cart AS (
		UPDATE cart_lines c SET checkout_id = claim.id FROM claim
		WHERE c.buyer_id = $1 AND c.id = ANY((SELECT cart_line_ids FROM arrays)::bigint[]) AND c.checkout_id IS NULL
		RETURNING c.id
	)`

// reserveCallSQL runs the short reservation (reserveOneSQL, or
// reserveManySQL for several variants, chosen by the length of $45) and its
// flush in one round trip: the procedure checkout_reserve (migration 0029)
// runs the statement, which commits without waiting for the disk
// (reserveCommitSQL), then commits a second transaction that locks nothing
// and waits, under the session's synchronous_commit, until the WAL up to it
// (and so the reservation) is flushed, as flushReservation does as a
// statement of its own. It answers o_checkout_id (NULL: the key was taken,
// nothing written), o_taken and o_mode ("flushed" once durable). The
// procedure's copies of the two statements are their text verbatim
// (TestCheckoutReserveProcedureRunsTheGoStatements).
const reserveCallSQL = `CALL checkout_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46)`

// reserveCommitSQL makes the short reservation's commit asynchronous
// (synchronous_commit off for its own transaction only): the commit does
// not wait for the WAL flush, so the hot variant's row lock, which is held
// until the commit, is let go as soon as the statement has run, not after a
// disk flush. The flush is done after the lock is let go and before the
// provider is called (flushReservation). A crash in between loses the
// reservation whole (nothing was charged for it, and every later commit,
// another buyer's reservation of the same row included, comes after it in
// the WAL, so none survives without it): the stock is never sold twice and
// an order is never kept without its reservation. The CTE is read by the
// statement's last SELECT, so it is evaluated, and answers the mode in force.
const reserveCommitSQL = `commit_mode AS MATERIALIZED (
		SELECT set_config('synchronous_commit', 'off', true) AS mode
	), `

// The short reservation claims the key ($1, $2), writes the orders, their
// lines and the payment record, claims the cart lines, and then takes for
// each variant the quantity and price its lines were written with. Without
// the claim nothing is written. A variant whose price (a campaign price
// included), campaign credit, currency or product status changed since it
// was read (a campaign that started or ended in between), or a cart line another checkout
// claimed, sets the stock to -1, and a variant short of stock would go below
// zero: either way the CHECK (stock >= 0) fails the statement, and
// everything is rolled back with it.
//
// The variant row is locked last, by the update, and held until the
// statement's commit; everything that does not need the lock is done before
// it: the inserts (the update takes the stock from the lines written), the
// payment record and the cart claim (both counted in "written", so they are
// run before the update rather than after it, as an unreferenced CTE would
// be), and the campaign offer of each variant ("offers", $45 the variants
// and $46 the list prices they were read at). The update then only checks
// that the list price is still the one the offer was found for: the offer
// is the same as campaign_offer of the locked row would be (same snapshot,
// same now()), without running that function while the row is locked, nor
// again in the recheck of a row another checkout updated meanwhile.
//
// Every array argument is read through a materialized CTE ($45 and $46
// through "read_prices", $32 through pendingOrdersSQL's "arrays"), for the
// reason given at pendingOrdersSQL: with an array's length in sight, the
// planner's estimate of a custom plan stays below the generic plan's, and
// PostgreSQL plans the statement afresh on every execution (0.75 ms of
// planning, more than the statement's 0.5 ms of execution; pinned by
// TestCheckoutReservationKeepsItsGenericPlan).
const (
	reserveHeadSQL = `WITH ` + reserveCommitSQL + `claim AS (
		INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status, amount, currency_code)
		VALUES ($1, $2, $3, 'PENDING', $4, $5)
		ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id
	), ` + pendingOrdersSQL + reservePaymentSQL + `, written AS MATERIALIZED (
		SELECT (SELECT count(*) FROM payment) AS payments,
			(SELECT count(*) FROM cart) = (SELECT cardinality(cart_line_ids) FROM arrays) AS cart_claimed
	), read_prices AS MATERIALIZED (
		SELECT $45::bigint[] AS ids, $46::bigint[] AS list_prices
	), offers AS MATERIALIZED (
		SELECT w.id, w.list_price, co.price_amount AS offer_price, co.campaign_id AS offer_campaign
		FROM read_prices r, unnest(r.ids, r.list_prices) AS w(id, list_price)
		LEFT JOIN LATERAL campaign_offer_rows(w.id, w.list_price, now()) co ON true
	), taken AS (
		UPDATE product_variants v SET stock = CASE
			WHEN v.price_amount = o.list_price AND coalesce(o.offer_price, o.list_price) = x.price
			     AND o.offer_campaign IS NOT DISTINCT FROM x.campaign AND v.currency_code = $5 AND p.status = 'ACTIVE'
			     AND w.payments = 1 AND w.cart_claimed THEN v.stock - x.q ELSE -1 END
		FROM products p, written w, offers o, `
	reserveTailSQL = `
		RETURNING v.id
	)
	SELECT (SELECT id FROM claim) AS checkout_id, (SELECT count(*) FROM taken) AS taken, (SELECT mode FROM commit_mode) AS commit_mode`

	// One variant: its lines in one row, which the planner knows is one,
	// so it finds the variant by its key rather than scanning a small table.
	reserveOneSQL = reserveHeadSQL + `(
			SELECT min(variant_id) AS id, sum(quantity) AS q, min(unit_price_amount) AS price, min(campaign_id) AS campaign FROM new_lines
		) x
		WHERE v.id = x.id AND o.id = x.id AND p.id = v.product_id` + reserveTailSQL

	// Several variants are locked in id order first, so that concurrent
	// checkouts of overlapping carts cannot deadlock.
	reserveManySQL = reserveHeadSQL + `(
			SELECT variant_id AS id, sum(quantity) AS q, min(unit_price_amount) AS price, min(campaign_id) AS campaign FROM new_lines GROUP BY variant_id
		) x, (
			SELECT l.id FROM product_variants l WHERE l.id IN (SELECT variant_id FROM new_lines) ORDER BY l.id FOR NO KEY UPDATE OF l
		) locked
		WHERE v.id = locked.id AND v.id = x.id AND o.id = x.id AND p.id = v.product_id` + reserveTailSQL

	// The careful path has claimed the key ($2 is the checkout's id) and
	// taken the stock under row locks; it writes the rest in one statement.
	writeCarefulSQL = `WITH claim AS (
		UPDATE checkouts SET amount = $4, currency_code = $5, updated_at = now()
		WHERE id = $2::bigint AND buyer_id = $1 AND request_hash = $3 RETURNING id
	), ` + pendingOrdersSQL + reservePaymentSQL + `
	SELECT count(*) FROM new_orders`
)

// lockedVariant is a variant with what checkout needs of its product and shop.
type lockedVariant struct {
	ID           int64  `db:"id"`
	ProductID    int64  `db:"product_id"`
	SKU          string `db:"sku"`
	VariantTitle string `db:"variant_title"`
	Title        string `db:"title"`
	// PriceAmount is the unit price now; CampaignID the campaign it is the
	// price of, when it is a campaign price (the line is credited to it).
	PriceAmount int64 `db:"price_amount"`
	// ListPriceAmount is the variant's own price, which the campaign price
	// (if any) was found for: the reservation takes the stock only while it
	// is still the variant's price (reserveHeadSQL).
	ListPriceAmount  int64         `db:"list_price_amount"`
	CampaignID       sql.NullInt64 `db:"campaign_id"`
	CurrencyCode     string        `db:"currency_code"`
	Stock            int           `db:"stock"`
	ProductStatus    string        `db:"product_status"`
	ShopID           int64         `db:"shop_id"`
	ShopOwnerID      int64         `db:"owner_id"`
	AffiliateRateBps int           `db:"affiliate_rate_bps"`
	// The shop's terms for the checkout's destination (shopTermsColumns).
	ShopName      string `db:"shop_name"`
	TaxesIncluded bool   `db:"taxes_included"`
	ShipsLimited  bool   `db:"ships_limited"`
	TaxJSON       []byte `db:"tax_json"`
	ShippingJSON  []byte `db:"shipping_json"`
	// CartChoice is the delivery option the buyer selected on the cart for
	// the shop (0: none, or not a cart checkout).
	CartChoice int64 `db:"cart_choice"`
}

// terms are the variant's shop's terms for the checkout's destination.
func (v *lockedVariant) terms() shopTerms {
	return shopTerms{ShopID: v.ShopID, ShopName: v.ShopName, TaxesIncluded: v.TaxesIncluded, ShipsLimited: v.ShipsLimited,
		TaxJSON: v.TaxJSON, ShippingJSON: v.ShippingJSON}
}

// A lockedVariant's columns (its price is the unit price now: the campaign
// price while a campaign runs, campaign_offer; the same statement names the
// campaign, so price and credit are decided together), with the shop's terms for the destination
// country $2 and the delivery option buyer $3 selected on their cart (0 for
// no cart), and the tables they come from (variant v, product p, shop s).
//
// The offer is looked up in the select list, not as a LATERAL function in
// FROM: when the careful path's FOR UPDATE finds the variant updated since
// its snapshot, PostgreSQL re-evaluates the select list for the row version
// it locked, but keeps a FROM function's row as first computed (the offer
// for the old list price; TestCampaignPriceUnderConcurrentRepricing).
var lockedVariantColumns = checkoutVariantColumns(
	`coalesce((campaign_offer(v.id, v.price_amount, now())).price_amount, v.price_amount)`,
	`(campaign_offer(v.id, v.price_amount, now())).campaign_id`)

const lockedVariantTables = `product_variants v JOIN products p ON p.id = v.product_id JOIN shops s ON s.id = p.shop_id`

// readVariantColumns and readVariantTables are lockedVariantColumns and
// lockedVariantTables for a read that locks nothing (reserveFast's, the
// preview's): the same columns, with the campaign offer found by
// campaign_offer_rows in FROM, which the planner inlines into the statement
// (an index lookup). Each campaign_offer call in a select list runs an
// executor of its own, its SQL parsed and planned afresh on every execution
// of the statement (two calls: about 0.3 ms of PostgreSQL's CPU a read).
// Only a read that locks the variants needs the select-list form.
var readVariantColumns = checkoutVariantColumns(`coalesce(co.price_amount, v.price_amount)`, `co.campaign_id`)

const readVariantTables = lockedVariantTables + ` LEFT JOIN LATERAL campaign_offer_rows(v.id, v.price_amount, now()) co ON true`

// readVariantsSQL is reserveFast's read of the variants $1 (with the shop's
// terms for country $2 and the delivery option buyer $3 chose on their
// cart). The ids are behind a materialized CTE for the reason given at
// pendingOrdersSQL: the generic plan is kept.
var readVariantsSQL = `WITH wanted AS MATERIALIZED (SELECT $1::bigint[] AS ids)
	SELECT ` + readVariantColumns + ` FROM wanted, ` + readVariantTables + `
	WHERE v.id = ANY(wanted.ids)`

// checkoutVariantColumns are a lockedVariant's columns with price and campaign, the
// expressions of its unit price and its campaign.
func checkoutVariantColumns(price, campaign string) string {
	return `v.id, v.product_id, v.sku, v.title AS variant_title, p.title,
		` + price + ` AS price_amount, v.price_amount AS list_price_amount,
		` + campaign + ` AS campaign_id, v.currency_code, v.stock, p.status AS product_status, p.shop_id, s.owner_id, s.affiliate_rate_bps,
		coalesce((SELECT d.shipping_rate_id FROM cart_delivery_options d WHERE d.buyer_id = $3 AND d.shop_id = s.id), 0) AS cart_choice,
		` + shopTermsColumns(`$2::char(2)`)
}

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
