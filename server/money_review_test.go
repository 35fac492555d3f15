package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Orders with nothing to pay: a code that takes the whole subtotal off at
// a shop that ships free leaves a total of 0.00. The checkout places the
// order without asking the payment provider to charge 0 (Stripe refuses a
// charge that is not positive: the buyer would be told the payment was
// declined), and cancelling it refunds nothing and answers no internal
// error; the order ends REFUNDED at once, as there is nothing to send. The
// same for a free order checked out together with a paid one: the charge
// is the paid one's total, and each cancels with its own refund.
func TestDiscountWholeSubtotalFreeOrder(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("freeorder", "USD", "10.00")
	paid := w.shop("paidshop", "USD", "7.00")
	w.discountCode(s, discountInput("ALLOFF", map[string]any{"percentBps": 10000}))
	w.discountCode(s, discountInput("TENOFF", map[string]any{"amount": map[string]any{"amount": "10.00", "currencyCode": "USD"}}))

	cancel := func(token, orderID string) string {
		t.Helper()
		var out struct {
			CancelOrder struct {
				Order      *struct{ Status string }
				UserErrors []costUserError
			}
		}
		w.gql(token, `mutation($id: ID!) { cancelOrder(id: $id) { order { status } userErrors { field message code } } }`, map[string]any{"id": orderID}, &out)
		if out.CancelOrder.Order == nil {
			t.Fatalf("cancelOrder: %+v", out)
		}
		return out.CancelOrder.Order.Status
	}
	refunds := func(orderID string) (n int, sum int64) {
		t.Helper()
		if err := w.db.QueryRowContext(context.Background(), `SELECT count(*), coalesce(sum(amount), 0) FROM refunds WHERE order_id = $1`,
			mustGlobalID(t, orderID)).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		return n, sum
	}

	for _, code := range []string{"ALLOFF", "TENOFF"} {
		buyer := w.person("free" + strings.ToLower(code))
		w.add(buyer, s.variants[0], 1)
		cart := w.cart(buyer)
		w.shipTo(buyer, cart.ID, "US")
		if errs := w.setCodes(buyer, cart.ID, code); len(errs) > 0 {
			t.Fatalf("%s: cartDiscountCodesUpdate: %+v", code, errs)
		}
		c := w.discountCart(buyer)
		if c.Cost.TotalAmount.Amount != "0.00" {
			t.Fatalf("%s: cart total %s, want 0.00", code, c.Cost.TotalAmount.Amount)
		}
		before := w.counts()
		out := w.discountCheckout(buyer, cart.ID, "free-"+code, "tok_ok", "0.00")
		if len(out.Checkout.UserErrors) > 0 || len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].Status != "PAID" || out.Checkout.Orders[0].Total.Amount != "0.00" {
			t.Fatalf("%s: checkout: %+v", code, out)
		}
		var charges int
		if err := w.db.GetContext(context.Background(), &charges, `SELECT count(*) FROM test_provider_charges c JOIN payments p ON p.provider_key = c.idempotency_key
			JOIN orders o ON o.checkout_id = p.checkout_id WHERE o.id = $1`, mustGlobalID(t, out.Checkout.Orders[0].ID)); err != nil {
			t.Fatal(err)
		}
		if charges != 0 {
			t.Fatalf("%s: the provider was asked to charge 0.00 (%d charges; counts before %s, after %s)", code, charges, before, w.counts())
		}
		// A retry with the same key replays the order.
		again := w.discountCheckout(buyer, cart.ID, "free-"+code, "tok_ok", "0.00")
		if len(again.Checkout.Orders) != 1 || again.Checkout.Orders[0].ID != out.Checkout.Orders[0].ID {
			t.Fatalf("%s: retry: %+v", code, again)
		}
		if st := cancel(buyer, out.Checkout.Orders[0].ID); st != "REFUNDED" {
			t.Fatalf("%s: cancelled free order is %s, want REFUNDED (nothing to refund)", code, st)
		}
		if n, sum := refunds(out.Checkout.Orders[0].ID); n != 0 || sum != 0 {
			t.Fatalf("%s: refunds %d of %d for a free order", code, n, sum)
		}
	}

	// A free order and a paid one in one checkout: one charge of the paid
	// order's total; each cancels on its own.
	buyer := w.person("mixedfree")
	w.add(buyer, s.variants[0], 1, paid.variants[0], 1)
	cart := w.cart(buyer)
	w.shipTo(buyer, cart.ID, "US")
	if errs := w.setCodes(buyer, cart.ID, "ALLOFF"); len(errs) > 0 {
		t.Fatalf("cartDiscountCodesUpdate: %+v", errs)
	}
	out := w.discountCheckout(buyer, cart.ID, "mixed-1", "tok_ok", "7.00")
	if len(out.Checkout.UserErrors) > 0 || len(out.Checkout.Orders) != 2 {
		t.Fatalf("mixed checkout: %+v", out)
	}
	for _, o := range out.Checkout.Orders {
		if charged, total := w.charged(o.ID); charged != 700 || total != 700 {
			t.Fatalf("charged %d, orders' total %d; want 700", charged, total)
		}
		want, wantSum := "REFUNDED", int64(0)
		if o.Total.Amount != "0.00" {
			want, wantSum = "REFUNDED", 700
		}
		if st := cancel(buyer, o.ID); st != want {
			t.Fatalf("order of %s cancelled: %s, want %s", o.Total.Amount, st, want)
		}
		if _, sum := refunds(o.ID); sum != wantSum {
			t.Fatalf("order of %s refunded %d, want %d", o.Total.Amount, sum, wantSum)
		}
	}
}

// A paid cart checkout uses the cart's codes up: they leave the cart with
// the lines they discounted (as a Shopify cart is done with at checkout).
// Left on it, a code limited to one use per buyer made the buyer's next
// cart checkout fail with DISCOUNT_UNAVAILABLE until they removed a code
// they had not entered for it; a code without limits discounted the next
// cart unasked. A code entered while the first checkout was pending stays.
func TestPaidCartCheckoutClearsItsCodes(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("usedcodes", "USD", "10.00", "4.00")
	w.discountCode(s, discountInput("WELCOME", map[string]any{"percentBps": 1000, "perBuyerLimit": 1}))
	for _, who := range []string{"person", "guest"} {
		var token, cartID string
		if who == "person" {
			token = w.person("usedcodebuyer")
			w.add(token, s.variants[0], 1)
			cartID = w.cart(token).ID
		} else {
			cartID = w.guestCart(s.variants[0], 1)
		}
		if errs := w.setCodes(token, cartID, "WELCOME"); len(errs) > 0 {
			t.Fatalf("%s: cartDiscountCodesUpdate: %+v", who, errs)
		}
		first := w.codesCheckout(token, cartID, who+"-1")
		if len(first.Checkout.UserErrors) > 0 || len(first.Checkout.Orders) != 1 || first.Checkout.Orders[0].TotalDiscounts.Amount != "1.00" {
			t.Fatalf("%s: first checkout: %+v", who, first)
		}
		if codes := w.cartCodes(token, cartID); len(codes) != 0 {
			t.Fatalf("%s: the paid checkout left its codes on the cart: %v", who, codes)
		}
		w.addTo(token, cartID, s.variants[1], 1)
		second := w.codesCheckout(token, cartID, who+"-2")
		if len(second.Checkout.UserErrors) > 0 || len(second.Checkout.Orders) != 1 || second.Checkout.Orders[0].TotalDiscounts.Amount != "0.00" {
			t.Fatalf("%s: second checkout: %+v", who, second)
		}
	}
}

func (w *costWorld) guestCart(variant string, qty int) string {
	w.t.Helper()
	return createGuestCart(w.t, w.base, variant, qty).ID
}

// cartCodes are the codes entered on a cart, by its ID.
func (w *costWorld) cartCodes(token, cartID string) []string {
	w.t.Helper()
	var out struct {
		Cart struct{ DiscountCodes []struct{ Code string } }
	}
	w.gql(token, `query($c: ID!) { cart(id: $c) { discountCodes { code } } }`, map[string]any{"c": cartID}, &out)
	var codes []string
	for _, c := range out.Cart.DiscountCodes {
		codes = append(codes, c.Code)
	}
	return codes
}

// addTo adds a line to a cart given by its ID (a person's or a guest's).
func (w *costWorld) addTo(token, cartID, variant string, qty int) {
	w.t.Helper()
	var out struct {
		CartLinesAdd struct{ UserErrors []struct{ Message string } }
	}
	w.gql(token, `mutation($c: ID, $l: [CartLineInput!]!) { cartLinesAdd(cartId: $c, lines: $l) { userErrors { message } } }`,
		map[string]any{"c": cartID, "l": []map[string]any{{"variantId": variant, "quantity": qty}}}, &out)
	if len(out.CartLinesAdd.UserErrors) > 0 {
		w.t.Fatalf("cartLinesAdd: %+v", out)
	}
}

// codesCheckout checks out a cart by its ID: a guest's (token "") with an
// email.
func (w *costWorld) codesCheckout(token, cartID, key string) discountCheckoutReply {
	w.t.Helper()
	in := map[string]any{"cartId": cartID, "idempotencyKey": key, "shippingAddress": costAddress("US"), "payment": map[string]any{"token": "tok_ok"}}
	if token == "" {
		in["email"] = "codes-guest@example.com"
	}
	var out discountCheckoutReply
	w.gql(token, discountCheckoutMutation, map[string]any{"in": in}, &out)
	return out
}

// A usage limit under retries: 10 guests check out at once on a code
// limited to 5, each sending its request three times at once with the
// same idempotencyKey (a client retrying on a timeout). Each guest's three
// replies agree (one order, or the same refusal), exactly 5 guests are
// discounted, the code is used 5 times and the provider charged 5 times.
// (The guests share the test's one address: one caller to the rate limits
// and to admission's per-caller places, both raised here.)
func TestDiscountUsageLimitUnderConcurrentRetries(t *testing.T) {
	base, db, variant, _, _ := guestFixture(t, map[string]string{"RATE_LIMIT_RPS": "1000", "RATE_LIMIT_BURST": "1000", "AUTH_RATE_LIMIT_BURST": "1000",
		"GRAPHQL_MAX_QUEUED_PER_CALLER": "1000"})
	ctx := context.Background()
	var shopID int64
	var currency string
	if err := db.QueryRowContext(ctx, `SELECT p.shop_id, v.currency_code FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = $1`,
		mustGlobalID(t, variant)).Scan(&shopID, &currency); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE product_variants SET stock = 1000 WHERE id = $1`, mustGlobalID(t, variant)); err != nil {
		t.Fatal(err)
	}
	var code int64
	if err := db.QueryRowContext(ctx, `INSERT INTO discount_codes (shop_id, code, kind, percent_bps, currency_code, usage_limit)
		VALUES ($1, 'RETRY5', 'PERCENTAGE', 1000, $2, 5) RETURNING id`, shopID, currency).Scan(&code); err != nil {
		t.Fatal(err)
	}
	const guests, copies = 10, 3
	var carts []string
	for i := 0; i < guests; i++ {
		carts = append(carts, guestDiscountCart(t, base, variant, "retry5"))
	}
	answers := make([][]string, guests)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < guests; i++ {
		for k := 0; k < copies; k++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				in := guestCheckoutInput(carts[i], fmt.Sprintf("retry-%d", i), fmt.Sprintf("retry%d@example.com", i))
				r := guestPost(t, base, "", `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { id totalDiscounts { amount } } userErrors { code } } }`, in)
				var p struct {
					Orders []struct {
						ID             string
						TotalDiscounts struct{ Amount string }
					}
					UserErrors []struct{ Code string }
				}
				if r.Status != http.StatusOK || len(r.Errors) > 0 {
					t.Errorf("checkout %d: %s", i, r.Raw)
					return
				}
				r.field(t, "checkout", &p)
				answer := "?"
				switch {
				case len(p.Orders) == 1:
					answer = p.Orders[0].ID + " " + p.Orders[0].TotalDiscounts.Amount
				case len(p.UserErrors) > 0:
					answer = p.UserErrors[0].Code
				}
				mu.Lock()
				answers[i] = append(answers[i], answer)
				mu.Unlock()
			}(i)
		}
	}
	close(start)
	wg.Wait()
	discounted := 0
	for i, a := range answers {
		for _, x := range a {
			if x != a[0] {
				t.Errorf("guest %d got different answers for one key: %v", i, a)
			}
		}
		if len(a) > 0 && !strings.HasSuffix(a[0], " 0.00") && strings.Contains(a[0], " ") {
			discounted++
		}
	}
	var uses, orders, charges int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT uses FROM discount_codes WHERE id = $1),
		(SELECT count(*) FROM orders WHERE status = 'PAID'), (SELECT count(*) FROM test_provider_charges)`, code).Scan(&uses, &orders, &charges); err != nil {
		t.Fatal(err)
	}
	if discounted != 5 || uses != 5 || orders != 5 || charges != 5 {
		t.Fatalf("discounted guests %d, uses %d, paid orders %d, charges %d; want 5 each (answers %v)", discounted, uses, orders, charges, answers)
	}
}

// A per-buyer limit holds across a person and a guest with the person's
// email: a person who used a code once-per-buyer cannot use it again by
// checking out signed out with their email, and a guest's use by an email
// counts for the account with that email (as Shopify counts a customer's
// uses by the customer and its email).
func TestPerBuyerLimitAcrossGuestAndPerson(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("perbuyershop", "USD", "10.00")
	w.discountCode(s, discountInput("ONCEEACH", map[string]any{"percentBps": 1000, "perBuyerLimit": 1}))

	// The person first, then a guest with their email.
	person := w.person("perbuyerone")
	w.add(person, s.variants[0], 1)
	cart := w.cart(person)
	if errs := w.setCodes(person, cart.ID, "ONCEEACH"); len(errs) > 0 {
		t.Fatalf("cartDiscountCodesUpdate: %+v", errs)
	}
	if out := w.codesCheckout(person, cart.ID, "pb-1"); len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].TotalDiscounts.Amount != "1.00" {
		t.Fatalf("person's checkout: %+v", out)
	}
	guestCart := w.guestCart(s.variants[0], 1)
	if errs := w.setCodes("", guestCart, "ONCEEACH"); len(errs) > 0 {
		t.Fatalf("guest cartDiscountCodesUpdate: %+v", errs)
	}
	in := map[string]any{"cartId": guestCart, "idempotencyKey": "pb-guest", "shippingAddress": costAddress("US"), "payment": map[string]any{"token": "tok_ok"},
		"email": " PerBuyerOne@Example.com"}
	var out discountCheckoutReply
	w.gql("", discountCheckoutMutation, map[string]any{"in": in}, &out)
	if len(out.Checkout.Orders) != 0 || len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "DISCOUNT_UNAVAILABLE" {
		t.Fatalf("a guest with the person's email used the code again: %+v", out)
	}

	// A guest first, then the account with that email.
	other := w.guestCart(s.variants[0], 1)
	if errs := w.setCodes("", other, "ONCEEACH"); len(errs) > 0 {
		t.Fatalf("guest cartDiscountCodesUpdate: %+v", errs)
	}
	in = map[string]any{"cartId": other, "idempotencyKey": "pb-guest-2", "shippingAddress": costAddress("US"), "payment": map[string]any{"token": "tok_ok"},
		"email": "perbuyertwo@example.com"}
	out = discountCheckoutReply{}
	w.gql("", discountCheckoutMutation, map[string]any{"in": in}, &out)
	if len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].TotalDiscounts.Amount != "1.00" {
		t.Fatalf("guest's checkout: %+v", out)
	}
	second := w.person("perbuyertwo")
	w.add(second, s.variants[0], 1)
	if errs := w.setCodes(second, w.cart(second).ID, "ONCEEACH"); len(errs) != 1 || errs[0].Code != "DISCOUNT_LIMIT_REACHED" {
		t.Fatalf("the account of an email that used the code: %+v, want DISCOUNT_LIMIT_REACHED", errs)
	}
}
