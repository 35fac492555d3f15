package store

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Cost rules, shared by the cart (what the buyer is shown) and the checkout
// (what the buyer is charged), so that the two never disagree. Every amount
// is an integer number of minor units of the shop's currency.
//
//   - A line's subtotal is its unit price × quantity.
//   - A line's discount is its share of the shop's discount code, if one
//     applies (discounts.go: largest remainder split, in minor units); the
//     line's amount is its subtotal less its discount.
//   - A line's tax is computed per line, on its amount, and rounded to the
//     nearest minor unit with halves rounded up (away from zero):
//     tax-exclusive shops add amount × rate / 10,000; tax-inclusive shops
//     have amount × rate / (10,000 + rate) of the amount as tax already.
//     A shop's tax is the sum of its lines' taxes. Shipping is not taxed.
//   - A shop's shipping is the chosen delivery option's flat price, or zero
//     when the shop's merchandise subtotal less its discount is at or above
//     the option's free-over threshold. Without a choice the cheapest option
//     applies.
//   - A shop's total is subtotal - discount + shipping + tax (tax only when the shop's
//     prices exclude it). A checkout's total is the sum of its shops' totals:
//     exactly the amount charged.

// Reasons a cart or checkout cannot be priced.
const (
	// ReasonNoDelivery: a shop in the cart does not ship to the destination.
	ReasonNoDelivery = "NO_DELIVERY_AVAILABLE"
	// ReasonTotalChanged: the total the buyer saw (expectedTotal) is not the
	// total now.
	ReasonTotalChanged = "TOTAL_CHANGED"
)

// LineTax is the tax of one line of lineSubtotal minor units at rateBps
// basis points, rounded half up to the minor unit: added on top when
// included is false, the part of lineSubtotal that is tax when it is true.
func LineTax(lineSubtotal int64, rateBps int, included bool) int64 {
	if rateBps <= 0 || lineSubtotal <= 0 {
		return 0
	}
	num, den := lineSubtotal*int64(rateBps), int64(10_000)
	if included {
		den += int64(rateBps)
	}
	return (2*num + den) / (2 * den)
}

// DeliveryOption is one way a shop ships to a destination, and what it costs
// for the shop's part of a cart. RateID 0 is the implicit free option of a
// shop that has no shipping rates.
type DeliveryOption struct {
	RateID int64
	Title  string
	// Amount is the option's cost for this subtotal (zero past the free-over threshold).
	Amount int64
}

// shopTerms is what pricing needs of one shop for one destination: its
// tax rate there and its shipping rates there, as the database has them.
type shopTerms struct {
	ShopID        int64  `db:"shop_id"`
	ShopName      string `db:"shop_name"`
	TaxesIncluded bool   `db:"taxes_included"`
	// ShipsLimited is true when the shop has any shipping rate: it then
	// ships only where a rate applies.
	ShipsLimited bool `db:"ships_limited"`
	// TaxJSON is {"title", "bps"} of the applicable tax rate; nil for none.
	TaxJSON []byte `db:"tax_json"`
	// ShippingJSON lists the applicable rates: [{"id","name","price","free"}].
	ShippingJSON []byte `db:"shipping_json"`
}

// shopTermsColumns selects a shopTerms for the shop s (an alias in the
// query) and the destination country given by the SQL expression country:
// the country's own tax rate or else the rest-of-world one; the country's
// own shipping rates if it has any, or else the rest-of-world ones.
func shopTermsColumns(country string) string {
	return fmt.Sprintf(`s.id AS shop_id, s.name AS shop_name, s.taxes_included,
		EXISTS (SELECT 1 FROM shipping_rates r WHERE r.shop_id = s.id) AS ships_limited,
		(SELECT json_build_object('title', t.title, 'bps', t.rate_bps) FROM tax_rates t
			WHERE t.shop_id = s.id AND (t.country_code = %[1]s OR t.country_code IS NULL)
			ORDER BY t.country_code NULLS LAST LIMIT 1) AS tax_json,
		coalesce((SELECT json_agg(json_build_object('id', r.id, 'name', r.name, 'price', r.price_amount, 'free', r.free_over_amount) ORDER BY r.id)
			FROM shipping_rates r WHERE r.shop_id = s.id AND r.country_code IS NOT DISTINCT FROM (
				CASE WHEN EXISTS (SELECT 1 FROM shipping_rates x WHERE x.shop_id = s.id AND x.country_code = %[1]s) THEN %[1]s END)
		), '[]') AS shipping_json`, country)
}

type termsRate struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
	Free  *int64 `json:"free"`
}

type termsTax struct {
	Title string `json:"title"`
	Bps   int    `json:"bps"`
}

// ShopCost is one shop's part of a cart or checkout, priced for one
// destination.
type ShopCost struct {
	ShopID   int64
	ShopName string
	Subtotal int64
	// Discount is the sum of LineDiscounts; DiscountCode names the code
	// applied ("" for none).
	Discount      int64
	DiscountCode  string
	LineDiscounts []int64
	// Options are the delivery options to the destination, cheapest first;
	// empty when the shop does not ship there (or there is no destination).
	Options []DeliveryOption
	// Selected is the option applied: the chosen one, else the cheapest;
	// nil when there is none.
	Selected *DeliveryOption
	Shipping int64
	// Tax is the sum of LineTaxes; TaxTitle and TaxRateBps name the rate.
	Tax           int64
	TaxTitle      string
	TaxRateBps    int
	TaxesIncluded bool
	// LineTaxes are the lines' taxes, in the order the lines were given.
	LineTaxes []int64
	// Total is Subtotal - Discount + Shipping + Tax (Tax only when not included).
	Total int64
}

// priceShop prices one shop's lines (their subtotals) under its terms for
// a destination, after the discount code applied to them (disc, nil for
// none: its allocation per line, computed once unit prices are known);
// choice is the rate chosen (0: the cheapest). known is
// false when there is no destination: then no shipping or tax applies yet.
// ok is false when the shop does not ship to the destination; validChoice
// is false when choice is not among its options there.
func priceShop(t shopTerms, lineSubtotals []int64, disc *shopDiscount, choice int64, known bool) (c ShopCost, ok, validChoice bool, err error) {
	c = ShopCost{ShopID: t.ShopID, ShopName: t.ShopName, TaxesIncluded: t.TaxesIncluded, LineTaxes: make([]int64, len(lineSubtotals)),
		LineDiscounts: make([]int64, len(lineSubtotals))}
	for i, s := range lineSubtotals {
		c.Subtotal += s
		if disc != nil {
			c.LineDiscounts[i] = disc.alloc[i]
			c.Discount += disc.alloc[i]
		}
	}
	if disc != nil {
		c.DiscountCode = disc.terms.Code
	}
	if !known {
		c.Total = c.Subtotal - c.Discount
		return c, true, true, nil
	}
	var rates []termsRate
	if err := json.Unmarshal(t.ShippingJSON, &rates); err != nil {
		return c, false, false, fmt.Errorf("shipping rates of shop %d: %w", t.ShopID, err)
	}
	if !t.ShipsLimited {
		c.Options = []DeliveryOption{{Title: "Free shipping"}}
	}
	for _, r := range rates {
		amount := r.Price
		if r.Free != nil && c.Subtotal-c.Discount >= *r.Free {
			amount = 0
		}
		c.Options = append(c.Options, DeliveryOption{RateID: r.ID, Title: r.Name, Amount: amount})
	}
	sort.SliceStable(c.Options, func(i, j int) bool { return c.Options[i].Amount < c.Options[j].Amount })
	validChoice = choice == 0
	for i := range c.Options {
		if choice != 0 && c.Options[i].RateID == choice {
			c.Selected, validChoice = &c.Options[i], true
		}
	}
	if c.Selected == nil && len(c.Options) > 0 {
		c.Selected = &c.Options[0]
	}
	if c.Selected != nil {
		c.Shipping = c.Selected.Amount
	}
	if len(t.TaxJSON) > 0 {
		var tax termsTax
		if err := json.Unmarshal(t.TaxJSON, &tax); err != nil {
			return c, false, false, fmt.Errorf("tax rate of shop %d: %w", t.ShopID, err)
		}
		c.TaxTitle, c.TaxRateBps = tax.Title, tax.Bps
		for i, s := range lineSubtotals {
			c.LineTaxes[i] = LineTax(s-c.LineDiscounts[i], tax.Bps, t.TaxesIncluded)
			c.Tax += c.LineTaxes[i]
		}
	}
	c.Total = c.Subtotal - c.Discount + c.Shipping
	if !t.TaxesIncluded {
		c.Total += c.Tax
	}
	return c, len(c.Options) > 0, validChoice, nil
}
