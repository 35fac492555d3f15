package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"showcase/store"
	"showcase/store/storetest"
)

// costWorld is a server with shops whose shipping and tax the tests set,
// reached only over HTTP.
type costWorld struct {
	t    *testing.T
	db   *store.DB
	base string
}

func newCostWorld(t *testing.T) *costWorld {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(t), store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := testServer(t, db, testTokens(t), nil, map[string]string{"RATE_LIMIT_RPS": "1000", "RATE_LIMIT_BURST": "1000", "AUTH_RATE_LIMIT_BURST": "100"})
	return &costWorld{t: t, db: db, base: srv.URL}
}

// gql runs a document that must succeed without errors.
func (w *costWorld) gql(token, query string, vars map[string]any, out any) {
	w.t.Helper()
	post(w.t, w.base, token, query, out, vars)
}

// person signs up someone new and returns their token.
func (w *costWorld) person(handle string) string {
	w.t.Helper()
	var out struct {
		SignUp struct {
			Token      string
			UserErrors []struct{ Message string }
		}
	}
	w.gql("", `mutation($in: SignUpInput!) { signUp(input: $in) { token userErrors { message } } }`, map[string]any{"in": map[string]any{
		"email": handle + "@example.com", "password": "long-enough-password", "handle": handle, "displayName": "Person " + handle}}, &out)
	if out.SignUp.Token == "" {
		w.t.Fatalf("signUp %s: %+v", handle, out)
	}
	return out.SignUp.Token
}

// costShop is a shop with one product of one variant per price.
type costShop struct {
	token, id string
	variants  []string
}

// shop creates a shop in currency whose variants cost prices (decimal
// strings), each with 50 in stock.
func (w *costWorld) shop(handle, currency string, prices ...string) costShop {
	w.t.Helper()
	s := costShop{token: w.person(handle + "_owner")}
	var shop struct {
		CreateShop struct{ Shop struct{ ID string } }
	}
	w.gql(s.token, `mutation($in: CreateShopInput!) { createShop(input: $in) { shop { id } } }`, map[string]any{"in": map[string]any{
		"handle": handle, "name": strings.ToUpper(handle[:1]) + handle[1:] + " Shop", "operatingModel": "SELF_OPERATED", "currencyCode": currency}}, &shop)
	s.id = shop.CreateShop.Shop.ID
	for i, price := range prices {
		var p struct {
			CreateProduct struct {
				Product struct {
					Variants struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
				UserErrors []struct{ Message string }
			}
		}
		w.gql(s.token, `mutation($in: CreateProductInput!) { createProduct(input: $in) { product { variants { edges { node { id } } } } userErrors { message } } }`,
			map[string]any{"in": map[string]any{"shopId": s.id, "title": fmt.Sprintf("%s item %d", handle, i), "variants": []map[string]any{{
				"sku": fmt.Sprintf("%s-%d", handle, i), "title": "One", "price": map[string]any{"amount": price, "currencyCode": currency}, "stock": 50}}}}, &p)
		if len(p.CreateProduct.Product.Variants.Edges) != 1 {
			w.t.Fatalf("createProduct: %+v", p)
		}
		s.variants = append(s.variants, p.CreateProduct.Product.Variants.Edges[0].Node.ID)
	}
	return s
}

// rate adds a shipping rate (country "" is the rest of the world; free ""
// is never free) and returns its ID.
func (w *costWorld) rate(s costShop, country, name, price, free, currency string) string {
	w.t.Helper()
	in := map[string]any{"name": name, "price": map[string]any{"amount": price, "currencyCode": currency}}
	if country != "" {
		in["countryCode"] = country
	}
	if free != "" {
		in["freeOver"] = map[string]any{"amount": free, "currencyCode": currency}
	}
	var out struct {
		ShippingRateCreate struct {
			ShippingRate *struct{ ID string }
			UserErrors   []struct{ Message string }
		}
	}
	w.gql(s.token, `mutation($shop: ID!, $in: ShippingRateInput!) { shippingRateCreate(shopId: $shop, input: $in) { shippingRate { id } userErrors { message } } }`,
		map[string]any{"shop": s.id, "in": in}, &out)
	if out.ShippingRateCreate.ShippingRate == nil {
		w.t.Fatalf("shippingRateCreate: %+v", out)
	}
	return out.ShippingRateCreate.ShippingRate.ID
}

// tax sets a shop's tax rate for a country and whether its prices include it.
func (w *costWorld) tax(s costShop, country string, bps int, included bool) {
	w.t.Helper()
	var out struct {
		TaxRateSet struct {
			TaxRate    *struct{ ID string }
			UserErrors []struct{ Message string }
		}
		ShopTaxesIncludedUpdate struct{ Shop struct{ TaxesIncluded bool } }
	}
	w.gql(s.token, `mutation($shop: ID!, $c: String, $bps: Int!, $inc: Boolean!) {
		taxRateSet(shopId: $shop, countryCode: $c, title: "VAT", rateBps: $bps) { taxRate { id } userErrors { message } }
		shopTaxesIncludedUpdate(shopId: $shop, taxesIncluded: $inc) { shop { taxesIncluded } } }`,
		map[string]any{"shop": s.id, "c": country, "bps": bps, "inc": included}, &out)
	if out.TaxRateSet.TaxRate == nil || out.ShopTaxesIncludedUpdate.Shop.TaxesIncluded != included {
		w.t.Fatalf("tax: %+v", out)
	}
}

type money struct{ Amount, CurrencyCode string }

// cartView is what the storefront shows of a cart.
type cartView struct {
	ID                  string
	DeliveryCountryCode *string
	Cost                *struct {
		SubtotalAmount      money
		TotalShippingAmount *money
		TotalTaxAmount      *money
		TotalAmount         money
	}
	Lines []struct {
		ID   string
		Cost *struct {
			AmountPerQuantity, SubtotalAmount, TotalAmount money
			TaxAmount                                      *money
		}
	}
	DeliveryGroups []struct {
		ID              string
		Shop            struct{ Name string }
		DeliveryOptions []struct {
			Handle, Title string
			EstimatedCost money
		}
		SelectedDeliveryOption *struct{ Handle, Title string }
		TotalAmount            money
		TotalTaxAmount         *money
	}
}

const cartViewQuery = `{ viewer { cart { id deliveryCountryCode
	cost { subtotalAmount { amount currencyCode } totalShippingAmount { amount currencyCode } totalTaxAmount { amount currencyCode } totalAmount { amount currencyCode } }
	lines { id cost { amountPerQuantity { amount currencyCode } subtotalAmount { amount currencyCode } totalAmount { amount currencyCode } taxAmount { amount currencyCode } } }
	deliveryGroups { id shop { name } deliveryOptions { handle title estimatedCost { amount currencyCode } } selectedDeliveryOption { handle title }
		totalAmount { amount currencyCode } totalTaxAmount { amount currencyCode } } } } }`

func (w *costWorld) cart(token string) cartView {
	w.t.Helper()
	var out struct{ Viewer struct{ Cart cartView } }
	w.gql(token, cartViewQuery, nil, &out)
	return out.Viewer.Cart
}

// add puts quantities of variants in the buyer's cart (variant, qty, ...).
func (w *costWorld) add(token string, pairs ...any) {
	w.t.Helper()
	var lines []map[string]any
	for i := 0; i < len(pairs); i += 2 {
		lines = append(lines, map[string]any{"variantId": pairs[i], "quantity": pairs[i+1]})
	}
	var out struct {
		CartLinesAdd struct{ UserErrors []struct{ Message string } }
	}
	w.gql(token, `mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { userErrors { message } } }`, map[string]any{"l": lines}, &out)
	if len(out.CartLinesAdd.UserErrors) > 0 {
		w.t.Fatalf("cartLinesAdd: %+v", out)
	}
}

// shipTo sets the cart's destination country.
func (w *costWorld) shipTo(token, cartID, country string) {
	w.t.Helper()
	var out struct {
		CartDeliveryAddressUpdate struct{ UserErrors []struct{ Message string } }
	}
	w.gql(token, `mutation($c: ID!, $cc: String) { cartDeliveryAddressUpdate(cartId: $c, countryCode: $cc) { userErrors { message } } }`,
		map[string]any{"c": cartID, "cc": country}, &out)
	if len(out.CartDeliveryAddressUpdate.UserErrors) > 0 {
		w.t.Fatalf("cartDeliveryAddressUpdate: %+v", out)
	}
}

type costUserError struct {
	Field   []string
	Message string
	Code    string
}

type checkoutReply struct {
	Checkout struct {
		Orders []struct {
			ID            string
			Subtotal      money
			Total         money
			TotalShipping money
			TotalTax      money
			TaxesIncluded bool
			ShippingLine  *struct {
				Title string
				Price money
			}
			TaxLines []struct {
				Title   string
				RateBps int
				Price   money
			}
			Lines []struct{ Tax money }
		}
		UserErrors []costUserError
	}
}

const costCheckoutMutation = `mutation($in: CheckoutInput!) { checkout(input: $in) {
	orders { id subtotal { amount currencyCode } total { amount currencyCode } totalShipping { amount currencyCode } totalTax { amount currencyCode }
		taxesIncluded shippingLine { title price { amount currencyCode } } taxLines { title rateBps price { amount currencyCode } } lines { tax { amount currencyCode } } }
	userErrors { field message code } } }`

func costAddress(country string) map[string]any {
	return map[string]any{"name": "Ana Buyer", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "countryCode": country}
}

// checkoutCart checks out the buyer's cart to an address in country,
// expecting the total shown (nil: no expectedTotal).
func (w *costWorld) checkoutCart(token, cartID, key, country string, expected *money) checkoutReply {
	w.t.Helper()
	in := map[string]any{"cartId": cartID, "idempotencyKey": key, "shippingAddress": costAddress(country), "payment": map[string]any{"token": "tok_ok"}}
	if expected != nil {
		in["expectedTotal"] = map[string]any{"amount": expected.Amount, "currencyCode": expected.CurrencyCode}
	}
	var out checkoutReply
	w.gql(token, costCheckoutMutation, map[string]any{"in": in}, &out)
	return out
}

// counts are the rows a refused checkout must not have written.
func (w *costWorld) counts() string {
	w.t.Helper()
	var c struct {
		Checkouts int `db:"checkouts"`
		Orders    int `db:"orders"`
		Payments  int `db:"payments"`
		Charges   int `db:"charges"`
		Stock     int `db:"stock"`
	}
	if err := w.db.GetContext(context.Background(), &c, `SELECT (SELECT count(*) FROM checkouts) AS checkouts, (SELECT count(*) FROM orders) AS orders,
		(SELECT count(*) FROM payments) AS payments, (SELECT count(*) FROM test_provider_charges) AS charges,
		(SELECT coalesce(sum(stock), 0) FROM product_variants) AS stock`); err != nil {
		w.t.Fatal(err)
	}
	return fmt.Sprintf("%+v", c)
}

// charged is what the test payment provider charged for the orders'
// checkout, and the sum of the orders' totals, in minor units.
func (w *costWorld) charged(orderGID string) (charged, ordersTotal int64) {
	w.t.Helper()
	id := mustGlobalID(w.t, orderGID)
	if err := w.db.GetContext(context.Background(), &charged, `SELECT c.amount FROM test_provider_charges c
		JOIN payments p ON p.provider_key = c.idempotency_key JOIN orders o ON o.checkout_id = p.checkout_id WHERE o.id = $1`, id); err != nil {
		w.t.Fatal(err)
	}
	if err := w.db.GetContext(context.Background(), &ordersTotal, `SELECT sum(total_amount) FROM orders
		WHERE checkout_id = (SELECT checkout_id FROM orders WHERE id = $1)`, id); err != nil {
		w.t.Fatal(err)
	}
	return charged, ordersTotal
}

func mustGlobalID(t *testing.T, gid string) int64 {
	t.Helper()
	var typeName string
	var id int64
	b, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		t.Fatalf("global ID %q: %v", gid, err)
	}
	raw := string(b)
	if _, err := fmt.Sscanf(strings.Replace(raw, ":", " ", 1), "%s %d", &typeName, &id); err != nil {
		t.Fatalf("global ID %q: %v", gid, err)
	}
	return id
}

func amounts(ms ...money) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Amount)
	}
	return strings.Join(s, " ")
}

// Shipping is the rate's flat price below its free-over threshold and free
// at and above it; the cart shows it, and checkout charges exactly the
// cart's total.
func TestCartShippingThresholds(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("threshold", "USD", "10.00", "40.00")
	w.rate(s, "US", "Standard", "5.00", "50.00", "USD")
	w.rate(s, "US", "Express", "15.00", "", "USD")
	for _, c := range []struct {
		name     string
		qty      [2]int
		shipping string
		total    string
	}{
		{"Below", [2]int{1, 0}, "5.00", "15.00"},     // 10 < 50
		{"At", [2]int{1, 1}, "0.00", "50.00"},        // 10 + 40 = 50
		{"Above", [2]int{2, 1}, "0.00", "60.00"},     // 20 + 40 = 60
		{"JustBelow", [2]int{0, 1}, "5.00", "45.00"}, // 40 < 50
	} {
		t.Run(c.name, func(t *testing.T) {
			w.t = t
			buyer := w.person("buyer_" + strings.ToLower(c.name))
			var pairs []any
			for i, q := range c.qty {
				if q > 0 {
					pairs = append(pairs, s.variants[i], q)
				}
			}
			w.add(buyer, pairs...)
			cart := w.cart(buyer)
			if cart.DeliveryCountryCode != nil || cart.Cost.TotalShippingAmount != nil || len(cart.DeliveryGroups[0].DeliveryOptions) != 0 {
				t.Fatalf("without a destination the cart shows shipping: %+v", cart)
			}
			w.shipTo(buyer, cart.ID, "US")
			cart = w.cart(buyer)
			g := cart.DeliveryGroups[0]
			if len(g.DeliveryOptions) != 2 || g.SelectedDeliveryOption == nil || g.SelectedDeliveryOption.Title != "Standard" {
				t.Fatalf("delivery group = %+v", g)
			}
			if got := cart.Cost.TotalShippingAmount.Amount; got != c.shipping || cart.Cost.TotalAmount.Amount != c.total || g.DeliveryOptions[0].EstimatedCost.Amount != c.shipping {
				t.Fatalf("shipping %s total %s, want %s %s (%+v)", got, cart.Cost.TotalAmount.Amount, c.shipping, c.total, cart.Cost)
			}
			out := w.checkoutCart(buyer, cart.ID, "k-"+c.name, "US", &cart.Cost.TotalAmount)
			if len(out.Checkout.UserErrors) > 0 || len(out.Checkout.Orders) != 1 {
				t.Fatalf("checkout = %+v", out)
			}
			o := out.Checkout.Orders[0]
			if o.Total.Amount != c.total || o.TotalShipping.Amount != c.shipping || o.ShippingLine == nil || o.ShippingLine.Title != "Standard" {
				t.Fatalf("order = %+v", o)
			}
			charged, total := w.charged(o.ID)
			if charged != total || fmt.Sprintf("%d.%02d", charged/100, charged%100) != c.total {
				t.Fatalf("charged %d, orders total %d, want %s", charged, total, c.total)
			}
		})
	}
	t.Run("ChoosingExpress", func(t *testing.T) {
		w.t = t
		buyer := w.person("buyer_express")
		w.add(buyer, s.variants[1], 2) // 80.00: Standard is free, Express is not
		cart := w.cart(buyer)
		w.shipTo(buyer, cart.ID, "US")
		cart = w.cart(buyer)
		g := cart.DeliveryGroups[0]
		var express string
		for _, o := range g.DeliveryOptions {
			if o.Title == "Express" {
				express = o.Handle
			}
		}
		var sel struct {
			CartSelectedDeliveryOptionsUpdate struct{ UserErrors []costUserError }
		}
		w.gql(buyer, `mutation($c: ID!, $o: [CartSelectedDeliveryOptionInput!]!) { cartSelectedDeliveryOptionsUpdate(cartId: $c, selectedDeliveryOptions: $o) { userErrors { field message code } } }`,
			map[string]any{"c": cart.ID, "o": []map[string]any{{"deliveryGroupId": g.ID, "deliveryOptionHandle": express}}}, &sel)
		if len(sel.CartSelectedDeliveryOptionsUpdate.UserErrors) > 0 {
			t.Fatal(sel)
		}
		cart = w.cart(buyer)
		if cart.DeliveryGroups[0].SelectedDeliveryOption.Title != "Express" || cart.Cost.TotalAmount.Amount != "95.00" {
			t.Fatalf("after choosing Express: %+v", cart)
		}
		out := w.checkoutCart(buyer, cart.ID, "k-express", "US", &cart.Cost.TotalAmount)
		if len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].ShippingLine.Title != "Express" || out.Checkout.Orders[0].Total.Amount != "95.00" {
			t.Fatalf("checkout = %+v", out)
		}
	})
}

// Tax per line, rounded half up: added on top for a tax-exclusive shop,
// contained in the price for a tax-inclusive one.
func TestCartTaxInclusiveAndExclusive(t *testing.T) {
	w := newCostWorld(t)
	// 8.25% on 3 × 3.33 = 9.99: 0.824175 → 0.82; on 1 × 0.10: 0.00825 → 0.01 (half up per line would be 0.01).
	excl := w.shop("exclusive", "USD", "3.33", "0.10")
	w.tax(excl, "US", 825, false)
	// 20% included in 12.00: 12.00 × 2000 / 12000 = 2.00; in 0.05: 0.008333 → 0.01.
	incl := w.shop("inclusive", "EUR", "12.00", "0.05")
	w.tax(incl, "", 2000, true) // rest of the world
	t.Run("Exclusive", func(t *testing.T) {
		w.t = t
		buyer := w.person("tax_excl")
		w.add(buyer, excl.variants[0], 3, excl.variants[1], 1)
		cart := w.cart(buyer)
		w.shipTo(buyer, cart.ID, "US")
		cart = w.cart(buyer)
		if got := amounts(*cart.Lines[0].Cost.TaxAmount, *cart.Lines[1].Cost.TaxAmount, *cart.Cost.TotalTaxAmount, cart.Cost.SubtotalAmount, cart.Cost.TotalAmount); got != "0.82 0.01 0.83 10.09 10.92" {
			t.Fatalf("line taxes, tax, subtotal, total = %s", got)
		}
		out := w.checkoutCart(buyer, cart.ID, "k-excl", "US", &cart.Cost.TotalAmount)
		o := out.Checkout.Orders[0]
		if o.Total.Amount != "10.92" || o.TotalTax.Amount != "0.83" || o.TaxesIncluded || len(o.TaxLines) != 1 || o.TaxLines[0].RateBps != 825 ||
			o.TaxLines[0].Title != "VAT" || amounts(o.Lines[0].Tax, o.Lines[1].Tax) != "0.82 0.01" {
			t.Fatalf("order = %+v", o)
		}
		if charged, total := w.charged(o.ID); charged != 1092 || total != 1092 {
			t.Fatalf("charged %d, orders total %d, want 1092", charged, total)
		}
	})
	t.Run("Inclusive", func(t *testing.T) {
		w.t = t
		buyer := w.person("tax_incl")
		w.add(buyer, incl.variants[0], 1, incl.variants[1], 1)
		cart := w.cart(buyer)
		w.shipTo(buyer, cart.ID, "DE")
		cart = w.cart(buyer)
		if got := amounts(*cart.Lines[0].Cost.TaxAmount, *cart.Lines[1].Cost.TaxAmount, *cart.Cost.TotalTaxAmount, cart.Cost.TotalAmount); got != "2.00 0.01 2.01 12.05" {
			t.Fatalf("line taxes, tax, total = %s", got)
		}
		out := w.checkoutCart(buyer, cart.ID, "k-incl", "DE", &cart.Cost.TotalAmount)
		o := out.Checkout.Orders[0]
		if o.Total.Amount != "12.05" || o.TotalTax.Amount != "2.01" || !o.TaxesIncluded || o.Total.CurrencyCode != "EUR" {
			t.Fatalf("order = %+v", o)
		}
		if charged, total := w.charged(o.ID); charged != 1205 || total != 1205 {
			t.Fatalf("charged %d, orders total %d, want 1205", charged, total)
		}
	})
}

// Several shops in one cart: one delivery group and one order each, and the
// charge is the sum of the shops' totals; a cart of two currencies has no
// single cost.
func TestCartSeveralShops(t *testing.T) {
	w := newCostWorld(t)
	a := w.shop("alpha", "USD", "20.00")
	w.rate(a, "", "Worldwide", "7.00", "", "USD")
	w.tax(a, "FR", 1000, false)
	b := w.shop("beta", "USD", "30.00")
	w.rate(b, "FR", "Colissimo", "4.50", "25.00", "USD") // free: 30 ≥ 25
	c := w.shop("gamma", "EUR", "5.00")

	buyer := w.person("several")
	w.add(buyer, a.variants[0], 1, b.variants[0], 1)
	cart := w.cart(buyer)
	w.shipTo(buyer, cart.ID, "FR")
	cart = w.cart(buyer)
	if len(cart.DeliveryGroups) != 2 || cart.DeliveryGroups[0].Shop.Name != "Alpha Shop" || cart.DeliveryGroups[1].Shop.Name != "Beta Shop" {
		t.Fatalf("groups = %+v", cart.DeliveryGroups)
	}
	// alpha: 20 + 7 + 2 tax = 29; beta: 30 + 0 = 30.
	if got := amounts(cart.DeliveryGroups[0].TotalAmount, cart.DeliveryGroups[1].TotalAmount, *cart.Cost.TotalShippingAmount, *cart.Cost.TotalTaxAmount, cart.Cost.TotalAmount); got != "29.00 30.00 7.00 2.00 59.00" {
		t.Fatalf("group totals, shipping, tax, total = %s", got)
	}
	out := w.checkoutCart(buyer, cart.ID, "k-several", "FR", &cart.Cost.TotalAmount)
	if len(out.Checkout.Orders) != 2 || out.Checkout.Orders[0].Total.Amount != "29.00" || out.Checkout.Orders[1].Total.Amount != "30.00" {
		t.Fatalf("checkout = %+v", out)
	}
	if charged, total := w.charged(out.Checkout.Orders[0].ID); charged != 5900 || total != 5900 {
		t.Fatalf("charged %d, orders total %d, want 5900", charged, total)
	}

	t.Run("TwoCurrencies", func(t *testing.T) {
		w.t = t
		buyer := w.person("twocurrencies")
		w.add(buyer, a.variants[0], 1, c.variants[0], 2)
		cart := w.cart(buyer)
		if cart.Cost != nil || len(cart.DeliveryGroups) != 2 || cart.DeliveryGroups[1].TotalAmount != (money{"10.00", "EUR"}) {
			t.Fatalf("a two-currency cart: %+v", cart)
		}
	})
}

// An address a shop does not ship to is a user error naming the shop, and
// nothing is written.
func TestCheckoutAddressNotShippedTo(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("homebody", "USD", "10.00")
	w.rate(s, "US", "Standard", "5.00", "", "USD")
	buyer := w.person("faraway")
	w.add(buyer, s.variants[0], 1)
	cart := w.cart(buyer)
	w.shipTo(buyer, cart.ID, "JP")
	cart = w.cart(buyer)
	if len(cart.DeliveryGroups[0].DeliveryOptions) != 0 || cart.DeliveryGroups[0].SelectedDeliveryOption != nil {
		t.Fatalf("a shop that does not ship to JP shows options: %+v", cart.DeliveryGroups[0])
	}
	before := w.counts()
	for _, expected := range []*money{nil, &cart.Cost.TotalAmount} {
		out := w.checkoutCart(buyer, cart.ID, fmt.Sprintf("k-jp-%v", expected != nil), "JP", expected)
		errs := out.Checkout.UserErrors
		if len(out.Checkout.Orders) != 0 || len(errs) != 1 || errs[0].Code != "NO_DELIVERY_AVAILABLE" ||
			strings.Join(errs[0].Field, ".") != "input.shippingAddress.countryCode" || !strings.Contains(errs[0].Message, "Homebody Shop does not ship to JP") {
			t.Fatalf("checkout = %+v", out)
		}
	}
	if after := w.counts(); after != before {
		t.Fatalf("a refused checkout wrote: %s, then %s", before, after)
	}
}

// A price that changes between the cart and the checkout refuses the
// checkout, listing the line, and writes nothing; the new total is then
// charged exactly.
func TestCheckoutPriceChangedUnderIt(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("mover", "USD", "10.00", "20.00")
	buyer := w.person("watcher")
	w.add(buyer, s.variants[0], 1, s.variants[1], 1)
	cart := w.cart(buyer)
	w.shipTo(buyer, cart.ID, "US")
	cart = w.cart(buyer)
	shown := cart.Cost.TotalAmount
	if shown.Amount != "30.00" {
		t.Fatalf("total = %+v", cart.Cost)
	}
	// The second item's price goes up after the buyer saw the cart.
	if _, err := w.db.ExecContext(context.Background(), `UPDATE product_variants SET price_amount = 2500 WHERE id = $1`, mustGlobalID(t, s.variants[1])); err != nil {
		t.Fatal(err)
	}
	before := w.counts()
	out := w.checkoutCart(buyer, cart.ID, "k-moved", "US", &shown)
	errs := out.Checkout.UserErrors
	if len(out.Checkout.Orders) != 0 || len(errs) != 2 || errs[0].Code != "TOTAL_CHANGED" || strings.Join(errs[0].Field, ".") != "input.expectedTotal" ||
		errs[1].Code != "PRICE_CHANGED" || !strings.Contains(errs[1].Message, "mover item 1") || !strings.Contains(errs[1].Message, "25.00") {
		t.Fatalf("checkout = %+v", out)
	}
	if after := w.counts(); after != before {
		t.Fatalf("a refused checkout wrote: %s, then %s", before, after)
	}
	// The buyer sees the new total and checks out with it: charged exactly that.
	cart = w.cart(buyer)
	if cart.Cost.TotalAmount.Amount != "35.00" {
		t.Fatalf("total now = %+v", cart.Cost)
	}
	out = w.checkoutCart(buyer, cart.ID, "k-moved-2", "US", &cart.Cost.TotalAmount)
	if len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].Total.Amount != "35.00" {
		t.Fatalf("checkout = %+v", out)
	}
	if charged, total := w.charged(out.Checkout.Orders[0].ID); charged != 3500 || total != 3500 {
		t.Fatalf("charged %d, orders total %d, want 3500", charged, total)
	}
	// Cancelling refunds the order's total, shipping and tax included.
	var cancel struct {
		CancelOrder struct{ Order struct{ Status string } }
	}
	w.gql(buyer, `mutation($id: ID!) { cancelOrder(id: $id) { order { status } } }`, map[string]any{"id": out.Checkout.Orders[0].ID}, &cancel)
	var refunded int64
	if err := w.db.GetContext(context.Background(), &refunded, `SELECT amount FROM refunds WHERE order_id = $1`, mustGlobalID(t, out.Checkout.Orders[0].ID)); err != nil {
		t.Fatal(err)
	}
	if refunded != 3500 {
		t.Fatalf("refund owed = %d, want 3500", refunded)
	}
}

// Saved addresses: a default one, the cart priced for it, checkout by
// addressId; another person's address is refused as if it did not exist,
// and nothing is written.
func TestSavedAddressCheckout(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("addressed", "USD", "10.00")
	w.rate(s, "CA", "Canada Post", "8.00", "", "USD")
	w.rate(s, "US", "USPS", "3.00", "", "USD")
	buyer := w.person("saver")
	other := w.person("snooper")
	create := func(token, country string, makeDefault bool) string {
		var out struct {
			CustomerAddressCreate struct {
				CustomerAddress *struct {
					ID        string
					IsDefault bool
				}
				UserErrors []costUserError
			}
		}
		w.gql(token, `mutation($a: AddressInput!, $d: Boolean) { customerAddressCreate(address: $a, defaultAddress: $d) { customerAddress { id isDefault } userErrors { field message code } } }`,
			map[string]any{"a": costAddress(country), "d": makeDefault}, &out)
		if out.CustomerAddressCreate.CustomerAddress == nil {
			t.Fatalf("customerAddressCreate: %+v", out)
		}
		return out.CustomerAddressCreate.CustomerAddress.ID
	}
	us := create(buyer, "US", false) // the first is the default
	ca := create(buyer, "CA", false)
	theirs := create(other, "US", false)

	var me struct {
		Viewer struct {
			DefaultAddress struct{ ID string }
			Addresses      struct {
				Edges []struct {
					Node struct{ ID, CountryCode string }
				}
			}
		}
	}
	w.gql(buyer, `{ viewer { defaultAddress { id } addresses { edges { node { id countryCode } } } } }`, nil, &me)
	if me.Viewer.DefaultAddress.ID != us || len(me.Viewer.Addresses.Edges) != 2 {
		t.Fatalf("viewer = %+v", me)
	}
	w.add(buyer, s.variants[0], 1)
	cart := w.cart(buyer)
	if cart.DeliveryCountryCode == nil || *cart.DeliveryCountryCode != "US" || cart.Cost.TotalAmount.Amount != "13.00" {
		t.Fatalf("the cart is not priced for the default address: %+v", cart)
	}
	var def struct {
		CustomerDefaultAddressUpdate struct {
			Customer struct{ DefaultAddress struct{ ID string } }
		}
	}
	w.gql(buyer, `mutation($id: ID!) { customerDefaultAddressUpdate(addressId: $id) { customer { defaultAddress { id } } } }`, map[string]any{"id": ca}, &def)
	if def.CustomerDefaultAddressUpdate.Customer.DefaultAddress.ID != ca {
		t.Fatalf("default = %+v", def)
	}
	cart = w.cart(buyer)
	if cart.Cost.TotalAmount.Amount != "18.00" {
		t.Fatalf("the cart is not priced for the new default: %+v", cart.Cost)
	}

	t.Run("AnothersAddressRefused", func(t *testing.T) {
		before := w.counts()
		in := map[string]any{"cartId": cart.ID, "idempotencyKey": "k-theirs", "addressId": theirs, "payment": map[string]any{"token": "tok_ok"},
			"expectedTotal": map[string]any{"amount": "13.00", "currencyCode": "USD"}}
		r := send(t, w.base, queryBody(costCheckoutMutation, map[string]any{"in": in}), map[string]string{"Authorization": "Bearer " + buyer})
		if r.code() != "NOT_FOUND" || strings.Contains(string(r.Raw), "Ana Buyer") {
			t.Fatalf("checkout with another's address: %s", r.Raw)
		}
		for _, doc := range []string{
			`mutation($id: ID!) { customerAddressUpdate(id: $id, address: {name: "x", line1: "x", city: "x", postalCode: "1", countryCode: "US"}) { customerAddress { id } } }`,
			`mutation($id: ID!) { customerAddressDelete(id: $id) { deletedCustomerAddressId } }`,
			`mutation($id: ID!) { customerDefaultAddressUpdate(addressId: $id) { customer { id } } }`,
		} {
			if r := send(t, w.base, queryBody(doc, map[string]any{"id": theirs}), map[string]string{"Authorization": "Bearer " + buyer}); r.code() != "NOT_FOUND" {
				t.Fatalf("%s on another's address: %s", doc, r.Raw)
			}
		}
		r = send(t, w.base, queryBody(`mutation($c: ID!, $a: ID) { cartDeliveryAddressUpdate(cartId: $c, deliveryAddressId: $a) { cart { id } } }`,
			map[string]any{"c": cart.ID, "a": theirs}), map[string]string{"Authorization": "Bearer " + buyer})
		if r.code() != "NOT_FOUND" {
			t.Fatalf("cart shipped to another's address: %s", r.Raw)
		}
		r = send(t, w.base, queryBody(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": theirs}), map[string]string{"Authorization": "Bearer " + buyer})
		if string(r.Data) != `{"node":null}` {
			t.Fatalf("node(another's address) = %s", r.Raw)
		}
		if after := w.counts(); after != before {
			t.Fatalf("a refused checkout wrote: %s, then %s", before, after)
		}
	})

	t.Run("CheckoutByAddressID", func(t *testing.T) {
		in := map[string]any{"cartId": cart.ID, "idempotencyKey": "k-saved", "addressId": ca, "payment": map[string]any{"token": "tok_ok"},
			"expectedTotal": map[string]any{"amount": cart.Cost.TotalAmount.Amount, "currencyCode": "USD"}}
		var out checkoutReply
		w.gql(buyer, costCheckoutMutation, map[string]any{"in": in}, &out)
		if len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].Total.Amount != "18.00" || out.Checkout.Orders[0].ShippingLine.Title != "Canada Post" {
			t.Fatalf("checkout = %+v", out)
		}
		var country string
		if err := w.db.GetContext(context.Background(), &country, `SELECT shipping_address->>'countryCode' FROM orders WHERE id = $1`,
			mustGlobalID(t, out.Checkout.Orders[0].ID)); err != nil || country != "CA" {
			t.Fatalf("order ships to %q (%v)", country, err)
		}
		if charged, total := w.charged(out.Checkout.Orders[0].ID); charged != 1800 || total != 1800 {
			t.Fatalf("charged %d, orders total %d, want 1800", charged, total)
		}
	})
}

// Shipping and tax rates are public to read and changed only by the shop's
// managers: another seller is FORBIDDEN and nothing changes.
func TestShippingAndTaxRatesAreTheShopsToChange(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("guarded", "USD", "10.00")
	rate := w.rate(s, "US", "Standard", "5.00", "", "USD")
	w.tax(s, "US", 500, false)
	intruder := w.person("intruder")
	auth := map[string]string{"Authorization": "Bearer " + intruder}
	for _, c := range []struct{ doc string }{
		{`mutation($shop: ID!) { shippingRateCreate(shopId: $shop, input: {name: "Mine", price: {amount: "0.00", currencyCode: "USD"}}) { shippingRate { id } } }`},
		{`mutation($rate: ID!) { shippingRateUpdate(id: $rate, input: {name: "Mine", price: {amount: "0.00", currencyCode: "USD"}}) { shippingRate { id } } }`},
		{`mutation($rate: ID!) { shippingRateDelete(id: $rate) { deletedId } }`},
		{`mutation($shop: ID!) { taxRateSet(shopId: $shop, countryCode: "US", rateBps: 0) { taxRate { id } } }`},
		{`mutation($shop: ID!) { shopTaxesIncludedUpdate(shopId: $shop, taxesIncluded: true) { shop { id } } }`},
	} {
		vars := map[string]any{"shop": s.id}
		if strings.Contains(c.doc, "$rate") {
			vars = map[string]any{"rate": rate}
		}
		if r := send(t, w.base, queryBody(c.doc, vars), auth); r.code() != "FORBIDDEN" {
			t.Errorf("%s by another seller: %s", c.doc, r.Raw)
		}
	}
	var shop struct {
		Node struct {
			TaxesIncluded bool
			ShippingRates []struct {
				ID, Name string
				Price    money
			}
			TaxRates []struct {
				CountryCode string
				RateBps     int
			}
		}
	}
	w.gql("", `query($id: ID!) { node(id: $id) { ... on Shop { taxesIncluded shippingRates { id name price { amount currencyCode } } taxRates { countryCode rateBps } } } }`,
		map[string]any{"id": s.id}, &shop)
	if n := shop.Node; n.TaxesIncluded || len(n.ShippingRates) != 1 || n.ShippingRates[0].ID != rate || n.ShippingRates[0].Price.Amount != "5.00" ||
		len(n.TaxRates) != 1 || n.TaxRates[0].RateBps != 500 {
		t.Fatalf("the shop's rates after the intruder: %+v", n)
	}
	// The owner's own changes: a rate in another currency is refused.
	var out struct {
		ShippingRateCreate struct{ UserErrors []costUserError }
	}
	w.gql(s.token, `mutation($shop: ID!) { shippingRateCreate(shopId: $shop, input: {name: "Euro", price: {amount: "1.00", currencyCode: "EUR"}}) { userErrors { field message code } } }`,
		map[string]any{"shop": s.id}, &out)
	if errs := out.ShippingRateCreate.UserErrors; len(errs) != 1 || errs[0].Code != "CURRENCY_MISMATCH" {
		t.Fatalf("a rate in euros for a dollar shop: %+v", out)
	}
}
