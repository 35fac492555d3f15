package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// checkoutCostQuery asks Query.checkoutCost for everything the buy sheet shows.
const checkoutCostQuery = `query($in: CheckoutCostInput!) { checkoutCost(input: $in) {
	cost { subtotalAmount { amount currencyCode } totalShippingAmount { amount currencyCode } totalTaxAmount { amount currencyCode }
		totalAmount { amount currencyCode }
		lines { variantId quantity cost { amountPerQuantity { amount } subtotalAmount { amount } taxAmount { amount } } }
		deliveryGroups { shop { id name } deliveryOptions { handle title estimatedCost { amount } } selectedDeliveryOption { handle title }
			subtotalAmount { amount } totalTaxAmount { amount } totalAmount { amount } taxesIncluded } }
	userErrors { field message code } } }`

type checkoutCostView struct {
	SubtotalAmount, TotalShippingAmount, TotalTaxAmount, TotalAmount money
	Lines                                                            []struct {
		VariantID string
		Quantity  int
		Cost      struct{ AmountPerQuantity, SubtotalAmount, TaxAmount struct{ Amount string } }
	}
	DeliveryGroups []struct {
		Shop            struct{ ID, Name string }
		DeliveryOptions []struct {
			Handle, Title string
			EstimatedCost struct{ Amount string }
		}
		SelectedDeliveryOption                      struct{ Handle, Title string }
		SubtotalAmount, TotalTaxAmount, TotalAmount struct{ Amount string }
		TaxesIncluded                               bool
	}
}

type checkoutCostReply struct {
	CheckoutCost struct {
		Cost       *checkoutCostView
		UserErrors []costUserError
	}
}

// preview asks checkoutCost for input in as token's holder ("" signed out).
func (w *costWorld) preview(token string, in map[string]any) checkoutCostReply {
	w.t.Helper()
	var out checkoutCostReply
	w.gql(token, checkoutCostQuery, map[string]any{"in": in}, &out)
	return out
}

// minor reads a USD amount ("12.34") as cents.
func minor(t *testing.T, amount string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(amount, ".")
	frac = (frac + "00")[:2]
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", amount, err)
	}
	return n
}

func codes(errs []costUserError) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Code+"@"+strings.Join(e.Field, "."))
	}
	return strings.Join(s, ",")
}

// The promise of Query.checkoutCost: for any lines, destination and
// delivery choice, checkout(input: {lines}) with the preview's total as
// expectedTotal charges exactly that total (the provider's charge, the
// orders' totals, each shop's order total = its group's total), or both
// refuse with the same codes. Randomised over three shops (tax added,
// tax included, free-over thresholds, country and rest-of-world rates, a
// shop that ships to the US only) with a fixed seed, so a failure repeats.
// Signed out, the same preview prices the same lines, and a guest cart of
// those lines checked out with that total is charged it.
func TestCheckoutCostIsWhatCheckoutCharges(t *testing.T) {
	w := newCostWorld(t)
	added := w.shop("added", "USD", "0.99", "12.35", "47.50")
	w.rate(added, "US", "Standard", "4.99", "50.00", "USD")
	w.rate(added, "US", "Express", "14.00", "", "USD")
	w.rate(added, "", "International", "19.00", "150.00", "USD")
	w.tax(added, "US", 725, false)
	w.tax(added, "CA", 500, false)
	inclusive := w.shop("inclusive", "USD", "3.33", "19.99", "65.00")
	w.rate(inclusive, "DE", "DHL", "3.90", "49.00", "USD")
	w.rate(inclusive, "", "World", "9.90", "", "USD")
	w.tax(inclusive, "DE", 1900, true)
	w.tax(inclusive, "", 2000, true)
	usOnly := w.shop("usonly", "USD", "5.55", "21.00")
	w.rate(usOnly, "US", "Ground", "6.00", "25.00", "USD")
	w.tax(usOnly, "US", 888, false)
	buyer := w.person("previewer")
	all := append(append(append([]string{}, added.variants...), inclusive.variants...), usOnly.variants...)
	countries := []string{"US", "CA", "DE", "FR"}

	rng := rand.New(rand.NewPCG(17, 2026))
	paid, refused := 0, 0
	for round := 0; round < 30; round++ {
		perm := rng.Perm(len(all))[:1+rng.IntN(4)]
		var lines []map[string]any
		for _, i := range perm {
			lines = append(lines, map[string]any{"variantId": all[i], "quantity": 1 + rng.IntN(3)})
		}
		country := countries[rng.IntN(len(countries))]
		in := map[string]any{"lines": lines, "shippingAddress": costAddress(country)}
		p := w.preview(buyer, in).CheckoutCost
		// Choose a delivery option at random per shop, and price that.
		if p.Cost != nil {
			var choices []map[string]any
			for _, g := range p.Cost.DeliveryGroups {
				o := g.DeliveryOptions[rng.IntN(len(g.DeliveryOptions))]
				choices = append(choices, map[string]any{"shopId": g.Shop.ID, "deliveryOptionHandle": o.Handle})
			}
			in["deliveryOptions"] = choices
			p = w.preview(buyer, in).CheckoutCost
		}
		checkoutIn := map[string]any{"lines": lines, "shippingAddress": costAddress(country), "idempotencyKey": fmt.Sprintf("round-%d", round),
			"payment": map[string]any{"token": "tok_ok"}}
		if in["deliveryOptions"] != nil {
			checkoutIn["deliveryOptions"] = in["deliveryOptions"]
		}
		if p.Cost == nil {
			var out checkoutReply
			w.gql(buyer, costCheckoutMutation, map[string]any{"in": checkoutIn}, &out)
			if len(out.Checkout.Orders) > 0 || codes(out.Checkout.UserErrors) != codes(p.UserErrors) {
				t.Fatalf("round %d (%s, %v): preview refused %s, checkout answered %s %+v", round, country, lines,
					codes(p.UserErrors), codes(out.Checkout.UserErrors), out.Checkout.Orders)
			}
			refused++
			continue
		}
		c := p.Cost
		if got := minor(t, c.SubtotalAmount.Amount) + minor(t, c.TotalShippingAmount.Amount); got > minor(t, c.TotalAmount.Amount) {
			t.Fatalf("round %d: subtotal + shipping %d above the total %s", round, got, c.TotalAmount.Amount)
		}
		checkoutIn["expectedTotal"] = map[string]any{"amount": c.TotalAmount.Amount, "currencyCode": c.TotalAmount.CurrencyCode}
		var out checkoutReply
		w.gql(buyer, costCheckoutMutation, map[string]any{"in": checkoutIn}, &out)
		if len(out.Checkout.UserErrors) > 0 || len(out.Checkout.Orders) != len(c.DeliveryGroups) {
			t.Fatalf("round %d (%s, %v): preview %s, checkout answered %+v", round, country, lines, c.TotalAmount.Amount, out.Checkout)
		}
		charged, ordersTotal := w.charged(out.Checkout.Orders[0].ID)
		if want := minor(t, c.TotalAmount.Amount); charged != want || ordersTotal != want {
			t.Fatalf("round %d (%s, %v): preview %d, charged %d, orders %d", round, country, lines, want, charged, ordersTotal)
		}
		for i, o := range out.Checkout.Orders {
			g := c.DeliveryGroups[i]
			if o.Total.Amount != g.TotalAmount.Amount || o.TotalTax.Amount != g.TotalTaxAmount.Amount || o.ShippingLine == nil ||
				o.ShippingLine.Title != g.SelectedDeliveryOption.Title {
				t.Fatalf("round %d: order %+v, group %+v", round, o, g)
			}
		}
		paid++

		// Signed out: the same preview, and a guest cart of the same lines
		// is charged that total.
		guest := w.preview("", in).CheckoutCost
		if guest.Cost == nil || guest.Cost.TotalAmount != c.TotalAmount {
			t.Fatalf("round %d: signed out, the preview is %+v, not %s", round, guest, c.TotalAmount.Amount)
		}
		if round%5 == 0 {
			var cart struct {
				CartCreate struct {
					Cart       struct{ ID string }
					UserErrors []costUserError
				}
			}
			w.gql("", `mutation($l: [CartLineInput!]!) { cartCreate(lines: $l) { cart { id } userErrors { field message code } } }`,
				map[string]any{"l": lines}, &cart)
			guestIn := map[string]any{"cartId": cart.CartCreate.Cart.ID, "email": fmt.Sprintf("guest%d@example.com", round), "idempotencyKey": "guest",
				"shippingAddress": costAddress(country), "payment": map[string]any{"token": "tok_ok"}, "deliveryOptions": in["deliveryOptions"],
				"expectedTotal": checkoutIn["expectedTotal"]}
			var gout checkoutReply
			w.gql("", costCheckoutMutation, map[string]any{"in": guestIn}, &gout)
			if len(gout.Checkout.UserErrors) > 0 || len(gout.Checkout.Orders) == 0 {
				t.Fatalf("round %d: guest checkout of the previewed lines: %+v", round, gout.Checkout)
			}
			if charged, _ := w.charged(gout.Checkout.Orders[0].ID); charged != minor(t, c.TotalAmount.Amount) {
				t.Fatalf("round %d: guest charged %d, preview %s", round, charged, c.TotalAmount.Amount)
			}
		}
	}
	if paid < 10 || refused < 3 {
		t.Fatalf("the rounds did not cover both outcomes: %d paid, %d refused", paid, refused)
	}
}

// The preview's arithmetic, worked by hand: per line tax rounded half up,
// a free-over threshold, an inclusive shop's tax inside its subtotal.
func TestCheckoutCostArithmetic(t *testing.T) {
	w := newCostWorld(t)
	a := w.shop("handa", "USD", "0.99", "40.00")
	w.rate(a, "US", "Standard", "5.00", "50.00", "USD")
	w.rate(a, "US", "Express", "12.00", "", "USD")
	w.tax(a, "US", 725, false)
	b := w.shop("handb", "USD", "10.00")
	w.rate(b, "", "World", "3.00", "", "USD")
	w.tax(b, "", 2000, true)
	lines := []map[string]any{{"variantId": a.variants[0], "quantity": 3}, {"variantId": b.variants[0], "quantity": 2}, {"variantId": a.variants[1], "quantity": 1}}
	p := w.preview("", map[string]any{"lines": lines, "countryCode": "US"}).CheckoutCost
	if p.Cost == nil {
		t.Fatalf("preview: %+v", p.UserErrors)
	}
	c := p.Cost
	// Shop a: 2.97 + 40.00 = 42.97 (< 50: Standard 5.00); tax 0.2153 -> 0.22, 2.90 -> 2.90; total 42.97 + 5 + 3.12 = 51.09.
	// Shop b: 20.00 incl. 20% VAT: 3.333 -> 3.33 inside; World 3.00; total 23.00.
	got := fmt.Sprintf("%s %s %s %s | %s %s %s | %s %s %s", c.SubtotalAmount.Amount, c.TotalShippingAmount.Amount, c.TotalTaxAmount.Amount, c.TotalAmount.Amount,
		c.Lines[0].Cost.TaxAmount.Amount, c.Lines[1].Cost.TaxAmount.Amount, c.Lines[2].Cost.TaxAmount.Amount,
		c.DeliveryGroups[0].TotalAmount.Amount, c.DeliveryGroups[0].SelectedDeliveryOption.Title, c.DeliveryGroups[1].TotalAmount.Amount)
	if want := "62.97 8.00 6.45 74.09 | 0.22 3.33 2.90 | 51.09 Standard 23.00"; got != want {
		t.Fatalf("preview = %s, want %s", got, want)
	}
}

// Refusals match checkout's, point at the field given, and a price change
// between the preview and the checkout is TOTAL_CHANGED with nothing
// written; the new preview then is what the checkout charges.
func TestCheckoutCostRefusalsAndTotalChanged(t *testing.T) {
	w := newCostWorld(t)
	us := w.shop("refus", "USD", "10.00")
	w.rate(us, "US", "Standard", "5.00", "", "USD")
	eu := w.shop("refeu", "EUR", "10.00")
	buyer := w.person("refuser")
	line := map[string]any{"variantId": us.variants[0], "quantity": 1}
	for _, tc := range []struct {
		name string
		in   map[string]any
		want string
	}{
		{"no destination", map[string]any{"lines": []any{line}}, "REQUIRED@input.shippingAddress"},
		{"two destinations", map[string]any{"lines": []any{line}, "countryCode": "US", "shippingAddress": costAddress("US")}, "INVALID@input.addressId"},
		{"bad country", map[string]any{"lines": []any{line}, "countryCode": "usa"}, "INVALID@input.countryCode"},
		{"does not ship", map[string]any{"lines": []any{line}, "countryCode": "DE"}, "NO_DELIVERY_AVAILABLE@input.countryCode"},
		{"repeated variant", map[string]any{"lines": []any{line, line}, "countryCode": "US"}, "INVALID@input.lines.1.variantId"},
		{"too many", map[string]any{"lines": []any{map[string]any{"variantId": us.variants[0], "quantity": 100}}, "countryCode": "US"}, "INVALID@input.lines.0.quantity"},
		{"short stock", map[string]any{"lines": []any{map[string]any{"variantId": us.variants[0], "quantity": 60}}, "countryCode": "US"}, "INSUFFICIENT_STOCK@input.lines.0.quantity"},
		{"two currencies", map[string]any{"lines": []any{line, map[string]any{"variantId": eu.variants[0], "quantity": 1}}, "countryCode": "US"}, "CURRENCY_MISMATCH@input.lines"},
	} {
		p := w.preview(buyer, tc.in).CheckoutCost
		if p.Cost != nil || codes(p.UserErrors) != tc.want {
			t.Errorf("%s: %s %+v, want %s", tc.name, codes(p.UserErrors), p.Cost, tc.want)
		}
	}

	before := w.counts()
	p := w.preview(buyer, map[string]any{"lines": []any{line}, "countryCode": "US"}).CheckoutCost
	if p.Cost == nil || p.Cost.TotalAmount.Amount != "15.00" {
		t.Fatalf("preview: %+v", p)
	}
	if w.counts() != before {
		t.Fatalf("a preview wrote: %s, then %s", before, w.counts())
	}
	if _, err := w.db.ExecContext(t.Context(), `UPDATE product_variants SET price_amount = 1250 WHERE id = $1`, mustGlobalID(t, us.variants[0])); err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"lines": []any{line}, "shippingAddress": costAddress("US"), "idempotencyKey": "k1", "payment": map[string]any{"token": "tok_ok"},
		"expectedTotal": map[string]any{"amount": p.Cost.TotalAmount.Amount, "currencyCode": "USD"}}
	var out checkoutReply
	w.gql(buyer, costCheckoutMutation, map[string]any{"in": in}, &out)
	if len(out.Checkout.Orders) > 0 || codes(out.Checkout.UserErrors) != "TOTAL_CHANGED@input.expectedTotal" || w.counts() != before {
		t.Fatalf("checkout after a price change: %+v (%s, was %s)", out.Checkout, w.counts(), before)
	}
	again := w.preview(buyer, map[string]any{"lines": []any{line}, "countryCode": "US"}).CheckoutCost
	if again.Cost == nil || again.Cost.TotalAmount.Amount != "17.50" {
		t.Fatalf("preview after the change: %+v", again)
	}
	in["idempotencyKey"], in["expectedTotal"] = "k2", map[string]any{"amount": "17.50", "currencyCode": "USD"}
	w.gql(buyer, costCheckoutMutation, map[string]any{"in": in}, &out)
	if len(out.Checkout.UserErrors) > 0 || out.Checkout.Orders[0].Total.Amount != "17.50" {
		t.Fatalf("checkout at the new total: %+v", out.Checkout)
	}
}
