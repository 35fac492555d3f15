package store

import (
	"context"
	"fmt"

	"github.com/lib/pq"
)

// CheckoutPreview is what a checkout of the same lines, destination and
// delivery choices would charge now: the checkout's own pricing
// (priceCheckout, hence priceShop in cost.go) over the same rows, so that
// its Total is the amount that checkout charges while nothing changes in
// between. Every amount is in minor units of CurrencyCode.
type CheckoutPreview struct {
	CurrencyCode string
	// Shops are the checkout's shops (one order each), in the order their
	// first line appears in the request.
	Shops []*ShopCost
	// Lines are the request's lines priced, in the request's order.
	Lines []PreviewLine
	// Subtotal, Shipping and Tax add up the shops; Total is what checkout
	// charges (the shops' totals: the tax of tax-inclusive shops is inside
	// their subtotal, not added).
	Subtotal, Shipping, Tax, Total int64
}

// PreviewLine is one line of a CheckoutPreview: the variant's price now,
// × quantity, and the line's tax (per line, rounded half up).
type PreviewLine struct {
	VariantID int64
	Quantity  int
	ShopID    int64
	UnitPrice int64
	Subtotal  int64
	Tax       int64
}

// ValidatePreview checks a preview request's shape, as Validate checks a
// checkout's, without what only a purchase needs (idempotency key, payment
// token, the address beyond its country): 1 to MaxCheckoutLines lines of 1
// to MaxLineQuantity each, each variant once, and a destination country of
// two capital letters (field shippingAddress.countryCode).
func (r CheckoutRequest) ValidatePreview() Problems {
	full := r
	full.IdempotencyKey, full.PaymentToken = "preview", "preview"
	full.ShippingAddress = Address{Name: "-", Line1: "-", City: "-", PostalCode: "-", CountryCode: r.ShippingAddress.CountryCode}
	return full.Validate()
}

// PreviewCheckout prices req's lines for req.ShippingAddress.CountryCode
// and req.DeliveryChoices (a shop left out ships by its cheapest option
// there) exactly as Checkout would, and writes nothing. It reads the
// primary (as checkout does), without locks.
//
// Problems are the ones checkout would answer before charging, with the
// same codes and fields: the request's shape (ValidatePreview), unknown
// variants (NOT_FOUND), products no longer sold (NOT_AVAILABLE), too little
// stock (INSUFFICIENT_STOCK), a shop that does not ship there or a delivery
// option it does not offer there (NO_DELIVERY_AVAILABLE), lines in more
// than one currency (CURRENCY_MISMATCH). With problems the preview is nil.
// Only a failure of the database is an error.
func (db *DB) PreviewCheckout(ctx context.Context, req CheckoutRequest) (*CheckoutPreview, Problems, error) {
	req.ExpectedTotal, req.FromCart = nil, false
	if p := req.ValidatePreview(); len(p) > 0 {
		return nil, p, nil
	}
	want, sorted := wantedVariants(req.Lines)
	var rows []lockedVariant
	err := db.retry(ctx, func() error {
		rows = nil
		return db.SelectContext(ctx, &rows, `SELECT `+readVariantColumns+` FROM `+readVariantTables+`
			WHERE v.id = ANY($1::bigint[])`, pq.Array(sorted), req.ShippingAddress.CountryCode, int64(0))
	})
	if err != nil {
		return nil, nil, fmt.Errorf("preview checkout: %w", err)
	}
	byID := map[int64]*lockedVariant{}
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	problems := checkLines(req, byID, want)
	// A checkout by lines carries no discount codes (they apply through a cart).
	costs, more, err := priceCheckout(req, byID, nil)
	if err != nil {
		return nil, nil, err
	}
	problems = append(problems, more...).firstPerField()
	if len(problems) > 0 {
		return nil, problems, nil
	}
	out := &CheckoutPreview{CurrencyCode: rows[0].CurrencyCode, Total: costs.total}
	seen := map[int64]bool{}
	for i, l := range req.Lines {
		v := byID[l.VariantID]
		out.Lines = append(out.Lines, PreviewLine{VariantID: v.ID, Quantity: l.Quantity, ShopID: v.ShopID, UnitPrice: v.PriceAmount,
			Subtotal: v.PriceAmount * int64(l.Quantity), Tax: costs.lineTax[i]})
		if !seen[v.ShopID] {
			seen[v.ShopID] = true
			s := costs.shops[v.ShopID]
			out.Shops = append(out.Shops, s)
			out.Subtotal += s.Subtotal
			out.Shipping += s.Shipping
			out.Tax += s.Tax
		}
	}
	return out, nil, nil
}
