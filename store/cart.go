package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// CartLine is a variant a buyer collected while scrolling.
type CartLine struct {
	ID              int64     `db:"id"`
	BuyerID         int64     `db:"buyer_id"`
	VariantID       int64     `db:"variant_id"`
	Quantity        int       `db:"quantity"`
	SourceContentID *int64    `db:"source_content_id"`
	SeenPriceAmount int64     `db:"seen_price_amount"`
	CreatedAt       time.Time `db:"created_at"`
	// CartKey is the guest cart key the line was reached with (part of its
	// ID); empty on a person's cart.
	CartKey string `db:"-"`
}

func (*CartLine) isNode() {}

// MaxCartLines bounds a cart to what one checkout can buy.
const MaxCartLines = MaxCheckoutLines

// CartLines returns a buyer's cart, oldest line first.
func (db *DB) CartLines(ctx context.Context, buyerID int64) ([]*CartLine, error) {
	m, err := db.CartLinesByBuyerIDs(ctx, []int64{buyerID})
	return m[buyerID], err
}

// NewCartLine adds a quantity of a variant, remembering where it was seen.
type NewCartLine struct {
	VariantID       int64
	Quantity        int
	SourceContentID *int64
}

// AddCartLines adds to the cart; a variant already there has its quantity
// raised. The price the buyer sees now is remembered for checkout.
func (db *DB) AddCartLines(ctx context.Context, buyerID int64, in []NewCartLine) (Problems, error) {
	return db.inTxUnlessProblems(ctx, func(tx *sqlx.Tx) (Problems, error) {
		var problems Problems
		// Serialise a buyer's cart changes so the line cap holds.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, buyerID); err != nil {
			return nil, err
		}
		for i, l := range in {
			field := fmt.Sprintf("lines.%d", i)
			if l.Quantity < 1 || l.Quantity > MaxLineQuantity {
				problems = append(problems, FieldErrorf(EInvalid, field+".quantity", "quantity must be 1 to %d", MaxLineQuantity))
				continue
			}
			var v struct {
				Price   int64         `db:"price_amount"`
				Content sql.NullInt64 `db:"content_id"`
				OnIt    bool          `db:"on_content"`
			}
			err := tx.GetContext(ctx, &v, `SELECT coalesce((campaign_offer(v.id, v.price_amount, now())).price_amount, v.price_amount) AS price_amount, c.id AS content_id,
					EXISTS (SELECT 1 FROM content_products cp WHERE cp.content_id = $2 AND cp.product_id = p.id) AS on_content
				FROM product_variants v JOIN products p ON p.id = v.product_id LEFT JOIN contents c ON c.id = $2
				WHERE v.id = $1 AND p.status = 'ACTIVE'`, l.VariantID, l.SourceContentID)
			if err != nil {
				if !errors.Is(err, sql.ErrNoRows) {
					return nil, fmt.Errorf("read variant: %w", err)
				}
				problems = append(problems, FieldErrorf(ENotFound, field+".variantId", "variant not found"))
				continue
			}
			if l.SourceContentID != nil && !v.Content.Valid {
				problems = append(problems, FieldErrorf(ENotFound, field+".sourceContentId", "content not found"))
				continue
			}
			if l.SourceContentID != nil && !v.OnIt {
				problems = append(problems, FieldErrorf(EInvalid, field+".variantId", "the product is not a product card on that content").Because(ReasonNotOnContent))
				continue
			}
			price := v.Price
			res, err := tx.ExecContext(ctx, `INSERT INTO cart_lines (buyer_id, variant_id, quantity, source_content_id, seen_price_amount)
				SELECT $1, $2, $3, $4::bigint, $5
				WHERE (SELECT count(*) FROM cart_lines WHERE buyer_id = $1) < $6
				   OR EXISTS (SELECT 1 FROM cart_lines WHERE buyer_id = $1 AND variant_id = $2)
				ON CONFLICT (buyer_id, variant_id) DO UPDATE SET
					quantity = cart_lines.quantity + EXCLUDED.quantity,
					source_content_id = coalesce(EXCLUDED.source_content_id, cart_lines.source_content_id),
					seen_price_amount = EXCLUDED.seen_price_amount
				WHERE cart_lines.quantity + EXCLUDED.quantity <= $7`,
				buyerID, l.VariantID, l.Quantity, l.SourceContentID, price, MaxCartLines, MaxLineQuantity)
			if err != nil {
				return nil, fmt.Errorf("add cart line: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				problems = append(problems, FieldErrorf(EInvalid, field+".quantity",
					"a cart holds at most %d lines of at most %d units each", MaxCartLines, MaxLineQuantity))
			}
		}
		return problems, nil
	})
}

// CartLineUpdate sets a line's quantity; 0 removes it.
type CartLineUpdate struct {
	LineID   int64
	Quantity int
}

// UpdateCartLines changes quantities of the buyer's own lines.
func (db *DB) UpdateCartLines(ctx context.Context, buyerID int64, in []CartLineUpdate) (Problems, error) {
	return db.inTxUnlessProblems(ctx, func(tx *sqlx.Tx) (Problems, error) {
		var problems Problems
		for i, u := range in {
			field := fmt.Sprintf("lines.%d", i)
			if u.Quantity < 0 || u.Quantity > MaxLineQuantity {
				problems = append(problems, FieldErrorf(EInvalid, field+".quantity", "quantity must be 0 to %d", MaxLineQuantity))
				continue
			}
			query := `UPDATE cart_lines SET quantity = $3 WHERE id = $1 AND buyer_id = $2`
			args := []any{u.LineID, buyerID, u.Quantity}
			if u.Quantity == 0 {
				query, args = `DELETE FROM cart_lines WHERE id = $1 AND buyer_id = $2`, args[:2]
			}
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return nil, fmt.Errorf("update cart line: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				problems = append(problems, FieldErrorf(ENotFound, field+".id", "cart line not found"))
			}
		}
		return problems, nil
	})
}

// RemoveCartLines deletes the buyer's own lines; unknown ids are ignored.
func (db *DB) RemoveCartLines(ctx context.Context, buyerID int64, lineIDs []int64) error {
	_, err := db.ExecContext(ctx, `DELETE FROM cart_lines WHERE buyer_id = $1 AND id = ANY($2)`, buyerID, pq.Array(lineIDs))
	return err
}

// CartCheckoutLines turns the cart into checkout lines that carry the price
// the buyer saw, so a changed price is refused rather than charged.
func CartCheckoutLines(lines []*CartLine) []CheckoutLine {
	out := make([]CheckoutLine, len(lines))
	for i, l := range lines {
		seen, id := l.SeenPriceAmount, l.ID
		out[i] = CheckoutLine{VariantID: l.VariantID, Quantity: l.Quantity, SourceContentID: l.SourceContentID, SeenPriceAmount: &seen, CartLineID: &id}
	}
	return out
}

// Cart is a buyer's cart; its identity is the buyer's (a guest's for an
// anonymous buyer's cart).
type Cart struct {
	BuyerID int64
	// Key is a guest cart's key as presented (checked by OpenGuestCart); it
	// is part of the cart's ID. Empty for a person's cart.
	Key string
}

func (*Cart) isNode() {}

// CartLinesByBuyerIDs loads the carts of several buyers in one statement.
func (db *DB) CartLinesByBuyerIDs(ctx context.Context, buyerIDs []int64) (map[int64][]*CartLine, error) {
	var lines []*CartLine
	err := db.SelectContext(ctx, &lines, `SELECT id, buyer_id, variant_id, quantity, source_content_id, seen_price_amount, created_at
		FROM cart_lines WHERE buyer_id = ANY($1) ORDER BY id`, pq.Array(buyerIDs))
	if err != nil {
		return nil, fmt.Errorf("cart lines: %w", err)
	}
	return groupByKey(buyerIDs, lines, func(l *CartLine) int64 { return l.BuyerID }), nil
}
