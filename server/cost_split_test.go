package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// checkoutLines checks out lines (variant, quantity, ...) bought directly,
// to an address in country, expecting the total shown (nil: none).
func (w *costWorld) checkoutLines(token, key, country string, expected *money, pairs ...any) checkoutReply {
	w.t.Helper()
	var lines []map[string]any
	for i := 0; i < len(pairs); i += 2 {
		lines = append(lines, map[string]any{"variantId": pairs[i], "quantity": pairs[i+1]})
	}
	in := map[string]any{"lines": lines, "idempotencyKey": key, "shippingAddress": costAddress(country), "payment": map[string]any{"token": "tok_ok"}}
	if expected != nil {
		in["expectedTotal"] = map[string]any{"amount": expected.Amount, "currencyCode": expected.CurrencyCode}
	}
	var out checkoutReply
	w.gql(token, costCheckoutMutation, map[string]any{"in": in}, &out)
	return out
}

// Tax is rounded per line, so a variant may be on one line of a checkout
// only: 50 × $0.06 at 7.25% is taxed $0.22 as one line, and the same
// quantity sent as 50 lines of 1 (each taxed $0.00) is refused, not
// charged $0.22 less tax.
func TestCheckoutRepeatedVariantRefused(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("pennies", "USD", "0.06")
	w.tax(s, "US", 725, false)
	buyer := w.person("splitter")
	v := s.variants[0]

	split := make([]any, 0, 100)
	for i := 0; i < 50; i++ {
		split = append(split, v, 1)
	}
	before := w.counts()
	out := w.checkoutLines(buyer, "k-split", "US", nil, split...)
	errs := out.Checkout.UserErrors
	if len(out.Checkout.Orders) != 0 || len(errs) == 0 {
		t.Fatalf("50 lines of one variant: %+v", out)
	}
	for i, e := range errs {
		if want := fmt.Sprintf("input.lines.%d.variantId", i+1); e.Code != "INVALID" || strings.Join(e.Field, ".") != want {
			t.Fatalf("error %d = %+v, want INVALID on %s", i, e, want)
		}
	}
	if after := w.counts(); after != before {
		t.Fatalf("a refused checkout wrote: %s, then %s", before, after)
	}
	// Two lines of the same variant are refused too, on the second.
	out = w.checkoutLines(buyer, "k-two", "US", nil, v, 30, v, 20)
	if errs := out.Checkout.UserErrors; len(out.Checkout.Orders) != 0 || len(errs) != 1 || strings.Join(errs[0].Field, ".") != "input.lines.1.variantId" {
		t.Fatalf("two lines of one variant: %+v", out)
	}

	out = w.checkoutLines(buyer, "k-whole", "US", nil, v, 50)
	if len(out.Checkout.UserErrors) > 0 || len(out.Checkout.Orders) != 1 {
		t.Fatalf("one line of 50: %+v", out)
	}
	if o := out.Checkout.Orders[0]; o.TotalTax.Amount != "0.22" || o.Total.Amount != "3.22" {
		t.Fatalf("order = %+v, want tax 0.22, total 3.22", o)
	}
}

// A checkout mixing currencies is CURRENCY_MISMATCH, whatever total the
// buyer says they saw: totals in two currencies are never added up into a
// TOTAL_CHANGED message.
func TestCheckoutMixedCurrenciesWithExpectedTotal(t *testing.T) {
	w := newCostWorld(t)
	usd := w.shop("dollars", "USD", "40.69")
	eur := w.shop("euros", "EUR", "105.89")
	buyer := w.person("mixer")
	w.add(buyer, usd.variants[0], 1, eur.variants[0], 1)
	cart := w.cart(buyer)
	shown := money{"40.69", "USD"}
	before := w.counts()
	check := func(name string, out checkoutReply, field string) {
		t.Helper()
		errs := out.Checkout.UserErrors
		if len(out.Checkout.Orders) != 0 || len(errs) != 1 || errs[0].Code != "CURRENCY_MISMATCH" || strings.Join(errs[0].Field, ".") != field {
			t.Fatalf("%s: %+v", name, out)
		}
		if strings.Contains(errs[0].Message, "146.58") {
			t.Fatalf("%s: a total summed across currencies: %q", name, errs[0].Message)
		}
	}
	check("cart", w.checkoutCart(buyer, cart.ID, "k-mixed-cart", "US", &shown), "input.cartId")
	check("lines", w.checkoutLines(buyer, "k-mixed-lines", "US", &shown, usd.variants[0], 1, eur.variants[0], 1), "input.lines")
	check("lines, the total right in one currency", w.checkoutLines(buyer, "k-mixed-eur", "US", &money{"105.89", "EUR"}, usd.variants[0], 1, eur.variants[0], 1), "input.lines")
	if after := w.counts(); after != before {
		t.Fatalf("a refused checkout wrote: %s, then %s", before, after)
	}
}

// A delivery group's ID names its cart: two carts' groups for one shop
// differ, a guest cart's carries no key, and a cart's selection takes its
// own groups only.
func TestCartDeliveryGroupIDsPerCart(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("shared", "USD", "80.00")
	w.rate(s, "US", "Standard", "5.00", "50.00", "USD")
	w.rate(s, "US", "Express", "15.00", "", "USD")
	ana, bo := w.person("ana_groups"), w.person("bo_groups")
	var carts [2]cartView
	for i, buyer := range []string{ana, bo} {
		w.add(buyer, s.variants[0], 1)
		c := w.cart(buyer)
		w.shipTo(buyer, c.ID, "US")
		carts[i] = w.cart(buyer)
	}
	anaGroup, boGroup := carts[0].DeliveryGroups[0], carts[1].DeliveryGroups[0]
	if anaGroup.ID == boGroup.ID {
		t.Fatalf("two carts' groups for one shop share the ID %q", anaGroup.ID)
	}

	// A guest cart's group: its own ID, without the cart's key.
	var guest struct {
		CartCreate struct {
			Cart struct {
				ID             string
				DeliveryGroups []struct{ ID string }
			}
		}
	}
	w.gql("", `mutation($l: [CartLineInput!]) { cartCreate(lines: $l) { cart { id deliveryGroups { id } } } }`,
		map[string]any{"l": []map[string]any{{"variantId": s.variants[0], "quantity": 1}}}, &guest)
	gc := guest.CartCreate.Cart
	if len(gc.DeliveryGroups) != 1 {
		t.Fatalf("guest cart = %+v", gc)
	}
	rawCart, _ := base64.RawURLEncoding.DecodeString(gc.ID)
	rawGroup, _ := base64.RawURLEncoding.DecodeString(gc.DeliveryGroups[0].ID)
	_, key, _ := strings.Cut(string(rawCart), "?key=")
	if key == "" || strings.Contains(string(rawGroup), key) || gc.DeliveryGroups[0].ID == anaGroup.ID || gc.DeliveryGroups[0].ID == boGroup.ID {
		t.Fatalf("guest cart %q has the group %q (%q)", rawCart, gc.DeliveryGroups[0].ID, rawGroup)
	}

	express := func(g struct {
		ID              string
		Shop            struct{ Name string }
		DeliveryOptions []struct {
			Handle, Title string
			EstimatedCost money
		}
		SelectedDeliveryOption *struct{ Handle, Title string }
		TotalAmount            money
		TotalTaxAmount         *money
	}) string {
		for _, o := range g.DeliveryOptions {
			if o.Title == "Express" {
				return o.Handle
			}
		}
		t.Fatalf("no Express in %+v", g)
		return ""
	}
	const selectDoc = `mutation($c: ID!, $o: [CartSelectedDeliveryOptionInput!]!) { cartSelectedDeliveryOptionsUpdate(cartId: $c, selectedDeliveryOptions: $o) { userErrors { field message code } } }`
	body := func(cartID, groupID, handle string) string {
		b, _ := json.Marshal(map[string]any{"query": selectDoc, "variables": map[string]any{"c": cartID,
			"o": []map[string]any{{"deliveryGroupId": groupID, "deliveryOptionHandle": handle}}}})
		return string(b)
	}

	// Bo's group with Ana's cart: NOT_FOUND, nothing selected.
	r := send(t, w.base, body(carts[0].ID, boGroup.ID, express(boGroup)), map[string]string{"Authorization": "Bearer " + ana})
	if r.code() != "NOT_FOUND" {
		t.Fatalf("another cart's group: %s", r.Raw)
	}
	if got := w.cart(ana).DeliveryGroups[0].SelectedDeliveryOption.Title; got != "Standard" {
		t.Fatalf("after refusing another cart's group, Ana's selection is %s", got)
	}
	// A malformed group ID is BAD_USER_INPUT.
	if r := send(t, w.base, body(carts[0].ID, "not-an-id", express(anaGroup)), map[string]string{"Authorization": "Bearer " + ana}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("a malformed group ID: %s", r.Raw)
	}

	// Ana's own group selects Express on her cart only.
	var sel struct {
		CartSelectedDeliveryOptionsUpdate struct{ UserErrors []costUserError }
	}
	w.gql(ana, selectDoc, map[string]any{"c": carts[0].ID, "o": []map[string]any{{"deliveryGroupId": anaGroup.ID, "deliveryOptionHandle": express(anaGroup)}}}, &sel)
	if len(sel.CartSelectedDeliveryOptionsUpdate.UserErrors) > 0 {
		t.Fatalf("selecting on her own group: %+v", sel)
	}
	if a, b := w.cart(ana), w.cart(bo); a.DeliveryGroups[0].SelectedDeliveryOption.Title != "Express" || a.DeliveryGroups[0].ID != anaGroup.ID ||
		a.Cost.TotalAmount.Amount != "95.00" || b.DeliveryGroups[0].SelectedDeliveryOption.Title != "Standard" {
		t.Fatalf("after Ana chose Express: Ana %+v, Bo %+v", a.DeliveryGroups, b.DeliveryGroups)
	}

	// A delivery group is not a node.
	var node struct{ Node *struct{ ID string } }
	w.gql(ana, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": anaGroup.ID}, &node)
	if node.Node != nil {
		t.Fatalf("node(delivery group) = %+v", node.Node)
	}
}
