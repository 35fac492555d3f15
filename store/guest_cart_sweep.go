package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// guestCartSweepLockID lets one replica sweep guest carts at a time.
const guestCartSweepLockID = 7_311_540_020

// Defaults of the abandoned guest cart sweep.
const (
	// DefaultGuestCartRetention is how long a guest cart is kept after its
	// last change (GUEST_CART_RETENTION).
	DefaultGuestCartRetention = 30 * 24 * time.Hour
	// DefaultGuestCartSweepInterval is how often RunGuestCartSweeper sweeps
	// (GUEST_CART_SWEEP_INTERVAL).
	DefaultGuestCartSweepInterval = time.Hour
	// GuestCartSweepBatch bounds the carts one sweep removes; the next sweep
	// takes the next ones.
	GuestCartSweepBatch = 500
)

// GuestCartSweeper removes abandoned guest carts: carts not adopted by an
// account whose last change (the cart's creation, a line added, its
// destination set, a checkout of it) is older than Retention. A cart with
// a pending checkout (a reservation not yet paid or released), or a line
// claimed by one, is never touched. A guest that never checked out is
// removed whole (its cart key then opens nothing: NOT_FOUND, as for any
// unknown cart); a guest with orders keeps them, its order tokens and its
// cart key (which still adopts its orders at sign-up): only its cart's
// lines, destination, delivery choices and discount codes are removed.
//
// Every replica may run one: a transaction-scoped advisory lock lets one
// sweep at a time, the others skip. A cart changed while a sweep runs is
// not lost: a line added to it (or a checkout begun) references the guest,
// so removing the guest fails and the sweep's transaction rolls back whole;
// the next sweep finds the cart fresh.
type GuestCartSweeper struct {
	DB *DB
	// Retention is DefaultGuestCartRetention when 0.
	Retention time.Duration
	// Batch is GuestCartSweepBatch when 0.
	Batch int
}

// GuestCartsSwept says what one sweep did: Removed guests (cart and all),
// Emptied carts of guests with orders, Skipped when another replica was
// sweeping.
type GuestCartsSwept struct {
	Removed, Emptied int
	Skipped          bool
}

// Sweep runs one bounded sweep (see GuestCartSweeper).
func (s *GuestCartSweeper) Sweep(ctx context.Context) (GuestCartsSwept, error) {
	retention, batch := s.Retention, s.Batch
	if retention <= 0 {
		retention = DefaultGuestCartRetention
	}
	if batch <= 0 {
		batch = GuestCartSweepBatch
	}
	var out GuestCartsSwept
	err := s.DB.inTx(ctx, func(tx *sqlx.Tx) error {
		out = GuestCartsSwept{}
		var locked bool
		if err := tx.GetContext(ctx, &locked, `SELECT pg_try_advisory_xact_lock($1)`, guestCartSweepLockID); err != nil {
			return fmt.Errorf("guest cart sweep lock: %w", err)
		}
		if !locked {
			out.Skipped = true
			return nil
		}
		var stale []struct {
			ID      int64 `db:"user_id"`
			HasPaid bool  `db:"has_checkouts"`
		}
		// Guests with checkouts are taken only while their cart holds
		// something, so that they do not fill every batch.
		if err := tx.SelectContext(ctx, &stale, `SELECT g.user_id, EXISTS (SELECT 1 FROM checkouts c WHERE c.buyer_id = g.user_id) AS has_checkouts
			FROM guest_carts g
			WHERE g.adopted_by IS NULL
			AND greatest(g.created_at,
				(SELECT max(l.created_at) FROM cart_lines l WHERE l.buyer_id = g.user_id),
				(SELECT d.updated_at FROM cart_destinations d WHERE d.buyer_id = g.user_id),
				(SELECT max(c.updated_at) FROM checkouts c WHERE c.buyer_id = g.user_id)) < now() - make_interval(secs => $1)
			AND NOT EXISTS (SELECT 1 FROM checkouts c WHERE c.buyer_id = g.user_id AND c.status = 'PENDING')
			AND NOT EXISTS (SELECT 1 FROM cart_lines l WHERE l.buyer_id = g.user_id AND l.checkout_id IS NOT NULL)
			AND (NOT EXISTS (SELECT 1 FROM checkouts c WHERE c.buyer_id = g.user_id)
				OR EXISTS (SELECT 1 FROM cart_lines l WHERE l.buyer_id = g.user_id)
				OR EXISTS (SELECT 1 FROM cart_destinations d WHERE d.buyer_id = g.user_id)
				OR EXISTS (SELECT 1 FROM cart_delivery_options o WHERE o.buyer_id = g.user_id))
			ORDER BY g.user_id LIMIT $2
			FOR UPDATE OF g SKIP LOCKED`, retention.Seconds(), batch); err != nil {
			return fmt.Errorf("stale guest carts: %w", err)
		}
		if len(stale) == 0 {
			return nil
		}
		var all, whole []int64
		for _, g := range stale {
			all = append(all, g.ID)
			if !g.HasPaid {
				whole = append(whole, g.ID)
			}
		}
		// A line claimed by a checkout since the look above is kept (the
		// condition is checked again on the locked row), and then the guest
		// cannot be removed: the transaction fails and nothing is lost.
		for _, q := range []string{
			`DELETE FROM cart_lines WHERE buyer_id = ANY($1) AND checkout_id IS NULL`,
			`DELETE FROM cart_delivery_options WHERE buyer_id = ANY($1)`,
			`DELETE FROM cart_destinations WHERE buyer_id = ANY($1)`,
			// The discount codes entered on the cart (they refer to the
			// guest: left, they would make every sweep roll back).
			`DELETE FROM cart_discount_codes WHERE buyer_id = ANY($1)`,
		} {
			if _, err := tx.ExecContext(ctx, q, pq.Array(all)); err != nil {
				return fmt.Errorf("sweep guest carts: %w", err)
			}
		}
		if len(whole) > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM guest_carts WHERE user_id = ANY($1)`, pq.Array(whole)); err != nil {
				return fmt.Errorf("sweep guest carts: %w", err)
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ANY($1) AND is_guest`, pq.Array(whole))
			if err != nil {
				return fmt.Errorf("sweep guests: %w", err)
			}
			n, _ := res.RowsAffected()
			out.Removed = int(n)
		}
		out.Emptied = len(all) - len(whole)
		return nil
	})
	return out, err
}

// Run sweeps every interval (DefaultGuestCartSweepInterval when 0) until
// ctx ends, logging what it removed and any failure.
func (s *GuestCartSweeper) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultGuestCartSweepInterval
	}
	every(ctx, interval, func() {
		n, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			slog.Warn("guest cart sweep", "err", err)
		}
		if n.Removed+n.Emptied > 0 {
			slog.Info("guest cart sweep", "removed", n.Removed, "emptied", n.Emptied)
		}
	})
}
