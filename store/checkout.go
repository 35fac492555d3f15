package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"showcase/store/payment"
)

// Limits of one checkout.
const (
	MaxCheckoutLines = 50
	MaxLineQuantity  = 99
)

// Reasons a checkout is refused.
const (
	ReasonInsufficientStock  = "INSUFFICIENT_STOCK"
	ReasonNotAvailable       = "NOT_AVAILABLE"
	ReasonPriceChanged       = "PRICE_CHANGED"
	ReasonPaymentDeclined    = "PAYMENT_DECLINED"
	ReasonPaymentUnavailable = "PAYMENT_UNAVAILABLE"
	ReasonKeyReused          = "IDEMPOTENCY_KEY_REUSED"
	ReasonInProgress         = "CHECKOUT_IN_PROGRESS"
)

// CheckoutLine asks for a quantity of a variant.
type CheckoutLine struct {
	VariantID int64 `json:"v"`
	Quantity  int   `json:"q"`
	// SourceContentID is the content a cart line was added from.
	SourceContentID *int64 `json:"s,omitempty"`
	// SeenPriceAmount is the unit price the buyer saw (cart lines); a
	// different current price refuses the checkout instead of charging it.
	SeenPriceAmount *int64 `json:"p,omitempty"`
}

// CheckoutRequest is a buyer's purchase. Prices come from the database only.
type CheckoutRequest struct {
	BuyerID         int64          `json:"-"`
	IdempotencyKey  string         `json:"-"`
	Lines           []CheckoutLine `json:"lines"`
	SourceContentID *int64         `json:"source,omitempty"`
	ShippingAddress Address        `json:"address"`
	PaymentToken    string         `json:"token"`
	// FromCart empties the bought lines from the buyer's cart on success.
	FromCart bool `json:"cart"`
	// Campaign is the platform campaign the buyer came through, if any.
	Campaign string `json:"campaign,omitempty"`
}

// CheckoutResult is the orders made, or why none were.
type CheckoutResult struct {
	Orders   []*Order
	Problems Problems
	// Replayed is set when the answer repeats an earlier request's.
	Replayed bool
}

// Validate checks the request's shape before anything is locked.
func (r CheckoutRequest) Validate() Problems {
	var p Problems
	if n := len(r.IdempotencyKey); n == 0 || n > 200 {
		p.add("idempotencyKey", ReasonRequired, "idempotencyKey must be 1 to 200 characters")
	}
	if len(r.Lines) == 0 || len(r.Lines) > MaxCheckoutLines {
		p.add("lines", "", "a checkout has 1 to %d lines", MaxCheckoutLines)
	}
	for i, l := range r.Lines {
		if l.Quantity < 1 || l.Quantity > MaxLineQuantity {
			p.add(fmt.Sprintf("lines.%d.quantity", i), "", "quantity must be 1 to %d", MaxLineQuantity)
		}
	}
	a := r.ShippingAddress
	p.text("shippingAddress.name", a.Name, true, 100)
	p.text("shippingAddress.line1", a.Line1, true, 200)
	p.text("shippingAddress.line2", a.Line2, false, 200)
	p.text("shippingAddress.city", a.City, true, 100)
	p.text("shippingAddress.region", a.Region, false, 100)
	p.text("shippingAddress.postalCode", a.PostalCode, true, 20)
	p.text("shippingAddress.phone", a.Phone, false, 30)
	if !countryPattern.MatchString(a.CountryCode) {
		p.add("shippingAddress.countryCode", "", "countryCode must be two capital letters, e.g. US")
	}
	p.text("payment.token", r.PaymentToken, true, 200)
	if r.Campaign != "" && !tagPattern.MatchString(r.Campaign) {
		p.add("campaign", "", "campaign must be 1 to 40 lowercase letters, digits, - or _")
	}
	return p
}

func (r CheckoutRequest) hash() string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Checkout buys the request's lines: one order per shop, stock reserved and
// prices read under row locks in one transaction, the payment taken with no
// lock held, then the orders marked paid. The same idempotency key always
// gets the same answer and at most one charge.
func (db *DB) Checkout(ctx context.Context, pay payment.Provider, req CheckoutRequest) (CheckoutResult, error) {
	if p := req.Validate(); len(p) > 0 {
		return CheckoutResult{Problems: p}, nil
	}
	checkoutID, amount, currency, reserved, err := db.reserveFast(ctx, req)
	if err != nil {
		return CheckoutResult{}, err
	}
	if !reserved {
		// The careful path: the key may be taken, or the request may have
		// problems to explain, or the stock moved under the fast path.
		var replay *CheckoutResult
		checkoutID, replay, err = db.claimCheckout(ctx, req.BuyerID, req.IdempotencyKey, req.hash())
		if err != nil || replay != nil {
			if replay == nil {
				replay = &CheckoutResult{}
			}
			replay.Replayed = true
			return *replay, err
		}
	}
	// From here on the work must finish even if the client goes away.
	ctx = context.WithoutCancel(ctx)
	if !reserved {
		var problems Problems
		amount, currency, problems, err = db.reserve(ctx, checkoutID, req)
		if err != nil || len(problems) > 0 {
			if _, relErr := db.ExecContext(ctx, `DELETE FROM checkouts WHERE id = $1 AND status = 'PENDING'`, checkoutID); relErr != nil && err == nil {
				err = relErr
			}
			return CheckoutResult{Problems: problems}, err
		}
	}
	// A provider that panics must not leave the stock reserved.
	defer func() {
		if p := recover(); p != nil {
			_ = db.abandonCheckout(ctx, checkoutID, nil)
			panic(p)
		}
	}()
	ref, payErr := pay.Charge(ctx, payment.Charge{
		IdempotencyKey: fmt.Sprintf("checkout-%d", checkoutID), Token: req.PaymentToken, Amount: amount, CurrencyCode: currency,
	})
	switch {
	case payErr == nil:
		orders, err := db.completeCheckout(ctx, checkoutID, ref, amount, currency, req)
		return CheckoutResult{Orders: orders}, err
	case errors.Is(payErr, payment.ErrDeclined):
		decline := FieldErrorf(EInvalid, "payment.token", "the payment was declined").Because(ReasonPaymentDeclined)
		return CheckoutResult{Problems: Problems{decline}}, db.abandonCheckout(ctx, checkoutID, decline)
	default:
		unavailable := FieldErrorf(EInvalid, "payment.token", "the payment could not be taken; retry with the same idempotencyKey").Because(ReasonPaymentUnavailable)
		return CheckoutResult{Problems: Problems{unavailable}}, db.abandonCheckout(ctx, checkoutID, nil)
	}
}

// claimWait bounds how long a retry waits for the first request with its key.
const (
	claimWait      = 20 * time.Second
	claimPoll      = 20 * time.Millisecond
	staleCheckouts = 2 * time.Minute
)

// claimCheckout records the idempotency key. A key already used returns the
// earlier answer (waiting while that request is still running); a key used
// with a different request is refused.
func (db *DB) claimCheckout(ctx context.Context, buyerID int64, key, hash string) (int64, *CheckoutResult, error) {
	deadline := time.Now().Add(claimWait)
	for {
		var id int64
		err := db.GetContext(ctx, &id, `INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status)
			VALUES ($1, $2, $3, 'PENDING') ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id`, buyerID, key, hash)
		if err == nil {
			return id, nil, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, nil, fmt.Errorf("claim checkout: %w", err)
		}
		var prior struct {
			ID      int64          `db:"id"`
			Hash    string         `db:"request_hash"`
			Status  string         `db:"status"`
			Message sql.NullString `db:"decline_message"`
			Code    sql.NullString `db:"decline_code"`
			Stale   bool           `db:"stale"`
		}
		err = db.GetContext(ctx, &prior, `SELECT id, request_hash, status, decline_message, decline_code,
				updated_at < now() - $3::interval AS stale
			FROM checkouts WHERE buyer_id = $1 AND idempotency_key = $2`, buyerID, key, fmt.Sprintf("%d seconds", int(staleCheckouts.Seconds())))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue // the earlier attempt failed retryably and let go of the key
		case err != nil:
			return 0, nil, fmt.Errorf("read checkout: %w", err)
		case prior.Hash != hash:
			return 0, &CheckoutResult{Problems: Problems{FieldErrorf(EInvalid, "idempotencyKey",
				"this idempotencyKey was used for a different checkout").Because(ReasonKeyReused)}}, nil
		case prior.Status == "PAID":
			orders, err := db.checkoutOrders(ctx, prior.ID)
			return 0, &CheckoutResult{Orders: orders}, err
		case prior.Status == "DECLINED":
			return 0, &CheckoutResult{Problems: Problems{FieldErrorf(EInvalid, "payment.token", "%s", prior.Message.String).Because(prior.Code.String)}}, nil
		case prior.Stale:
			// Its process died between reserving and paying: release the stock.
			if err := db.abandonCheckout(ctx, prior.ID, nil); err != nil {
				return 0, nil, err
			}
			continue
		}
		if time.Now().After(deadline) {
			return 0, &CheckoutResult{Problems: Problems{FieldErrorf(EConflict, "idempotencyKey",
				"a checkout with this idempotencyKey is still in progress").Because(ReasonInProgress)}}, nil
		}
		select {
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-time.After(claimPoll):
		}
	}
}

// lockedVariant is a variant with what checkout needs of its product and shop.
type lockedVariant struct {
	ID               int64  `db:"id"`
	ProductID        int64  `db:"product_id"`
	SKU              string `db:"sku"`
	VariantTitle     string `db:"variant_title"`
	Title            string `db:"title"`
	PriceAmount      int64  `db:"price_amount"`
	CurrencyCode     string `db:"currency_code"`
	Stock            int    `db:"stock"`
	ProductStatus    string `db:"product_status"`
	ShopID           int64  `db:"shop_id"`
	ShopOwnerID      int64  `db:"owner_id"`
	AffiliateRateBps int    `db:"affiliate_rate_bps"`
}

// A lockedVariant's columns, and the tables they come from (variant v,
// product p, shop s).
const (
	lockedVariantColumns = `v.id, v.product_id, v.sku, v.title AS variant_title, p.title,
		v.price_amount, v.currency_code, v.stock, p.status AS product_status, p.shop_id, s.owner_id, s.affiliate_rate_bps`
	lockedVariantTables = `product_variants v JOIN products p ON p.id = v.product_id JOIN shops s ON s.id = p.shop_id`
)

// reserve takes the stock and writes PENDING orders in one transaction,
// locking the variants in id order so concurrent checkouts cannot deadlock.
func (db *DB) reserve(ctx context.Context, checkoutID int64, req CheckoutRequest) (amount int64, currency string, problems Problems, err error) {
	want, sorted := wantedVariants(req.Lines)
	err = db.inTxRetry(ctx, func(tx *sqlx.Tx) error {
		problems, currency, amount = nil, "", 0
		var rows []lockedVariant
		if err := tx.SelectContext(ctx, &rows, `SELECT `+lockedVariantColumns+`
			FROM `+lockedVariantTables+`
			WHERE v.id = ANY($1) ORDER BY v.id FOR UPDATE OF v`, pq.Array(sorted)); err != nil {
			return fmt.Errorf("lock variants: %w", err)
		}
		byID := map[int64]*lockedVariant{}
		for i := range rows {
			byID[rows[i].ID] = &rows[i]
		}
		problems = checkLines(req.Lines, byID, want)
		var creatorID *int64
		if req.SourceContentID != nil {
			var authorID int64
			err := tx.GetContext(ctx, &authorID, `SELECT author_id FROM contents WHERE id = $1`, *req.SourceContentID)
			if errors.Is(err, sql.ErrNoRows) {
				problems = append(problems, FieldErrorf(ENotFound, "sourceContentId", "content not found"))
			} else if err != nil {
				return err
			}
			creatorID = &authorID
		}
		if len(problems) > 0 {
			return nil
		}
		for _, v := range rows {
			if currency == "" {
				currency = v.CurrencyCode
			} else if v.CurrencyCode != currency {
				problems = append(problems, FieldErrorf(EInvalid, "lines", "one checkout pays in one currency; buy from %s and %s shops separately", currency, v.CurrencyCode).Because(ReasonCurrencyMismatch))
				return nil
			}
		}
		qty := make([]int64, len(sorted))
		for i, id := range sorted {
			qty[i] = int64(want[id])
		}
		if _, err := tx.ExecContext(ctx, `UPDATE product_variants v SET stock = v.stock - x.q
			FROM unnest($1::bigint[], $2::int[]) AS x(id, q) WHERE v.id = x.id`, pq.Array(sorted), pq.Array(qty)); err != nil {
			return fmt.Errorf("take stock: %w", err)
		}
		authors, err := contentAuthors(ctx, tx, req, creatorID)
		if err != nil {
			return err
		}
		orders := planOrders(req, byID, authors)
		amount = orders.total
		return writePendingOrders(ctx, tx, checkoutID, req, currency, orders)
	})
	return amount, currency, problems, err
}

// checkLines finds unknown, unavailable, repriced and short-stocked lines.
func checkLines(lines []CheckoutLine, byID map[int64]*lockedVariant, want map[int64]int) Problems {
	var p Problems
	for i, l := range lines {
		field := fmt.Sprintf("lines.%d", i)
		v := byID[l.VariantID]
		switch {
		case v == nil:
			p = append(p, FieldErrorf(ENotFound, field+".variantId", "variant not found"))
		case v.ProductStatus != ProductActive:
			// Not named: a product set back to DRAFT may carry a title its
			// shop has not published (auth.CanSeeProduct).
			p = append(p, FieldErrorf(EInvalid, field+".variantId", "this item is no longer sold").Because(ReasonNotAvailable))
		case l.SeenPriceAmount != nil && *l.SeenPriceAmount != v.PriceAmount:
			p = append(p, FieldErrorf(EInvalid, field+".variantId", "the price of %s changed to %s", v.Title,
				Money{Minor: v.PriceAmount, CurrencyCode: v.CurrencyCode}.Amount()).Because(ReasonPriceChanged))
		case v.Stock < want[l.VariantID]:
			p = append(p, FieldErrorf(EInvalid, field+".quantity", "only %d of %s (%s) left", v.Stock, v.Title, v.VariantTitle).Because(ReasonInsufficientStock))
		}
	}
	return p
}

// completeCheckout marks the reserved orders paid, records the payment and
// empties the bought lines from a cart, in one statement, and returns the
// orders. Run again after it took effect (a retry), it changes nothing and
// the orders are read back.
func (db *DB) completeCheckout(ctx context.Context, checkoutID int64, ref string, amount int64, currency string, req CheckoutRequest) ([]*Order, error) {
	var variants []int64
	if req.FromCart {
		for _, l := range req.Lines {
			variants = append(variants, l.VariantID)
		}
	}
	var orders []*Order
	err := db.retry(ctx, func() error {
		orders = nil
		return db.SelectContext(ctx, &orders, `WITH paid AS (
				UPDATE orders SET status = 'PAID', paid_at = now() WHERE checkout_id = $1 AND status = 'PENDING' RETURNING *
			), payment AS (
				INSERT INTO payments (checkout_id, provider_ref, amount, currency_code)
				VALUES ($1, $2, $3, $4) ON CONFLICT (provider_ref) DO NOTHING
			), checkout AS (
				UPDATE checkouts SET status = 'PAID', payment_ref = $2, updated_at = now() WHERE id = $1
			), cart AS (
				DELETE FROM cart_lines WHERE buyer_id = $5 AND variant_id = ANY($6)
			)
			SELECT `+orderColumns+` FROM paid o ORDER BY o.id`, checkoutID, ref, amount, currency, req.BuyerID, pq.Array(variants))
	})
	if err != nil {
		return nil, fmt.Errorf("complete checkout: %w", err)
	}
	if len(orders) == 0 {
		return db.checkoutOrders(ctx, checkoutID)
	}
	return orders, nil
}

// abandonCheckout gives back the stock of a checkout whose payment failed.
// A decline is remembered, so retries get the same answer; a transient
// failure lets go of the key, so a retry tries again.
func (db *DB) abandonCheckout(ctx context.Context, checkoutID int64, decline *Error) error {
	return db.inTxRetry(ctx, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM checkouts WHERE id = $1 FOR UPDATE`, checkoutID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			return err
		}
		if status != "PENDING" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE product_variants v SET stock = v.stock + x.q
			FROM (SELECT l.variant_id, sum(l.quantity) AS q FROM order_lines l JOIN orders o ON o.id = l.order_id
			      WHERE o.checkout_id = $1 AND o.status = 'PENDING' GROUP BY l.variant_id) x
			WHERE v.id = x.variant_id`, checkoutID); err != nil {
			return fmt.Errorf("restock: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM orders WHERE checkout_id = $1 AND status = 'PENDING'`, checkoutID); err != nil {
			return fmt.Errorf("drop pending orders: %w", err)
		}
		if decline == nil {
			_, err := tx.ExecContext(ctx, `DELETE FROM checkouts WHERE id = $1`, checkoutID)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE checkouts SET status = 'DECLINED', decline_code = $2, decline_message = $3,
			updated_at = now() WHERE id = $1`, checkoutID, decline.Reason, decline.Message)
		return err
	})
}

// checkoutOrders loads a paid checkout's orders in creation order.
func (db *DB) checkoutOrders(ctx context.Context, checkoutID int64) ([]*Order, error) {
	var orders []*Order
	if err := db.SelectContext(ctx, &orders, `SELECT `+orderColumns+` FROM orders o
		WHERE o.checkout_id = $1 AND o.status <> 'PENDING' ORDER BY o.id`, checkoutID); err != nil {
		return nil, fmt.Errorf("checkout orders: %w", err)
	}
	return orders, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
