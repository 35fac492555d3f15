package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"showcase/store/payment"
)

// completeCommitSQL is completeCheckout's "commit_mode" CTE: the
// completion commits without waiting for the disk (synchronous_commit off
// for its own transaction), unless it wrote an ORDER_PAID webhook event.
// What it records can always be made again: the reservation (the orders,
// their ids, the payment record) was made durable before the provider was
// called (flushReservation), and the provider holds the charge under the
// checkout's provider key. A completion lost to a PostgreSQL crash leaves
// the payment PENDING, and the buyer's retry with the same key, or the
// reconciler, completes the same orders with the same reference (never a
// second charge). Any later commit that depends on it (a cancellation, a
// refund, the next checkout's reservation) flushes it with itself, the WAL
// being written in order. An event is different: a webhook delivered for a
// completion that was then lost would be sent again under another id, so a
// completion that writes one commits durably, as before.
const completeCommitSQL = `commit_mode AS MATERIALIZED (
		SELECT CASE WHEN EXISTS (SELECT 1 FROM paid_ev) THEN current_setting('synchronous_commit')
			ELSE set_config('synchronous_commit', 'off', true) END AS mode
	)`

// completeSQL is completeCheckout's statement for checkout $1 and the
// provider's reference $2: the orders paid, the payment captured, the
// checkout PAID, the cart lines it claimed removed (found by the partial
// index cart_lines_checkout_idx, not by a scan of every cart), the cart's
// discount codes it used removed, an ORDER_PAID event per order for the
// apps that subscribe, and the commit mode (completeCommitSQL). It answers
// the orders it marked paid. completeBareSQL is completeStatement(true).
var completeSQL, completeBareSQL = completeStatement(false), completeStatement(true)

// completeStatement is completeSQL, or with bare its form for a checkout
// known to have claimed no cart line and redeemed no discount code (a "Buy
// now" checkout whose reservation this process wrote: paymentAttempt.bare),
// which leaves out the two deletes that could find nothing: fewer plan
// nodes to start and run on every checkout.
func completeStatement(bare bool) string {
	cart := `, cart AS (
				DELETE FROM cart_lines WHERE checkout_id = $1
			), used_codes AS (
				-- The codes this checkout used leave the cart with the lines
				-- they discounted (a code entered since stays).
				DELETE FROM cart_discount_codes cd USING checkouts c, discount_redemptions r, discount_codes dc
				WHERE c.id = $1 AND cd.buyer_id = c.buyer_id AND r.checkout_id = $1 AND dc.id = r.code_id
				  AND lower(cd.code) = lower(dc.code) AND EXISTS (SELECT 1 FROM paid)
			)`
	if bare {
		cart = ``
	}
	return `WITH paid AS (
				UPDATE orders SET status = 'PAID', paid_at = now() WHERE checkout_id = $1 AND status = 'PENDING' RETURNING *
			), payment AS (
				UPDATE payments SET status = 'CAPTURED', provider_ref = $2, lease_until = NULL, updated_at = now()
				WHERE checkout_id = $1 AND status = 'PENDING' RETURNING id
			), checkout AS (
				UPDATE checkouts SET status = 'PAID', payment_ref = $2, updated_at = now() WHERE id = $1 AND status = 'PENDING'
			)` + cart + `, paid_src AS (
				SELECT o.shop_id, ` + orderEventPayload + ` AS payload FROM paid o
			)` + eventCTEs("paid", TopicOrderPaid, "paid_src") + `, ` + completeCommitSQL + `
			SELECT ` + orderColumns + ` FROM paid o, commit_mode ORDER BY o.id`
}

// completeCheckout marks a charged checkout's orders paid, records the
// provider's reference on its payment, and removes the cart lines it
// bought and the cart's discount codes it used, in one statement that does
// not wait for the disk (completeCommitSQL), and returns the orders and their lines. If the
// checkout was completed already (by a retry or the reconciler), it reads
// them back. A reference that another payment already holds is an error,
// never a silent drop.
//
// The database may be briefly gone right after the provider charged (a
// restart): the statement is retried for up to the provider timeout before
// the error is returned; the payment then stays PENDING and is completed by
// the buyer's retry (the provider answers the same key with the same
// payment) or by the reconciler.
func (db *DB) completeCheckout(ctx context.Context, pay payment.Provider, a paymentAttempt, ref string) (CheckoutResult, error) {
	var orders []*Order
	err := db.retryFor(ctx, db.PaymentSettings.timeout(), func() error {
		orders = nil
		query := completeSQL
		if a.bare {
			query = completeBareSQL
		}
		return db.SelectContext(ctx, &orders, query, a.CheckoutID, ref)
	})
	if err != nil {
		return CheckoutResult{}, fmt.Errorf("complete checkout %d: %w", a.CheckoutID, err)
	}
	if len(orders) > 0 {
		if a.plan != nil {
			return CheckoutResult{Orders: orders, Lines: a.plan.lines(orders)}, nil
		}
		lines, err := db.OrderLinesByOrderIDs(ctx, orderIDs(orders))
		return CheckoutResult{Orders: orders, Lines: lines}, err
	}
	// Someone else settled it: it must be this payment, paid.
	var settled struct {
		Status string         `db:"status"`
		Ref    sql.NullString `db:"provider_ref"`
	}
	if err := db.GetContext(ctx, &settled, `SELECT status, provider_ref FROM payments WHERE checkout_id = $1`, a.CheckoutID); err != nil {
		return CheckoutResult{}, fmt.Errorf("read payment of checkout %d: %w", a.CheckoutID, err)
	}
	switch {
	case settled.Status == "CAPTURED" && settled.Ref.String == ref:
		orders, lines, err := db.checkoutOrders(ctx, a.CheckoutID)
		return CheckoutResult{Orders: orders, Lines: lines, Replayed: true}, err
	case settled.Status == "FAILED" && a.Amount == 0:
		return CheckoutResult{Problems: Problems{FieldErrorf(EInvalid, "idempotencyKey",
			"this checkout expired before it was placed; check out again with a new idempotencyKey").Because(ReasonCheckoutExpired)}}, nil
	case settled.Status == "FAILED":
		// The reservation was released while this charge was made: give
		// the money back rather than keep it for nothing.
		if err := pay.Refund(ctx, ref, a.Amount, a.ProviderKey+"-void"); err != nil {
			return CheckoutResult{}, fmt.Errorf("void charge %s of released checkout %d: %w", ref, a.CheckoutID, err)
		}
		return CheckoutResult{Problems: Problems{FieldErrorf(EInvalid, "idempotencyKey",
			"this checkout expired before it was paid and the charge was returned; check out again with a new idempotencyKey").Because(ReasonCheckoutExpired)}}, nil
	default:
		return CheckoutResult{}, fmt.Errorf("checkout %d: charged %s but its payment is %s %q", a.CheckoutID, ref, settled.Status, settled.Ref.String)
	}
}

// releaseCheckout ends a reserved checkout unpaid: its stock comes back,
// its pending orders go, its payment is FAILED, its cart lines are free
// again, and the checkout is DECLINED (with the decline remembered, so
// retries get the same answer) or EXPIRED. It does nothing to a checkout
// already settled.
func (db *DB) releaseCheckout(ctx context.Context, checkoutID int64, status string, decline *Error) error {
	var code, message *string
	if decline != nil {
		code, message = &decline.Reason, &decline.Message
	}
	// restocked gathers every attempt's products: an attempt whose commit
	// answer was lost may have committed (a retry then finds nothing to
	// release), and an extra forget costs nothing.
	var restocked []int64
	err := db.inTxRetry(ctx, func(tx *sqlx.Tx) error {
		var products []int64
		defer func() { restocked = append(restocked, products...) }()
		res, err := tx.ExecContext(ctx, `UPDATE payments SET status = 'FAILED', lease_until = NULL, updated_at = now()
			WHERE checkout_id = $1 AND status = 'PENDING'`, checkoutID)
		if err != nil {
			return fmt.Errorf("fail payment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if err := tx.SelectContext(ctx, &products, `UPDATE product_variants v SET stock = v.stock + x.q
			FROM (SELECT l.variant_id, sum(l.quantity) AS q FROM order_lines l JOIN orders o ON o.id = l.order_id
			      WHERE o.checkout_id = $1 AND o.status = 'PENDING' GROUP BY l.variant_id) x
			WHERE v.id = x.variant_id RETURNING v.product_id`, checkoutID); err != nil {
			return fmt.Errorf("restock: %w", err)
		}
		// A reservation released unpaid gives its discount codes' uses back.
		if _, err := tx.ExecContext(ctx, releaseDiscountsSQL, checkoutID); err != nil {
			return fmt.Errorf("release discount codes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM orders WHERE checkout_id = $1 AND status = 'PENDING'`, checkoutID); err != nil {
			return fmt.Errorf("drop pending orders: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cart_lines SET checkout_id = NULL WHERE checkout_id = $1`, checkoutID); err != nil {
			return fmt.Errorf("free cart lines: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE checkouts SET status = $2, decline_code = $3, decline_message = $4, updated_at = now()
			WHERE id = $1 AND status = 'PENDING'`, checkoutID, status, code, message)
		return err
	})
	db.stockChanged(restocked...)
	return err
}

// releaseLease lets go of a payment this process was working on without
// settling it; a retry with the same key may take it at once, and the
// reconciler after PaymentSettings.SettleAfter.
func (db *DB) releaseLease(ctx context.Context, checkoutID int64) error {
	return db.retry(ctx, func() error {
		_, err := db.ExecContext(ctx, `UPDATE payments SET lease_until = NULL, updated_at = now()
			WHERE checkout_id = $1 AND status = 'PENDING'`, checkoutID)
		return err
	})
}

// takeLease takes a pending payment whose lease is free or has run out, for
// this process to call the provider with; took is false when another
// process holds it or it is settled.
func (db *DB) takeLease(ctx context.Context, checkoutID int64) (a paymentAttempt, took bool, err error) {
	err = db.retry(ctx, func() error {
		return db.GetContext(ctx, &a, `UPDATE payments SET lease_until = now() + $2::interval, attempts = attempts + 1
			WHERE checkout_id = $1 AND status = 'PENDING' AND (lease_until IS NULL OR lease_until < now())
			RETURNING checkout_id, provider_key, amount, currency_code`,
			checkoutID, fmt.Sprintf("%d milliseconds", db.PaymentSettings.lease().Milliseconds()))
	})
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	return a, err == nil, err
}

var errNoCheckout = errors.New("no checkout with that key")

// priorCheckout is a checkout found by its buyer and idempotency key.
type priorCheckout struct {
	ID      int64          `db:"id"`
	Hash    string         `db:"request_hash"`
	Status  string         `db:"status"`
	Message sql.NullString `db:"decline_message"`
	Code    sql.NullString `db:"decline_code"`
}

func (db *DB) checkoutByKey(ctx context.Context, buyerID int64, key string) (priorCheckout, error) {
	var prior priorCheckout
	err := db.retry(ctx, func() error {
		return db.GetContext(ctx, &prior, `SELECT id, request_hash, status, decline_message, decline_code
			FROM checkouts WHERE buyer_id = $1 AND idempotency_key = $2`, buyerID, key)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return prior, errNoCheckout
	}
	if err != nil {
		return prior, fmt.Errorf("read checkout: %w", err)
	}
	return prior, nil
}

// checkoutOrders loads a paid checkout's orders in creation order, and
// their lines.
func (db *DB) checkoutOrders(ctx context.Context, checkoutID int64) ([]*Order, map[int64][]*OrderLine, error) {
	var orders []*Order
	if err := db.SelectContext(ctx, &orders, `SELECT `+orderColumns+` FROM orders o
		WHERE o.checkout_id = $1 AND o.status <> 'PENDING' ORDER BY o.id`, checkoutID); err != nil {
		return nil, nil, fmt.Errorf("checkout orders: %w", err)
	}
	lines, err := db.OrderLinesByOrderIDs(ctx, orderIDs(orders))
	return orders, lines, err
}

func orderIDs(orders []*Order) []int64 {
	ids := make([]int64, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	return ids
}

// retryFor is retry that keeps trying retryable failures for up to d, with
// a backoff of at most a second.
func (db *DB) retryFor(ctx context.Context, d time.Duration, fn func() error) error {
	deadline := time.Now().Add(d)
	wait := 25 * time.Millisecond
	for {
		err := fn()
		if err == nil || !retryable(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

func logPaymentError(ctx context.Context, what string, checkoutID int64, err error) {
	slog.WarnContext(ctx, "payment provider: outcome unknown", "call", what, "checkout", checkoutID, "err", err)
}

// Reconciled counts what one reconciler sweep settled.
type Reconciled struct {
	// Completed checkouts were charged: their orders are now paid.
	Completed int
	// Expired checkouts were never charged: their stock is back.
	Expired int
	// Refunded orders had a refund owed that the provider has now made.
	Refunded int
	// Unsettled payments or refunds are still unknown; they are tried again.
	Unsettled int
}

// reconcileBatch bounds the payments and refunds one sweep settles.
const reconcileBatch = 100

// reconcileLockID is the advisory lock that lets one replica sweep at a time.
const reconcileLockID = 7_311_540_002

// ReconcilePayments settles what the checkout path left unsettled: each
// pending payment whose lease ran out and whose last attempt is older than
// PaymentSettings.SettleAfter is looked up at the provider by its key;
// captured, its orders are completed; unknown to the provider (or failed),
// its reservation is released (EXPIRED). Refunds owed for cancelled orders
// are sent again. Any replica may call it: one sweeps at a time (an
// advisory lock; the others return at once), and each payment is taken by
// its lease.
func (db *DB) ReconcilePayments(ctx context.Context, pay payment.Provider) (Reconciled, error) {
	var out Reconciled
	conn, err := db.Conn(ctx)
	if err != nil {
		return out, err
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, reconcileLockID).Scan(&locked); err != nil || !locked {
		return out, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, reconcileLockID) //nolint:errcheck
	var due []int64
	if err := db.SelectContext(ctx, &due, `SELECT checkout_id FROM payments
		WHERE status = 'PENDING' AND (lease_until IS NULL OR lease_until < now()) AND updated_at < now() - $1::interval
		ORDER BY updated_at LIMIT $2`, fmt.Sprintf("%d milliseconds", db.PaymentSettings.settleAfter().Milliseconds()), reconcileBatch); err != nil {
		return out, fmt.Errorf("due payments: %w", err)
	}
	for _, id := range due {
		if err := db.settlePayment(ctx, pay, id, &out); err != nil {
			return out, err
		}
	}
	var refunds []int64
	if err := db.SelectContext(ctx, &refunds, `SELECT order_id FROM refunds
		WHERE status = 'PENDING' AND (lease_until IS NULL OR lease_until < now()) ORDER BY updated_at LIMIT $1`, reconcileBatch); err != nil {
		return out, fmt.Errorf("due refunds: %w", err)
	}
	for _, orderID := range refunds {
		done, err := db.sendRefund(ctx, pay, orderID)
		switch {
		case err != nil && IsUnavailable(err):
			return out, err
		case err != nil || !done:
			out.Unsettled++
		default:
			out.Refunded++
		}
	}
	return out, nil
}

// settlePayment asks the provider what became of one pending payment and
// settles it.
func (db *DB) settlePayment(ctx context.Context, pay payment.Provider, checkoutID int64, out *Reconciled) error {
	a, took, err := db.takeLease(ctx, checkoutID)
	if err != nil || !took {
		return err
	}
	if a.Amount == 0 {
		// Nothing to pay: no provider call was ever made for it.
		if _, err := db.completeCheckout(ctx, pay, a, freeRef(a)); err != nil {
			return err
		}
		out.Completed++
		return nil
	}
	callCtx, cancel := context.WithTimeout(ctx, db.PaymentSettings.timeout())
	p, err := pay.Lookup(callCtx, a.ProviderKey)
	cancel()
	switch {
	case err != nil:
		logPaymentError(ctx, "lookup", checkoutID, err)
		out.Unsettled++
		return db.releaseLease(ctx, checkoutID)
	case p.Status == payment.StatusCaptured && (p.Amount != a.Amount || !strings.EqualFold(p.CurrencyCode, a.Currency)):
		// Not this checkout's payment (the provider's key was used for
		// another): nothing was charged for this one.
		slog.ErrorContext(ctx, "reconciler: the provider's payment under this key is not this checkout's; releasing it",
			"checkout", checkoutID, "ref", p.Ref, "amount", p.Amount, "currency", p.CurrencyCode, "want_amount", a.Amount, "want_currency", a.Currency)
		if err := db.releaseCheckout(ctx, checkoutID, "EXPIRED", nil); err != nil {
			return err
		}
		out.Expired++
	case p.Status == payment.StatusCaptured:
		if _, err := db.completeCheckout(ctx, pay, a, p.Ref); err != nil {
			return err
		}
		out.Completed++
		slog.InfoContext(ctx, "reconciler completed a charged checkout", "checkout", checkoutID, "ref", p.Ref)
	case p.Status == payment.StatusNone || p.Status == payment.StatusFailed:
		if err := db.releaseCheckout(ctx, checkoutID, "EXPIRED", nil); err != nil {
			return err
		}
		out.Expired++
		slog.InfoContext(ctx, "reconciler released an unpaid reservation", "checkout", checkoutID)
	default:
		out.Unsettled++
		return db.releaseLease(ctx, checkoutID)
	}
	return nil
}

// DefaultReconcileInterval is how often RunPaymentReconciler sweeps.
const DefaultReconcileInterval = 10 * time.Second

// RunPaymentReconciler sweeps (ReconcilePayments) every interval until ctx
// ends. A pending payment is thus settled within SettleAfter + interval +
// the provider timeout of its last attempt.
func (db *DB) RunPaymentReconciler(ctx context.Context, pay payment.Provider, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultReconcileInterval
	}
	every(ctx, interval, func() {
		n, err := db.ReconcilePayments(ctx, pay)
		if err != nil && ctx.Err() == nil {
			slog.Warn("payment reconciler", "err", err)
		}
		if n != (Reconciled{}) {
			slog.Info("payment reconciler", "completed", n.Completed, "expired", n.Expired, "refunded", n.Refunded, "unsettled", n.Unsettled)
		}
	})
}

// sendRefund sends the refund owed for a cancelled order to the provider,
// if no other process is, and records it: the order becomes REFUNDED and
// the payment's refunded amount grows. done is false when another process
// holds it or the provider failed (it is tried again by the reconciler).
func (db *DB) sendRefund(ctx context.Context, pay payment.Provider, orderID int64) (done bool, err error) {
	var r struct {
		ID     int64  `db:"id"`
		Amount int64  `db:"amount"`
		Key    string `db:"provider_key"`
		Ref    string `db:"provider_ref"`
		Pay    int64  `db:"payment_id"`
	}
	err = db.retry(ctx, func() error {
		return db.GetContext(ctx, &r, `UPDATE refunds r SET lease_until = now() + $2::interval, attempts = r.attempts + 1
			FROM payments p WHERE r.order_id = $1 AND p.id = r.payment_id AND r.status = 'PENDING'
			  AND (r.lease_until IS NULL OR r.lease_until < now())
			RETURNING r.id, r.amount, r.provider_key, p.provider_ref, r.payment_id`,
			orderID, fmt.Sprintf("%d milliseconds", db.PaymentSettings.lease().Milliseconds()))
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take refund: %w", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, db.PaymentSettings.timeout())
	payErr := pay.Refund(callCtx, r.Ref, r.Amount, r.Key)
	cancel()
	if payErr != nil {
		slog.WarnContext(ctx, "refund failed; the reconciler retries it", "order", orderID, "err", payErr)
		_, err := db.ExecContext(ctx, `UPDATE refunds SET lease_until = NULL, updated_at = now() WHERE id = $1`, r.ID)
		return false, err
	}
	err = db.inTxRetry(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE refunds SET status = 'DONE', lease_until = NULL, updated_at = now()
			WHERE id = $1 AND status = 'PENDING'`, r.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payments SET refunded = refunded + $2, updated_at = now() WHERE id = $1`, r.Pay, r.Amount); err != nil {
			return err
		}
		// The order's ORDER_REFUNDED event is written with the change.
		return recordEvents(ctx, tx, TopicOrderRefunded, `UPDATE orders o SET status = 'REFUNDED'
			WHERE o.id = $1 AND o.status = 'CANCELLED' RETURNING o.shop_id, `+orderEventPayload+` AS payload`, orderID)
	})
	return err == nil, err
}

// oweRefund records, in the cancelling transaction, the refund owed for an
// order: its total, from the checkout's captured payment. An order whose
// payment is not recorded as captured is an error, never skipped. An order
// whose total is 0 (discount codes took it all) owes nothing: it becomes
// REFUNDED here, with its ORDER_REFUNDED event, and no provider is called.
func oweRefund(ctx context.Context, tx *sqlx.Tx, o *Order) error {
	if o.TotalAmount == 0 {
		return recordEvents(ctx, tx, TopicOrderRefunded, `UPDATE orders o SET status = 'REFUNDED'
			WHERE o.id = $1 AND o.status = 'CANCELLED' RETURNING o.shop_id, `+orderEventPayload+` AS payload`, o.ID)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO refunds (order_id, payment_id, amount, provider_key)
		SELECT $1::bigint, p.id, $3, 'refund-' || (SELECT id FROM installation) || '-order-' || $1::bigint::text FROM payments p
		WHERE p.checkout_id = $2 AND p.status = 'CAPTURED'`, o.ID, o.CheckoutID, o.TotalAmount)
	if err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23505" {
			return fmt.Errorf("order %d already has a refund: %w", o.ID, err)
		}
		return fmt.Errorf("owe refund: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("order %d: no captured payment recorded for checkout %d", o.ID, o.CheckoutID)
	}
	return nil
}
