package store

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Discount code rules (issue 20), shared by the cart and the checkout
// through the cost function (cost.go):
//
//   - A code belongs to one shop and is matched case-insensitively; it is
//     unique per shop. It takes PercentBps basis points (rounded down to the
//     minor unit) or a fixed Amount (at most the products' subtotal) off the
//     subtotal of the shop's lines it applies to (all the shop's products,
//     or a list).
//   - It applies while active, from StartsAt until EndsAt, while its uses
//     are under UsageLimit and the buyer's under PerBuyerLimit (a person's
//     uses are those of their account and of guest checkouts with their
//     account's email; a guest's, those of its email and of the account
//     with that email), and when the
//     subtotal of the lines it applies to is at least MinSubtotal.
//   - At most one code applies per shop: the first entered that applies.
//   - The discount is split over the lines it applies to in proportion to
//     their subtotals by the largest remainder method, in minor units: each
//     line gets floor(D × line ÷ total), and the minor units left go one each
//     to the lines with the largest remainders (the earlier line on a tie),
//     so the allocations add up to D exactly.
//   - A line's tax is computed on its subtotal less its allocation; a shop's
//     free-shipping threshold is compared with its subtotal less its
//     discount.
//   - A use is a stock: it is taken in the checkout's reservation, under the
//     code's row lock, and given back when the reservation is released
//     unpaid (declined, expired). A paid order keeps its use, also when it
//     is later cancelled and refunded.

// Discount kinds.
const (
	DiscountPercentage  = "PERCENTAGE"
	DiscountFixedAmount = "FIXED_AMOUNT"
)

// Reasons a discount code is refused.
const (
	ReasonDiscountNotStarted    = "DISCOUNT_NOT_STARTED"
	ReasonDiscountExpired       = "DISCOUNT_EXPIRED"
	ReasonDiscountUsedUp        = "DISCOUNT_USED_UP"
	ReasonDiscountLimitReached  = "DISCOUNT_LIMIT_REACHED"
	ReasonDiscountNotApplicable = "DISCOUNT_NOT_APPLICABLE"
	ReasonDiscountMinimumNotMet = "DISCOUNT_MINIMUM_NOT_MET"
	// ReasonDiscountUnavailable: at checkout, a code on the cart no longer
	// applies (it ran out, expired, or the cart changed); nothing written.
	ReasonDiscountUnavailable = "DISCOUNT_UNAVAILABLE"
)

// Limits of discount codes.
const (
	MaxCartDiscountCodes  = 5
	MaxDiscountCodeLength = 40
	MaxDiscountProducts   = 100
)

// DiscountCode is a shop's discount code.
type DiscountCode struct {
	ID     int64  `db:"id"`
	ShopID int64  `db:"shop_id"`
	Code   string `db:"code"`
	// Kind is DiscountPercentage or DiscountFixedAmount.
	Kind       string `db:"kind"`
	PercentBps *int   `db:"percent_bps"`
	// Amount and MinSubtotal are minor units of CurrencyCode.
	Amount        *int64        `db:"amount"`
	CurrencyCode  string        `db:"currency_code"`
	MinSubtotal   int64         `db:"min_subtotal"`
	StartsAt      time.Time     `db:"starts_at"`
	EndsAt        *time.Time    `db:"ends_at"`
	UsageLimit    *int          `db:"usage_limit"`
	PerBuyerLimit *int          `db:"per_buyer_limit"`
	ProductIDs    pq.Int64Array `db:"product_ids"`
	Active        bool          `db:"active"`
	// Uses counts the unreleased uses (reserved or paid checkouts).
	Uses      int       `db:"uses"`
	CreatedAt time.Time `db:"created_at"`
}

func (*DiscountCode) isNode() {}

const discountCodeColumns = `id, shop_id, code, kind, percent_bps, amount, currency_code, min_subtotal, starts_at, ends_at,
	usage_limit, per_buyer_limit, product_ids, active, uses, created_at`

// DiscountCodeFields are a code's settings, as created or replaced.
type DiscountCodeFields struct {
	Code          string
	PercentBps    *int
	Amount        *int64
	MinSubtotal   int64
	StartsAt      *time.Time
	EndsAt        *time.Time
	UsageLimit    *int
	PerBuyerLimit *int
	// ProductIDs nil: every product of the shop.
	ProductIDs []int64
	Active     bool
}

// Validate checks the fields' shape.
func (f DiscountCodeFields) Validate() Problems {
	var p Problems
	code := strings.TrimSpace(f.Code)
	switch {
	case code == "":
		p.add("code", ReasonRequired, "code is required")
	case len(code) > MaxDiscountCodeLength || strings.ContainsAny(code, " \t\r\n"):
		p.add("code", "", "code must be 1 to %d characters without spaces", MaxDiscountCodeLength)
	}
	switch {
	case (f.PercentBps == nil) == (f.Amount == nil):
		p.add("percentBps", "", "give percentBps or amount, exactly one")
	case f.PercentBps != nil && (*f.PercentBps < 1 || *f.PercentBps > 10_000):
		p.add("percentBps", "", "percentBps must be 1 to 10000 (basis points: 1000 is 10%%)")
	case f.Amount != nil && *f.Amount <= 0:
		p.add("amount", "", "amount must be more than zero")
	}
	if f.MinSubtotal < 0 {
		p.add("minimumSubtotal", "", "minimumSubtotal must not be negative")
	}
	if f.StartsAt != nil && f.EndsAt != nil && !f.EndsAt.After(*f.StartsAt) {
		p.add("endsAt", "", "endsAt must be after startsAt")
	}
	if f.UsageLimit != nil && *f.UsageLimit < 1 {
		p.add("usageLimit", "", "usageLimit must be at least 1, or null for no limit")
	}
	if f.PerBuyerLimit != nil && *f.PerBuyerLimit < 1 {
		p.add("perBuyerLimit", "", "perBuyerLimit must be at least 1, or null for no limit")
	}
	if f.ProductIDs != nil && (len(f.ProductIDs) == 0 || len(f.ProductIDs) > MaxDiscountProducts) {
		p.add("productIds", "", "productIds lists 1 to %d products, or is null for all of the shop's", MaxDiscountProducts)
	}
	return p
}

func (f DiscountCodeFields) kind() string {
	if f.PercentBps != nil {
		return DiscountPercentage
	}
	return DiscountFixedAmount
}

func (f DiscountCodeFields) productArray() any {
	if f.ProductIDs == nil {
		return nil
	}
	return pq.Array(f.ProductIDs)
}

// discountCodeWrite checks the fields against the shop (its products, a
// code it already has) and turns a write's error into problems.
func discountCodeResult(c *DiscountCode, err error) (*DiscountCode, Problems, error) {
	var pqErr *pq.Error
	switch {
	case err == nil:
		return c, nil, nil
	case errors.As(err, &pqErr) && pqErr.Code == "23505":
		return nil, Problems{FieldErrorf(EInvalid, "code", "the shop already has this code (codes are case-insensitive)").Because(ReasonTaken)}, nil
	case errors.As(err, &pqErr) && pqErr.Code == "23514" && pqErr.Constraint == "discount_codes_usage":
		return nil, Problems{FieldErrorf(EInvalid, "usageLimit", "the code has been used more times than that already")}, nil
	case errors.As(err, &pqErr) && pqErr.Code == "23514" && pqErr.Constraint == "discount_codes_window":
		return nil, Problems{FieldErrorf(EInvalid, "endsAt", "endsAt must be after startsAt")}, nil
	case isNoRows(err):
		return nil, Problems{FieldErrorf(ENotFound, "productIds", "a product is not one of the shop's")}, nil
	}
	return nil, nil, fmt.Errorf("write discount code: %w", err)
}

// productsOfShop is a condition that the product ids $N (or NULL) are all
// the shop $S's.
func productsOfShop(products, shop string) string {
	return fmt.Sprintf(`(%[1]s::bigint[] IS NULL OR (SELECT count(*) FROM products WHERE id = ANY(%[1]s::bigint[]) AND shop_id = %[2]s) =
		(SELECT count(DISTINCT x) FROM unnest(%[1]s::bigint[]) x))`, products, shop)
}

// CreateDiscountCode adds a code to a shop, in the shop's currency.
// Problems: the fields' shape, a code the shop already has (TAKEN), a
// product that is not the shop's (NOT_FOUND).
func (db *DB) CreateDiscountCode(ctx context.Context, shopID int64, f DiscountCodeFields) (*DiscountCode, Problems, error) {
	if p := f.Validate(); len(p) > 0 {
		return nil, p, nil
	}
	var c DiscountCode
	err := db.GetContext(ctx, &c, `INSERT INTO discount_codes (shop_id, code, kind, percent_bps, amount, currency_code, min_subtotal,
			starts_at, ends_at, usage_limit, per_buyer_limit, product_ids, active)
		SELECT s.id, $2, $3, $4, $5, s.currency_code, $6, coalesce($7, now()), $8, $9, $10, $11::bigint[], $12
		FROM shops s WHERE s.id = $1 AND `+productsOfShop("$11", "s.id")+`
		RETURNING `+discountCodeColumns, shopID, strings.TrimSpace(f.Code), f.kind(), f.PercentBps, f.Amount, f.MinSubtotal,
		f.StartsAt, f.EndsAt, f.UsageLimit, f.PerBuyerLimit, f.productArray(), f.Active)
	return discountCodeResult(&c, err)
}

// UpdateDiscountCode replaces a code's settings (its uses stay). A usage
// limit under the uses already made is INVALID.
func (db *DB) UpdateDiscountCode(ctx context.Context, id int64, f DiscountCodeFields) (*DiscountCode, Problems, error) {
	if p := f.Validate(); len(p) > 0 {
		return nil, p, nil
	}
	var c DiscountCode
	err := db.GetContext(ctx, &c, `UPDATE discount_codes d SET code = $2, kind = $3, percent_bps = $4, amount = $5, min_subtotal = $6,
			starts_at = coalesce($7, d.starts_at), ends_at = $8, usage_limit = $9, per_buyer_limit = $10, product_ids = $11::bigint[],
			active = $12, updated_at = now()
		WHERE d.id = $1 AND `+productsOfShop("$11", "d.shop_id")+`
		RETURNING `+discountCodeColumns, id, strings.TrimSpace(f.Code), f.kind(), f.PercentBps, f.Amount, f.MinSubtotal,
		f.StartsAt, f.EndsAt, f.UsageLimit, f.PerBuyerLimit, f.productArray(), f.Active)
	return discountCodeResult(&c, err)
}

// DeactivateDiscountCode stops a code from applying: carts holding it show
// it as not applicable and their checkout is refused until it is removed.
func (db *DB) DeactivateDiscountCode(ctx context.Context, id int64) (*DiscountCode, error) {
	return getOne[DiscountCode](ctx, db.DB, `UPDATE discount_codes SET active = false, updated_at = now() WHERE id = $1 RETURNING `+discountCodeColumns, "discount code", id)
}

// DiscountCodeByID loads one code (NOT_FOUND when unknown).
func (db *DB) DiscountCodeByID(ctx context.Context, id int64) (*DiscountCode, error) {
	return getOne[DiscountCode](ctx, db.DB, `SELECT `+discountCodeColumns+` FROM discount_codes WHERE id = $1`, "discount code", id)
}

// DiscountCodesByIDs loads codes by id in one statement, for the
// request's loader (node and nodes); unknown ids are absent from the map.
// Who may see a code is the caller's to decide (auth.CanSeeDiscountCodes).
func (db *DB) DiscountCodesByIDs(ctx context.Context, ids []int64) (map[int64]*DiscountCode, error) {
	var rows []*DiscountCode
	if err := db.SelectContext(ctx, &rows, `SELECT `+discountCodeColumns+` FROM discount_codes WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("discount codes by ids: %w", err)
	}
	return indexByID(rows, func(c *DiscountCode) int64 { return c.ID }), nil
}

// ListDiscountCodes pages a shop's codes, oldest first.
func (db *DB) ListDiscountCodes(ctx context.Context, shopID int64, args PageArgs) (Page[*DiscountCode], error) {
	after, err := afterID(args.After)
	if err != nil {
		return Page[*DiscountCode]{}, err
	}
	var rows []*DiscountCode
	if err := db.SelectContext(ctx, &rows, `SELECT `+discountCodeColumns+` FROM discount_codes
		WHERE shop_id = $1 AND id > $2 ORDER BY id LIMIT $3`, shopID, after, args.First+1); err != nil {
		return Page[*DiscountCode]{}, fmt.Errorf("discount codes: %w", err)
	}
	return newPage(rows, args, func(c *DiscountCode) string { return cursorForID(c.ID) }), nil
}

// discountTerms is what pricing needs of a discount code, with the state of
// its window and uses now and the buyer's uses.
type discountTerms struct {
	ID            int64         `db:"id" json:"id"`
	ShopID        int64         `db:"shop_id" json:"shop_id"`
	Code          string        `db:"code" json:"code"`
	Kind          string        `db:"kind" json:"kind"`
	PercentBps    *int          `db:"percent_bps" json:"percent_bps"`
	Amount        *int64        `db:"amount" json:"amount"`
	CurrencyCode  string        `db:"currency_code" json:"currency_code"`
	MinSubtotal   int64         `db:"min_subtotal" json:"min_subtotal"`
	ProductIDs    pq.Int64Array `db:"product_ids" json:"product_ids"`
	UsageLimit    *int          `db:"usage_limit" json:"usage_limit"`
	PerBuyerLimit *int          `db:"per_buyer_limit" json:"per_buyer_limit"`
	Uses          int           `db:"uses" json:"uses"`
	BuyerUses     int           `db:"buyer_uses" json:"buyer_uses"`
	NotStarted    bool          `db:"not_started" json:"not_started"`
	Expired       bool          `db:"expired" json:"expired"`
}

// discountTermsColumns selects a discountTerms of the code dc, counting the
// unreleased uses under any of the buyer keys given by the SQL expression
// buyerKeys (a text[]; see buyerKeys).
func discountTermsColumns(buyerKeys string) string {
	return `dc.id, dc.shop_id, dc.code, dc.kind, dc.percent_bps, dc.amount, dc.currency_code, dc.min_subtotal, dc.product_ids,
		dc.usage_limit, dc.per_buyer_limit, dc.uses, dc.starts_at > now() AS not_started, coalesce(dc.ends_at <= now(), false) AS expired,
		(SELECT count(*) FROM discount_redemptions r WHERE r.code_id = dc.id AND r.buyer_key = ANY(` + buyerKeys + `) AND NOT r.released) AS buyer_uses`
}

// personBuyerKeysSQL is the keys a person's per-buyer uses count under,
// for the user id given by the SQL expression userID: their account's and
// their email's (a guest checkout with it), as a text[]. A guest cart's
// user has a placeholder email no checkout can give.
func personBuyerKeysSQL(userID string) string {
	return `ARRAY['user:' || ` + userID + `, (SELECT 'email:' || lower(u.email) FROM users u WHERE u.id = ` + userID + ` AND NOT u.is_guest)]`
}

// discountLine is a line as a discount sees it.
type discountLine struct {
	ProductID int64
	Subtotal  int64
}

// applies reports whether the code covers the product.
func (t *discountTerms) applies(productID int64) bool {
	if t.ProductIDs == nil {
		return true
	}
	for _, id := range t.ProductIDs {
		if id == productID {
			return true
		}
	}
	return false
}

// apply evaluates the code on one shop's lines in currency: the allocation
// per line, or why it does not apply (a Reason… and a message).
func (t *discountTerms) apply(lines []discountLine, currency string) (alloc []int64, reason, why string) {
	switch {
	case t.NotStarted:
		return nil, ReasonDiscountNotStarted, fmt.Sprintf("%s is not valid yet", t.Code)
	case t.Expired:
		return nil, ReasonDiscountExpired, fmt.Sprintf("%s has expired", t.Code)
	case t.UsageLimit != nil && t.Uses >= *t.UsageLimit:
		return nil, ReasonDiscountUsedUp, fmt.Sprintf("%s has been used up", t.Code)
	case t.PerBuyerLimit != nil && t.BuyerUses >= *t.PerBuyerLimit:
		return nil, ReasonDiscountLimitReached, fmt.Sprintf("you have used %s as many times as it allows", t.Code)
	case t.CurrencyCode != currency:
		return nil, ReasonDiscountNotApplicable, fmt.Sprintf("%s does not apply to anything in your cart", t.Code)
	}
	amounts := make([]int64, len(lines))
	var total int64
	for i, l := range lines {
		if t.applies(l.ProductID) {
			amounts[i] = l.Subtotal
			total += l.Subtotal
		}
	}
	switch {
	case total == 0:
		return nil, ReasonDiscountNotApplicable, fmt.Sprintf("%s does not apply to anything in your cart", t.Code)
	case total < t.MinSubtotal:
		return nil, ReasonDiscountMinimumNotMet, fmt.Sprintf("%s needs %s %s of the products it applies to", t.Code,
			Money{Minor: t.MinSubtotal, CurrencyCode: t.CurrencyCode}.Amount(), t.CurrencyCode)
	}
	var d int64
	if t.PercentBps != nil {
		d = total * int64(*t.PercentBps) / 10_000
	} else {
		d = min(*t.Amount, total)
	}
	return Allocate(d, amounts), "", ""
}

// Allocate splits d minor units over amounts (non-negative, d at most their
// sum) in proportion, by the largest remainder method: each gets
// floor(d × amount ÷ sum), and the units left go one each to the largest
// remainders, the earlier on a tie. The result adds up to d exactly.
func Allocate(d int64, amounts []int64) []int64 {
	out := make([]int64, len(amounts))
	var total uint64
	for _, a := range amounts {
		total += uint64(a)
	}
	if d <= 0 || total == 0 {
		return out
	}
	rems := make([]uint64, len(amounts))
	left := d
	for i, a := range amounts {
		hi, lo := bits.Mul64(uint64(d), uint64(a))
		q, r := bits.Div64(hi, lo, total)
		out[i], rems[i] = int64(q), r
		left -= int64(q)
	}
	order := make([]int, len(amounts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return rems[order[x]] > rems[order[y]] })
	for _, i := range order {
		if left == 0 {
			break
		}
		if amounts[i] > 0 {
			out[i]++
			left--
		}
	}
	return out
}

// shopDiscount is the code applied to one shop's lines.
type shopDiscount struct {
	terms *discountTerms
	// alloc is each line's share, in the order the shop's lines were given.
	alloc []int64
	total int64
}

// discountResult is a set of entered codes evaluated on a cart's or a
// checkout's shops.
type discountResult struct {
	byShop map[int64]*shopDiscount
	// refused holds, per entered code (lowercase), why it applies nowhere.
	refused map[string]*Error
}

// evaluateDiscounts applies the entered codes (in order) to the shops'
// lines: per shop, the first code entered that applies there. A code that
// applies to no shop is refused with the reason its first shop gave (or
// DISCOUNT_NOT_APPLICABLE when none of the shops has it); a code that
// applies but was beaten by an earlier one in every shop is refused as not
// combinable.
func evaluateDiscounts(entered []string, terms []*discountTerms, shops []int64, lines map[int64][]discountLine, currency map[int64]string) discountResult {
	out := discountResult{byShop: map[int64]*shopDiscount{}, refused: map[string]*Error{}}
	for _, code := range entered {
		lc := strings.ToLower(code)
		var first *Error
		applied := false
		for _, shopID := range shops {
			for _, t := range terms {
				if t.ShopID != shopID || strings.ToLower(t.Code) != lc {
					continue
				}
				alloc, reason, why := t.apply(lines[shopID], currency[shopID])
				switch {
				case reason != "":
					if first == nil {
						first = FieldErrorf(EInvalid, "discountCodes", "%s", why).Because(reason)
					}
				case out.byShop[shopID] != nil:
					if first == nil {
						first = FieldErrorf(EInvalid, "discountCodes", "%s cannot be combined with %s", code, out.byShop[shopID].terms.Code).Because(ReasonDiscountNotApplicable)
					}
				default:
					sd := &shopDiscount{terms: t, alloc: alloc}
					for _, a := range alloc {
						sd.total += a
					}
					out.byShop[shopID], applied = sd, true
				}
			}
		}
		if !applied {
			if first == nil {
				first = FieldErrorf(EInvalid, "discountCodes", "%s does not apply to anything in your cart", code).Because(ReasonDiscountNotApplicable)
			}
			out.refused[lc] = first
		}
	}
	return out
}

// normalizeCodes trims the entered codes and drops repeats (ignoring case),
// keeping the first spelling.
func normalizeCodes(codes []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" || seen[strings.ToLower(c)] {
			continue
		}
		seen[strings.ToLower(c)] = true
		out = append(out, c)
	}
	return out
}

func lowerAll(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = strings.ToLower(c)
	}
	return out
}

// personBuyerKey and guestBuyerKey are the keys per-buyer limits count uses
// under: a person's user id, a guest's email (lowercased).
func personBuyerKey(userID int64) string { return "user:" + strconv.FormatInt(userID, 10) }
func guestBuyerKey(email string) string  { return "email:" + strings.ToLower(strings.TrimSpace(email)) }

// buyerKey is the key a checkout's uses count under.
func (r CheckoutRequest) buyerKey() string {
	if r.Email != "" {
		return guestBuyerKey(r.Email)
	}
	return personBuyerKey(r.BuyerID)
}

// CartDiscountCodes returns the codes entered on a buyer's cart, in order.
func (db *DB) CartDiscountCodes(ctx context.Context, buyerID int64) ([]string, error) {
	out := []string{}
	err := db.SelectContext(ctx, &out, `SELECT code FROM cart_discount_codes WHERE buyer_id = $1 ORDER BY position`, buyerID)
	if err != nil {
		return nil, fmt.Errorf("cart discount codes: %w", err)
	}
	return out, nil
}

// SetCartDiscountCodes replaces the codes on a buyer's cart (an empty list
// removes them all). Every code must apply to the cart as it is now: an
// unknown code is NOT_FOUND, one that does not apply gets its reason
// (DISCOUNT_EXPIRED, DISCOUNT_USED_UP, …), and then nothing is changed.
// Guests' per-buyer limits are checked at checkout, where their email is
// known.
func (db *DB) SetCartDiscountCodes(ctx context.Context, buyerID int64, codes []string) (Problems, error) {
	codes = normalizeCodes(codes)
	if len(codes) > MaxCartDiscountCodes {
		return Problems{FieldErrorf(EInvalid, "discountCodes", "a cart holds at most %d discount codes", MaxCartDiscountCodes)}, nil
	}
	for _, c := range codes {
		if len(c) > MaxDiscountCodeLength {
			return Problems{FieldErrorf(ENotFound, "discountCodes", "no discount code %q", c[:MaxDiscountCodeLength])}, nil
		}
	}
	return db.inTxUnlessProblems(ctx, func(tx *sqlx.Tx) (Problems, error) {
		// Serialise the buyer's cart changes.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, buyerID); err != nil {
			return nil, fmt.Errorf("lock buyer: %w", err)
		}
		if len(codes) > 0 {
			var known []string
			if err := tx.SelectContext(ctx, &known, `SELECT DISTINCT lower(code) FROM discount_codes WHERE active AND lower(code) = ANY($1)`,
				pq.Array(lowerAll(codes))); err != nil {
				return nil, fmt.Errorf("find discount codes: %w", err)
			}
			isKnown := map[string]bool{}
			for _, k := range known {
				isKnown[k] = true
			}
			for i, c := range codes {
				if !isKnown[strings.ToLower(c)] {
					return Problems{FieldErrorf(ENotFound, fmt.Sprintf("discountCodes.%d", i), "no discount code %s", c)}, nil
				}
			}
			priced, err := cartCosts(ctx, tx, []int64{buyerID}, codes)
			if err != nil {
				return nil, err
			}
			var p Problems
			for i, c := range codes {
				if e := priced[buyerID].refused[strings.ToLower(c)]; e != nil {
					e.Field = fmt.Sprintf("discountCodes.%d", i)
					p = append(p, e)
				}
			}
			if len(p) > 0 {
				return p, nil
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM cart_discount_codes WHERE buyer_id = $1`, buyerID); err != nil {
			return nil, fmt.Errorf("clear cart discount codes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cart_discount_codes (buyer_id, code, position)
			SELECT $1, c, n FROM unnest($2::text[]) WITH ORDINALITY AS x(c, n)`, buyerID, pq.Array(codes)); err != nil {
			return nil, fmt.Errorf("set cart discount codes: %w", err)
		}
		return nil, nil
	})
}

// checkoutDiscounts locks the codes a checkout entered, for the shops it
// buys from, and reads their terms with the buyer's uses. The lock (held to
// the reservation's commit) makes uses a stock: concurrent checkouts of one
// code take their turns, and each sees the uses the others committed. The
// terms are read in a statement after the lock, so that its snapshot holds
// the uses and redemptions of the checkouts it waited for.
func checkoutDiscounts(ctx context.Context, tx *sqlx.Tx, req CheckoutRequest, shopIDs []int64) ([]*discountTerms, error) {
	if len(req.DiscountCodes) == 0 {
		return nil, nil
	}
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, `SELECT id FROM discount_codes WHERE active AND lower(code) = ANY($1) AND shop_id = ANY($2)
		ORDER BY id FOR UPDATE`, pq.Array(lowerAll(req.DiscountCodes)), pq.Array(shopIDs)); err != nil {
		return nil, fmt.Errorf("lock discount codes: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// A person's uses count under their account and their email; a guest's
	// under its email and the account that has that email.
	keys := personBuyerKeysSQL("$2::bigint")
	arg := any(req.BuyerID)
	if req.Email != "" {
		keys = `ARRAY[$2::text, (SELECT 'user:' || u.id FROM users u WHERE lower(u.email) = substr($2::text, 7) AND NOT u.is_guest)]`
		arg = req.buyerKey()
	}
	var terms []*discountTerms
	if err := tx.SelectContext(ctx, &terms, `SELECT `+discountTermsColumns(keys)+` FROM discount_codes dc WHERE dc.id = ANY($1) ORDER BY dc.id`,
		pq.Array(ids), arg); err != nil {
		return nil, fmt.Errorf("read discount codes: %w", err)
	}
	return terms, nil
}

// redeemDiscounts records the uses of the codes a reserved checkout applied
// and counts them on the codes, in the reservation's transaction.
func redeemDiscounts(ctx context.Context, tx *sqlx.Tx, checkoutID int64, buyerKey string, applied map[int64]*shopDiscount) error {
	if len(applied) == 0 {
		return nil
	}
	var codeIDs, amounts []int64
	for _, d := range applied {
		codeIDs, amounts = append(codeIDs, d.terms.ID), append(amounts, d.total)
	}
	_, err := tx.ExecContext(ctx, `WITH r AS (
			INSERT INTO discount_redemptions (code_id, checkout_id, buyer_key, amount)
			SELECT c, $1, $2, a FROM unnest($3::bigint[], $4::bigint[]) AS x(c, a) RETURNING code_id
		)
		UPDATE discount_codes d SET uses = d.uses + 1 FROM r WHERE d.id = r.code_id`, checkoutID, buyerKey, pq.Array(codeIDs), pq.Array(amounts))
	if err != nil {
		return fmt.Errorf("redeem discount codes: %w", err)
	}
	return nil
}

// releaseDiscountsSQL gives back the uses of checkout $1's codes (a
// reservation released unpaid), once.
const releaseDiscountsSQL = `WITH r AS (
		UPDATE discount_redemptions SET released = true WHERE checkout_id = $1 AND NOT released RETURNING code_id
	)
	UPDATE discount_codes d SET uses = d.uses - 1 FROM r WHERE d.id = r.code_id`

// AmountOff is a FIXED_AMOUNT code's amount off (nil for PERCENTAGE).
func (c *DiscountCode) AmountOff() *Money {
	if c.Amount == nil {
		return nil
	}
	return &Money{Minor: *c.Amount, CurrencyCode: c.CurrencyCode}
}

// MinimumSubtotal is the subtotal the code needs of the products it
// applies to.
func (c *DiscountCode) MinimumSubtotal() Money {
	return Money{Minor: c.MinSubtotal, CurrencyCode: c.CurrencyCode}
}

// UsageCount is the code's unreleased uses.
func (c *DiscountCode) UsageCount() int { return c.Uses }

// DiscountedAmount is what the allocation takes off.
func (a *CartDiscountAllocation) DiscountedAmount() Money {
	return Money{Minor: a.Amount, CurrencyCode: a.CurrencyCode}
}

// TotalDiscounts is what the order's discount code took off.
func (o *Order) TotalDiscounts() Money {
	return Money{Minor: o.DiscountAmount, CurrencyCode: o.CurrencyCode}
}
