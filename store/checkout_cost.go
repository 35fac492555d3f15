package store

import (
	"fmt"
	"strings"
)

// checkoutCosts are a checkout's shops priced for its destination (the
// shipping address's country), by the rules in cost.go.
type checkoutCosts struct {
	shops map[int64]*ShopCost
	// lineTax and lineDiscount are each line's tax and discount, by its
	// index in the request.
	lineTax, lineDiscount map[int]int64
	// discounts are the codes applied, by shop id.
	discounts map[int64]*shopDiscount
	total     int64
}

// priceCheckout prices the request's shops for the shipping address's
// country and holds the request to the total the buyer saw, if it says.
// Problems: a shop that does not ship there (NO_DELIVERY_AVAILABLE, naming
// the shop), a chosen delivery option that is not one of the shop's options
// there (a cart's stale selection falls back to the cheapest instead, as
// the cart shows it), shops of more than one currency (CURRENCY_MISMATCH,
// checked before the total, which is then not summed across currencies),
// and a total other than ExpectedTotal (TOTAL_CHANGED, with PRICE_CHANGED
// for each line whose price is not the one it was added at).
// A discount code entered that does not apply (it ran out, expired, the
// cart changed: terms are the codes' locked terms) is DISCOUNT_UNAVAILABLE,
// checked before the total.
// Lines of unknown variants are left out; checkLines reports them.
func priceCheckout(req CheckoutRequest, byID map[int64]*lockedVariant, terms []*discountTerms) (checkoutCosts, Problems, error) {
	out := checkoutCosts{shops: map[int64]*ShopCost{}, lineTax: map[int]int64{}, lineDiscount: map[int]int64{}}
	var shops []int64
	lines := map[int64][]int{}
	for i, l := range req.Lines {
		v := byID[l.VariantID]
		if v == nil {
			continue
		}
		if _, ok := lines[v.ShopID]; !ok {
			shops = append(shops, v.ShopID)
		}
		lines[v.ShopID] = append(lines[v.ShopID], i)
	}
	dlines, currencies := map[int64][]discountLine{}, map[int64]string{}
	for _, shopID := range shops {
		for _, i := range lines[shopID] {
			v := byID[req.Lines[i].VariantID]
			dlines[shopID] = append(dlines[shopID], discountLine{ProductID: v.ProductID, Subtotal: v.PriceAmount * int64(req.Lines[i].Quantity)})
			currencies[shopID] = v.CurrencyCode
		}
	}
	disc := evaluateDiscounts(req.DiscountCodes, terms, shops, dlines, currencies)
	out.discounts = disc.byShop
	var p Problems
	for _, code := range req.DiscountCodes {
		if e := disc.refused[strings.ToLower(code)]; e != nil {
			p = append(p, FieldErrorf(EInvalid, "cartId", "%s; remove it from the cart and check out again", e.Message).Because(ReasonDiscountUnavailable))
		}
	}
	discountRefused := len(p) > 0
	country := req.ShippingAddress.CountryCode
	currency, mixed := "", false
	for _, shopID := range shops {
		idx := lines[shopID]
		subtotals := make([]int64, len(idx))
		var first *lockedVariant
		for k, i := range idx {
			v := byID[req.Lines[i].VariantID]
			if first == nil {
				first = v
			}
			subtotals[k] = v.PriceAmount * int64(req.Lines[i].Quantity)
		}
		if currency != "" && first.CurrencyCode != currency {
			mixed = true
		}
		currency = first.CurrencyCode
		choice, chosen := req.DeliveryChoices[shopID]
		if !chosen {
			choice = first.CartChoice
		}
		c, ships, validChoice, err := priceShop(first.terms(), subtotals, disc.byShop[shopID], choice, true)
		if err != nil {
			return out, nil, err
		}
		switch {
		case !ships:
			p = append(p, FieldErrorf(EInvalid, "shippingAddress.countryCode", "%s does not ship to %s", c.ShopName, country).Because(ReasonNoDelivery))
		case !validChoice && chosen:
			p = append(p, FieldErrorf(EInvalid, "deliveryOptions", "that delivery option is not available from %s to %s", c.ShopName, country).Because(ReasonNoDelivery))
		}
		for k, i := range idx {
			out.lineTax[i] = c.LineTaxes[k]
			out.lineDiscount[i] = c.LineDiscounts[k]
		}
		out.shops[shopID] = &c
		out.total += c.Total
	}
	// Totals in different currencies are never added up or compared: such
	// a checkout is refused, whatever total the buyer saw.
	if mixed {
		return out, append(p, errMixedCurrencies()), nil
	}
	if req.ExpectedTotal != nil && len(p) == 0 && !discountRefused && len(shops) > 0 &&
		(*req.ExpectedTotal != out.total || (req.ExpectedCurrency != "" && req.ExpectedCurrency != currency)) {
		p = append(p, FieldErrorf(EInvalid, "expectedTotal", "the total is now %s, not the %s you saw; review the cart and check out again",
			Money{Minor: out.total, CurrencyCode: currency}.Amount()+" "+currency,
			Money{Minor: *req.ExpectedTotal, CurrencyCode: currency}.Amount()+" "+req.ExpectedCurrency).Because(ReasonTotalChanged))
		for i, l := range req.Lines {
			if v := byID[l.VariantID]; v != nil && l.SeenPriceAmount != nil && *l.SeenPriceAmount != v.PriceAmount {
				p = append(p, FieldErrorf(EInvalid, fmt.Sprintf("lines.%d.variantId", i), "the price of %s changed from %s to %s", v.Title,
					Money{Minor: *l.SeenPriceAmount, CurrencyCode: v.CurrencyCode}.Amount(),
					Money{Minor: v.PriceAmount, CurrencyCode: v.CurrencyCode}.Amount()).Because(ReasonPriceChanged))
			}
		}
	}
	return out, p, nil
}

// cartBuyer is the buyer whose cart selections apply: the buyer for a cart
// checkout, 0 (nobody) otherwise.
func (r CheckoutRequest) cartBuyer() int64 {
	if r.FromCart {
		return r.BuyerID
	}
	return 0
}

// errMixedCurrencies refuses a checkout whose lines are in more than one
// currency: one checkout pays in one currency.
func errMixedCurrencies() *Error {
	return FieldErrorf(EInvalid, "lines", "one checkout pays in one currency; buy from shops of different currencies separately").Because(ReasonCurrencyMismatch)
}
