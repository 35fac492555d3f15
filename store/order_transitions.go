package store

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"showcase/store/payment"
)

// OrderByID loads one visible order.
func (db *DB) OrderByID(ctx context.Context, id int64) (*Order, error) {
	return getOne[Order](ctx, db.DB, `SELECT `+orderColumns+` FROM orders o WHERE o.id = $1 AND o.status <> 'PENDING'`, "order", id)
}

// FulfillOrder ships a paid order.
func (db *DB) FulfillOrder(ctx context.Context, id int64, carrier, tracking string) (*Order, error) {
	var p Problems
	p.text("carrier", carrier, true, 100)
	p.text("trackingNumber", tracking, true, 100)
	if len(p) > 0 {
		return nil, p[0]
	}
	return db.transitionOrder(ctx, id, OrderPaid, TopicOrderFulfilled, `status = 'FULFILLED', fulfilled_at = now(), carrier = $2, tracking_number = $3`, carrier, tracking)
}

// MarkDelivered records that a shipped order arrived.
func (db *DB) MarkDelivered(ctx context.Context, id int64) (*Order, error) {
	return db.transitionOrder(ctx, id, OrderFulfilled, "", `status = 'DELIVERED', delivered_at = now()`)
}

// transitionOrder changes an order's status only from the expected one, so of
// two racing changes exactly one wins and the other gets INVALID_TRANSITION.
// A topic other than "" is the webhook event written in the same statement.
func (db *DB) transitionOrder(ctx context.Context, id int64, from, topic, set string, args ...any) (*Order, error) {
	events := ""
	if topic != "" {
		events = `, src AS (SELECT o.shop_id, ` + orderEventPayload + ` AS payload FROM o)` + eventCTEs("t", topic, "src")
	}
	o, err := getOne[Order](ctx, db.DB, `WITH o AS (UPDATE orders o SET `+set+` WHERE o.id = $1 AND o.status = '`+from+`'
		RETURNING *)`+events+` SELECT `+orderColumns+` FROM o`, "order", append([]any{id}, args...)...)
	if ErrorCode(err) == ENotFound {
		return nil, db.refusedTransition(ctx, id, from)
	}
	return o, err
}

func (db *DB) refusedTransition(ctx context.Context, id int64, from string) error {
	cur, err := db.OrderByID(ctx, id)
	if err != nil {
		return err
	}
	return Errorf(EConflict, "the order is %s; this needs it %s", cur.Status, from).Because(ReasonInvalidTransition)
}

// CancelOrder cancels a paid order: the stock comes back and the refund
// owed is recorded in the same transaction, exactly once however often
// cancel is sent, on whichever replica. The refund is then sent to the
// provider with no lock held; if that fails it stays owed and the
// reconciler sends it (the order stays CANCELLED until then, REFUNDED
// after).
func (db *DB) CancelOrder(ctx context.Context, pay payment.Provider, id int64) (*Order, error) {
	ctx = context.WithoutCancel(ctx)
	// restocked gathers every attempt's products: an attempt whose commit
	// answer was lost may have committed (a retry then finds the order
	// cancelled), and an extra forget costs nothing.
	var restocked []int64
	err := db.inTxRetry(ctx, func(tx *sqlx.Tx) error {
		var products []int64
		defer func() { restocked = append(restocked, products...) }()
		o, err := getOne[Order](ctx, tx, `UPDATE orders o SET status = 'CANCELLED', cancelled_at = now()
			WHERE o.id = $1 AND o.status = 'PAID' RETURNING `+orderColumns, "order", id)
		if err != nil {
			return err
		}
		if err := recordEvents(ctx, tx, TopicOrderCancelled, `SELECT o.shop_id, `+orderEventPayload+` AS payload
			FROM orders o WHERE o.id = $1`, id); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &products, `UPDATE product_variants v SET stock = v.stock + x.q
			FROM (SELECT variant_id, sum(quantity) AS q FROM order_lines WHERE order_id = $1 GROUP BY variant_id) x
			WHERE v.id = x.variant_id RETURNING v.product_id`, id); err != nil {
			return fmt.Errorf("restock: %w", err)
		}
		return oweRefund(ctx, tx, o)
	})
	db.stockChanged(restocked...)
	if ErrorCode(err) == ENotFound {
		return nil, db.refusedTransition(ctx, id, OrderPaid)
	}
	if err != nil {
		return nil, err
	}
	if _, err := db.sendRefund(ctx, pay, id); err != nil {
		slog.ErrorContext(ctx, "refund not recorded; the reconciler retries it", "order", id, "err", err)
	}
	return db.OrderByID(ctx, id)
}
