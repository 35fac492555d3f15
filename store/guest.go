package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Guest checkout. An anonymous buyer's cart is a guest: a users row marked
// is_guest that never signs in, so the cart, the checkout (with its
// idempotency keys, per guest) and the orders work as for people. The cart
// is opened by its key, a 256-bit secret the client holds (inside the cart's
// ID); the database keeps only its SHA-256. A paid guest checkout has an
// order token, derived from the cart key, that reads its orders.
//
// Adoption: an account adopts a guest cart (its lines, and the orders its
// checkouts made with the account's email) when its cart key is presented at
// sign-up or log-in, and a guest checkout's orders when its order token is
// presented and its email is the account's. The email alone adopts nothing:
// emails are not verified, so anyone may sign up with anyone's.

// ErrCartNotFound is the answer for a cart that does not exist, whose key is
// wrong, or that was adopted: the same for all three.
var ErrCartNotFound = Errorf(ENotFound, "cart not found")

// CreateGuestCart makes a new guest and returns its id and its cart key (the
// secret, shown once; only its hash is kept).
func (db *DB) CreateGuestCart(ctx context.Context) (guestID int64, key string, err error) {
	key = NewSecret()
	err = db.GetContext(ctx, &guestID, `WITH n AS (SELECT nextval(pg_get_serial_sequence('users', 'id')) AS id),
		u AS (
			INSERT INTO users (id, email, password_hash, handle, display_name, is_guest)
			SELECT id, 'guest-' || id, '!', 'guest-' || id, 'Guest', true FROM n RETURNING id
		)
		INSERT INTO guest_carts (user_id, key_hash) SELECT id, $1 FROM u RETURNING user_id`, HashSecret(key))
	if err != nil {
		return 0, "", fmt.Errorf("create guest cart: %w", err)
	}
	return guestID, key, nil
}

// OpenGuestCart checks a guest cart's key: nil when guestID is a guest whose
// cart is not adopted and whose key hashes to the stored hash (compared in
// constant time); ErrCartNotFound otherwise.
func (db *DB) OpenGuestCart(ctx context.Context, guestID int64, key string) error {
	var row struct {
		Hash      string        `db:"key_hash"`
		AdoptedBy sql.NullInt64 `db:"adopted_by"`
	}
	err := db.GetContext(ctx, &row, `SELECT key_hash, adopted_by FROM guest_carts WHERE user_id = $1`, guestID)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the comparison anyway: an unknown id answers as a wrong key.
		subtle.ConstantTimeCompare([]byte(HashSecret(key)), []byte(HashSecret("")))
		return ErrCartNotFound
	}
	if err != nil {
		return fmt.Errorf("open guest cart: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(HashSecret(key)), []byte(row.Hash)) != 1 || row.AdoptedBy.Valid {
		return ErrCartNotFound
	}
	return nil
}

// GuestOrderToken is the order token of a guest checkout: an HMAC-SHA256 of
// the checkout's id under the cart key, so the holder of the cart key gets
// the same token on every retry with the same idempotency key, and nobody
// without the key can compute it.
func GuestOrderToken(cartKey string, checkoutID int64) string {
	mac := hmac.New(sha256.New, []byte(cartKey))
	mac.Write([]byte("showcase-order-token\x00" + strconv.FormatInt(checkoutID, 10)))
	return "ot_" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// ValidateGuestEmail checks the email a guest checks out with, at field.
func ValidateGuestEmail(field, email string) Problems {
	var p Problems
	if email == "" {
		p.add(field, ReasonRequired, "a guest checkout needs an email")
	} else if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		p.add(field, "", "email must be a valid address like name@example.com")
	}
	return p
}

// RecordGuestCheckout remembers a guest checkout's email and order token
// (its hash); recording it again is a no-op, so retries may call it. A
// checkout reserved with its email and cart key has its row already
// (recordGuestCheckout, in the reservation's transaction); this covers
// checkouts reserved before that.
func (db *DB) RecordGuestCheckout(ctx context.Context, checkoutID int64, email, orderToken string) error {
	return db.retry(ctx, func() error { return recordGuestCheckout(ctx, db, checkoutID, email, orderToken) })
}

// recordGuestCheckout writes a guest checkout's row through q (the
// reservation's transaction, or the pool): its email, lowercased, and the
// SHA-256 of its order token; a no-op when the row exists.
func recordGuestCheckout(ctx context.Context, q sqlx.ExecerContext, checkoutID int64, email, orderToken string) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO guest_checkouts (checkout_id, email, token_hash) VALUES ($1, lower($2), $3)
		ON CONFLICT (checkout_id) DO NOTHING`, checkoutID, email, HashSecret(orderToken)); err != nil {
		return fmt.Errorf("record guest checkout: %w", err)
	}
	return nil
}

// guest reports whether the request is a guest checkout whose row the
// reservation writes (its email and cart key are known).
func (r CheckoutRequest) guest() bool { return r.Email != "" && r.CartKey != "" }

// OrdersByToken returns the orders of the guest checkout whose order token
// this is (none for an unknown token), oldest first; pending orders are never
// shown.
func (db *DB) OrdersByToken(ctx context.Context, token string) ([]*Order, error) {
	orders := []*Order{}
	if !strings.HasPrefix(token, "ot_") || len(token) > 100 {
		return orders, nil
	}
	err := db.SelectContext(ctx, &orders, `SELECT `+orderColumns+` FROM orders o
		WHERE o.checkout_id = (SELECT checkout_id FROM guest_checkouts WHERE token_hash = $1) AND o.status <> 'PENDING'
		ORDER BY o.id`, HashSecret(token))
	if err != nil {
		return nil, fmt.Errorf("orders by token: %w", err)
	}
	return orders, nil
}

// GuestProof is what a person presents at sign-up or log-in to adopt what
// they bought as a guest: cart keys (guest id and key, as in the cart's ID)
// and order tokens.
type GuestProof struct {
	Carts       []GuestCartKey
	OrderTokens []string
}

// GuestCartKey names a guest cart and its key.
type GuestCartKey struct {
	GuestID int64
	Key     string
}

// AdoptGuest moves to the account userID what the proof opens: for each
// guest cart whose key is right and that is not adopted yet, its lines that
// no checkout is buying (merged into the account's cart within its limits)
// and the orders of its checkouts made with the account's email; for each
// order token whose checkout was made with the account's email, that
// checkout's orders. A wrong key or token, or another email, adopts nothing
// and is not an error. It returns how many orders were adopted.
func (db *DB) AdoptGuest(ctx context.Context, userID int64, email string, proof GuestProof) (int, error) {
	var guests []int64
	for _, c := range proof.Carts {
		if err := db.OpenGuestCart(ctx, c.GuestID, c.Key); err == nil {
			guests = append(guests, c.GuestID)
		} else if !errors.Is(err, ErrCartNotFound) {
			return 0, err
		}
	}
	hashes := make([]string, len(proof.OrderTokens))
	for i, t := range proof.OrderTokens {
		hashes[i] = HashSecret(t)
	}
	if len(guests) == 0 && len(hashes) == 0 {
		return 0, nil
	}
	var adopted int
	err := db.inTxRetry(ctx, func(tx *sqlx.Tx) error {
		// Serialise with the account's own cart changes (AddCartLines).
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return err
		}
		var claimed []int64
		if err := tx.SelectContext(ctx, &claimed, `UPDATE guest_carts SET adopted_by = $2
			WHERE user_id = ANY($1) AND adopted_by IS NULL RETURNING user_id`, pq.Array(guests), userID); err != nil {
			return fmt.Errorf("adopt guest carts: %w", err)
		}
		if len(claimed) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO cart_lines (buyer_id, variant_id, quantity, source_content_id, seen_price_amount)
				SELECT $1, g.variant_id, g.quantity, g.source_content_id, g.seen_price_amount
				FROM cart_lines g WHERE g.buyer_id = ANY($2) AND g.checkout_id IS NULL
				ORDER BY g.id
				LIMIT greatest(0, $3 - (SELECT count(*) FROM cart_lines WHERE buyer_id = $1))
				ON CONFLICT (buyer_id, variant_id) DO UPDATE SET
					quantity = least(cart_lines.quantity + EXCLUDED.quantity, $4),
					source_content_id = coalesce(EXCLUDED.source_content_id, cart_lines.source_content_id),
					seen_price_amount = EXCLUDED.seen_price_amount`,
				userID, pq.Array(claimed), MaxCartLines, MaxLineQuantity); err != nil {
				return fmt.Errorf("adopt cart lines: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM cart_lines WHERE buyer_id = ANY($1) AND checkout_id IS NULL`, pq.Array(claimed)); err != nil {
				return fmt.Errorf("empty adopted carts: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE orders o SET buyer_id = $1
			FROM guest_checkouts gc JOIN checkouts c ON c.id = gc.checkout_id JOIN users g ON g.id = c.buyer_id AND g.is_guest
			WHERE o.checkout_id = gc.checkout_id AND o.buyer_id = c.buyer_id AND gc.email = lower($2)
			  AND (c.buyer_id = ANY($3) OR gc.token_hash = ANY($4))`,
			userID, email, pq.Array(claimed), pq.Array(hashes))
		if err != nil {
			return fmt.Errorf("adopt orders: %w", err)
		}
		n, _ := res.RowsAffected()
		adopted = int(n)
		return nil
	})
	return adopted, err
}

// CartLineByID loads one cart line, whoever's it is (nil when there is
// none); the caller applies the cart's rule.
func (db *DB) CartLineByID(ctx context.Context, id int64) (*CartLine, error) {
	var l CartLine
	err := db.GetContext(ctx, &l, `SELECT id, buyer_id, variant_id, quantity, source_content_id, seen_price_amount, created_at
		FROM cart_lines WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cart line: %w", err)
	}
	return &l, nil
}
