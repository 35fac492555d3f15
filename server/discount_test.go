package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/payment"
)

// discountInput is a DiscountCodeInput (percent or amount given as "").
func discountInput(code string, extra map[string]any) map[string]any {
	in := map[string]any{"code": code}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

// discountCode creates a code on the shop and returns its ID.
func (w *costWorld) discountCode(s costShop, in map[string]any) string {
	w.t.Helper()
	var out struct {
		DiscountCodeCreate struct {
			DiscountCode *struct{ ID string }
			UserErrors   []costUserError
		}
	}
	w.gql(s.token, `mutation($s: ID!, $in: DiscountCodeInput!) { discountCodeCreate(shopId: $s, input: $in) { discountCode { id } userErrors { field message code } } }`,
		map[string]any{"s": s.id, "in": in}, &out)
	if out.DiscountCodeCreate.DiscountCode == nil {
		w.t.Fatalf("discountCodeCreate: %+v", out)
	}
	return out.DiscountCodeCreate.DiscountCode.ID
}

// setCodes runs cartDiscountCodesUpdate and returns its user errors.
func (w *costWorld) setCodes(token, cartID string, codes ...string) []costUserError {
	w.t.Helper()
	var out struct {
		CartDiscountCodesUpdate struct{ UserErrors []costUserError }
	}
	if codes == nil {
		codes = []string{}
	}
	w.gql(token, `mutation($c: ID!, $d: [String!]!) { cartDiscountCodesUpdate(cartId: $c, discountCodes: $d) { userErrors { field message code } } }`,
		map[string]any{"c": cartID, "d": codes}, &out)
	return out.CartDiscountCodesUpdate.UserErrors
}

type discountCartView struct {
	ID            string
	DiscountCodes []struct {
		Code       string
		Applicable bool
	}
	DiscountAllocations []struct {
		Code             string
		DiscountedAmount money
	}
	Cost *struct {
		SubtotalAmount, TotalDiscountAmount, TotalAmount money
		TotalTaxAmount                                   *money
	}
	Lines []struct {
		Cost *struct {
			SubtotalAmount, TotalAmount money
			TaxAmount                   *money
		}
		DiscountAllocations []struct {
			Code             string
			DiscountedAmount money
		}
	}
}

const discountCartFields = `id discountCodes { code applicable } discountAllocations { code discountedAmount { amount currencyCode } }
	cost { subtotalAmount { amount currencyCode } totalDiscountAmount { amount currencyCode } totalAmount { amount currencyCode } totalTaxAmount { amount currencyCode } }
	lines { cost { subtotalAmount { amount currencyCode } totalAmount { amount currencyCode } taxAmount { amount currencyCode } }
		discountAllocations { code discountedAmount { amount currencyCode } } }`

func (w *costWorld) discountCart(token string) discountCartView {
	w.t.Helper()
	var out struct {
		Viewer struct{ Cart discountCartView }
	}
	w.gql(token, `{ viewer { cart { `+discountCartFields+` } } }`, nil, &out)
	return out.Viewer.Cart
}

func (w *costWorld) codeUses(gid string) int {
	w.t.Helper()
	var n int
	if err := w.db.GetContext(context.Background(), &n, `SELECT uses FROM discount_codes WHERE id = $1`, mustGlobalID(w.t, gid)); err != nil {
		w.t.Fatal(err)
	}
	return n
}

const discountCheckoutMutation = `mutation($in: CheckoutInput!) { checkout(input: $in) {
	orders { id status subtotal { amount } totalDiscounts { amount } total { amount } totalTax { amount }
		discountAllocations { code discountedAmount { amount } }
		lines { total { amount } tax { amount } discountAllocations { code discountedAmount { amount } } } }
	userErrors { field message code } } }`

type discountCheckoutReply struct {
	Checkout struct {
		Orders []struct {
			ID, Status                                string
			Subtotal, TotalDiscounts, Total, TotalTax struct{ Amount string }
			DiscountAllocations                       []struct {
				Code             string
				DiscountedAmount struct{ Amount string }
			}
			Lines []struct {
				Total, Tax          struct{ Amount string }
				DiscountAllocations []struct {
					Code             string
					DiscountedAmount struct{ Amount string }
				}
			}
		}
		UserErrors []costUserError
	}
}

func (w *costWorld) discountCheckout(token, cartID, key, payToken string, expected string) discountCheckoutReply {
	w.t.Helper()
	in := map[string]any{"cartId": cartID, "idempotencyKey": key, "shippingAddress": costAddress("US"), "payment": map[string]any{"token": payToken}}
	if expected != "" {
		in["expectedTotal"] = map[string]any{"amount": expected, "currencyCode": "USD"}
	}
	var out discountCheckoutReply
	w.gql(token, discountCheckoutMutation, map[string]any{"in": in}, &out)
	return out
}

// A fixed amount is split over the lines by the largest remainder (10.00
// over three lines of 10.00: 3.34, 3.33, 3.33), tax is computed on each
// line's discounted amount, the cart shows it and checkout charges exactly
// that total and records the allocations on the order and its lines. Codes
// are case-insensitive.
func TestDiscountCodeSplitTaxAndCheckout(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("splits", "USD", "10.00", "10.00", "10.00")
	w.tax(s, "US", 725, false)
	code := w.discountCode(s, discountInput("SAVE10", map[string]any{"amount": map[string]any{"amount": "10.00", "currencyCode": "USD"}}))
	buyer := w.person("splitbuyer")
	w.add(buyer, s.variants[0], 1, s.variants[1], 1, s.variants[2], 1)
	cart := w.cart(buyer)
	w.shipTo(buyer, cart.ID, "US")
	if errs := w.setCodes(buyer, cart.ID, "save10"); len(errs) > 0 {
		t.Fatalf("cartDiscountCodesUpdate: %+v", errs)
	}
	c := w.discountCart(buyer)
	if len(c.DiscountCodes) != 1 || c.DiscountCodes[0].Code != "save10" || !c.DiscountCodes[0].Applicable {
		t.Fatalf("discountCodes: %+v", c.DiscountCodes)
	}
	var allocs, taxes, totals []string
	for _, l := range c.Lines {
		if len(l.DiscountAllocations) != 1 || l.DiscountAllocations[0].Code != "SAVE10" {
			t.Fatalf("line allocations: %+v", l.DiscountAllocations)
		}
		allocs = append(allocs, l.DiscountAllocations[0].DiscountedAmount.Amount)
		taxes = append(taxes, l.Cost.TaxAmount.Amount)
		totals = append(totals, l.Cost.TotalAmount.Amount)
	}
	// 6.66 × 7.25% = 0.48285 → 0.48; 6.67 × 7.25% = 0.4836 → 0.48.
	if got := strings.Join(allocs, " "); got != "3.34 3.33 3.33" {
		t.Fatalf("allocations %s, want 3.34 3.33 3.33 (largest remainder, earlier line first)", got)
	}
	if got := strings.Join(totals, " ") + " / " + strings.Join(taxes, " "); got != "6.66 6.67 6.67 / 0.48 0.48 0.48" {
		t.Fatalf("line totals / taxes: %s", got)
	}
	if c.Cost.SubtotalAmount.Amount != "30.00" || c.Cost.TotalDiscountAmount.Amount != "10.00" || c.Cost.TotalTaxAmount.Amount != "1.44" || c.Cost.TotalAmount.Amount != "21.44" {
		t.Fatalf("cart cost: %+v", *c.Cost)
	}
	if len(c.DiscountAllocations) != 1 || c.DiscountAllocations[0].DiscountedAmount.Amount != "10.00" {
		t.Fatalf("cart allocations: %+v", c.DiscountAllocations)
	}

	out := w.discountCheckout(buyer, cart.ID, "split-1", "tok_ok", c.Cost.TotalAmount.Amount)
	if len(out.Checkout.UserErrors) > 0 || len(out.Checkout.Orders) != 1 {
		t.Fatalf("checkout: %+v", out)
	}
	o := out.Checkout.Orders[0]
	if o.Subtotal.Amount != "30.00" || o.TotalDiscounts.Amount != "10.00" || o.Total.Amount != "21.44" || o.TotalTax.Amount != "1.44" ||
		len(o.DiscountAllocations) != 1 || o.DiscountAllocations[0].Code != "SAVE10" {
		t.Fatalf("order: %+v", o)
	}
	var lineAllocs []string
	for _, l := range o.Lines {
		lineAllocs = append(lineAllocs, l.DiscountAllocations[0].DiscountedAmount.Amount)
	}
	if got := strings.Join(lineAllocs, " "); got != "3.34 3.33 3.33" {
		t.Fatalf("order line allocations %s", got)
	}
	if charged, total := w.charged(o.ID); charged != 2144 || total != 2144 {
		t.Fatalf("charged %d, orders' total %d; want 2144", charged, total)
	}
	// The same order read back (not the checkout's own reply).
	var read struct {
		Order struct {
			TotalDiscounts struct{ Amount string }
			Lines          []struct {
				DiscountAllocations []struct{ DiscountedAmount struct{ Amount string } }
			}
		}
	}
	w.gql(buyer, `query($id: ID!) { order(id: $id) { totalDiscounts { amount } lines { discountAllocations { discountedAmount { amount } } } } }`,
		map[string]any{"id": o.ID}, &read)
	if read.Order.TotalDiscounts.Amount != "10.00" || read.Order.Lines[2].DiscountAllocations[0].DiscountedAmount.Amount != "3.33" {
		t.Fatalf("order read back: %+v", read)
	}
	// A retry with the same key replays: the code is used once.
	again := w.discountCheckout(buyer, cart.ID, "split-1", "tok_ok", c.Cost.TotalAmount.Amount)
	if len(again.Checkout.Orders) != 1 || again.Checkout.Orders[0].ID != o.ID {
		t.Fatalf("retry: %+v", again)
	}
	if n := w.codeUses(code); n != 1 {
		t.Fatalf("uses %d after a checkout and its retry, want 1", n)
	}

	// Cancelling refunds what was charged (after the discount); the paid
	// order keeps its use.
	var cancel struct {
		CancelOrder struct {
			Order      *struct{ Status string }
			UserErrors []costUserError
		}
	}
	w.gql(buyer, `mutation($id: ID!) { cancelOrder(id: $id) { order { status } userErrors { field message code } } }`, map[string]any{"id": o.ID}, &cancel)
	var refunded int64
	if err := w.db.GetContext(context.Background(), &refunded, `SELECT amount FROM refunds WHERE order_id = $1`, mustGlobalID(t, o.ID)); err != nil {
		t.Fatal(err)
	}
	if refunded != 2144 || w.codeUses(code) != 1 {
		t.Fatalf("refund %d (want 2144), uses %d (want 1)", refunded, w.codeUses(code))
	}
}

// Each reason a code does not apply is its own user error, and the cart
// is unchanged (the codes it held stay).
func TestDiscountCodeRefusals(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("refusals", "USD", "20.00", "5.00")
	other := w.shop("othershop", "USD", "8.00")
	var products struct {
		Node struct {
			Product struct{ ID string }
		}
	}
	w.gql(s.token, `query($id: ID!) { node(id: $id) { ... on ProductVariant { product { id } } } }`, map[string]any{"id": s.variants[1]}, &products)
	past, future := time.Now().Add(-48*time.Hour).UTC().Format(time.RFC3339), time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339)
	pct := func(extra map[string]any) map[string]any {
		extra["percentBps"] = 1000
		return extra
	}
	w.discountCode(s, discountInput("GOOD", pct(map[string]any{})))
	w.discountCode(s, discountInput("OLD", pct(map[string]any{"startsAt": past, "endsAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})))
	w.discountCode(s, discountInput("SOON", pct(map[string]any{"startsAt": future})))
	w.discountCode(s, discountInput("BIG", pct(map[string]any{"minimumSubtotal": map[string]any{"amount": "100.00", "currencyCode": "USD"}})))
	w.discountCode(s, discountInput("CHEAP", pct(map[string]any{"productIds": []string{products.Node.Product.ID}})))
	w.discountCode(other, discountInput("ELSEWHERE", pct(map[string]any{})))
	once := w.discountCode(s, discountInput("ONCE", pct(map[string]any{"usageLimit": 1})))
	mine := w.discountCode(s, discountInput("MINE", pct(map[string]any{"perBuyerLimit": 1})))

	buyer := w.person("refusedbuyer")
	w.add(buyer, s.variants[0], 1)
	cart := w.cart(buyer)
	if errs := w.setCodes(buyer, cart.ID, "good"); len(errs) > 0 {
		t.Fatalf("GOOD: %+v", errs)
	}
	for _, tc := range []struct{ code, want string }{
		{"NOPE", "NOT_FOUND"},
		{"old", "DISCOUNT_EXPIRED"},
		{"Soon", "DISCOUNT_NOT_STARTED"},
		{"BIG", "DISCOUNT_MINIMUM_NOT_MET"},
		{"CHEAP", "DISCOUNT_NOT_APPLICABLE"},
		{"ELSEWHERE", "DISCOUNT_NOT_APPLICABLE"},
	} {
		errs := w.setCodes(buyer, cart.ID, tc.code)
		if len(errs) != 1 || errs[0].Code != tc.want || strings.Join(errs[0].Field, ".") != "discountCodes.0" {
			t.Errorf("%s: %+v, want one %s on discountCodes.0", tc.code, errs, tc.want)
		}
		if c := w.discountCart(buyer); len(c.DiscountCodes) != 1 || c.DiscountCodes[0].Code != "good" {
			t.Errorf("%s changed the cart's codes: %+v", tc.code, c.DiscountCodes)
		}
	}
	// Two codes of one shop: the second does not combine.
	if errs := w.setCodes(buyer, cart.ID, "GOOD", "MINE"); len(errs) != 1 || errs[0].Code != "DISCOUNT_NOT_APPLICABLE" || strings.Join(errs[0].Field, ".") != "discountCodes.1" {
		t.Errorf("GOOD+MINE: %+v", errs)
	}

	// Used up, and the per-buyer limit: after a use, ONCE is refused to
	// others and MINE to the same buyer.
	if errs := w.setCodes(buyer, cart.ID, "ONCE"); len(errs) > 0 {
		t.Fatalf("ONCE: %+v", errs)
	}
	if out := w.discountCheckout(buyer, cart.ID, "once-1", "tok_ok", ""); len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].TotalDiscounts.Amount != "2.00" {
		t.Fatalf("checkout with ONCE: %+v", out)
	}
	w.add(buyer, s.variants[0], 1)
	if errs := w.setCodes(buyer, cart.ID, "MINE"); len(errs) > 0 {
		t.Fatalf("MINE: %+v", errs)
	}
	if out := w.discountCheckout(buyer, cart.ID, "mine-1", "tok_ok", ""); len(out.Checkout.Orders) != 1 {
		t.Fatalf("checkout with MINE: %+v", out)
	}
	w.add(buyer, s.variants[0], 1)
	if errs := w.setCodes(buyer, cart.ID, "MINE"); len(errs) != 1 || errs[0].Code != "DISCOUNT_LIMIT_REACHED" {
		t.Errorf("MINE again: %+v", errs)
	}
	second := w.person("secondbuyer")
	w.add(second, s.variants[0], 1)
	cart2 := w.cart(second)
	if errs := w.setCodes(second, cart2.ID, "ONCE"); len(errs) != 1 || errs[0].Code != "DISCOUNT_USED_UP" {
		t.Errorf("ONCE for another buyer: %+v", errs)
	}
	if errs := w.setCodes(second, cart2.ID, "MINE"); len(errs) > 0 {
		t.Errorf("MINE for another buyer: %+v", errs)
	}
	if w.codeUses(once) != 1 || w.codeUses(mine) != 1 {
		t.Errorf("uses ONCE %d MINE %d, want 1 and 1", w.codeUses(once), w.codeUses(mine))
	}
}

// A code that runs out between the cart and the checkout: the cart shows
// it not applicable, and checkout refuses with DISCOUNT_UNAVAILABLE and
// writes nothing (no checkout, order, payment, charge or stock change).
// A declined payment gives its use back.
func TestDiscountRanOutBeforeCheckout(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("ranout", "USD", "20.00")
	code := w.discountCode(s, discountInput("LAST", map[string]any{"percentBps": 2500, "usageLimit": 1}))
	a, b := w.person("firstin"), w.person("secondin")
	w.add(a, s.variants[0], 1)
	w.add(b, s.variants[0], 1)
	cartA, cartB := w.cart(a), w.cart(b)
	if errs := w.setCodes(a, cartA.ID, "LAST"); len(errs) > 0 {
		t.Fatal(errs)
	}
	if errs := w.setCodes(b, cartB.ID, "LAST"); len(errs) > 0 {
		t.Fatal(errs)
	}
	// A declined payment releases the reservation and its use.
	if out := w.discountCheckout(a, cartA.ID, "a-declined", "tok_declined", ""); len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "PAYMENT_DECLINED" {
		t.Fatalf("declined: %+v", out)
	}
	if n := w.codeUses(code); n != 0 {
		t.Fatalf("uses %d after a declined payment, want 0", n)
	}
	shownB := w.discountCart(b).Cost.TotalAmount.Amount
	if out := w.discountCheckout(a, cartA.ID, "a-paid", "tok_ok", ""); len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].Total.Amount != "15.00" {
		t.Fatalf("first checkout: %+v", out)
	}
	if c := w.discountCart(b); len(c.DiscountCodes) != 1 || c.DiscountCodes[0].Applicable || c.Cost.TotalAmount.Amount != "20.00" {
		t.Fatalf("cart after the code ran out: %+v", c)
	}
	before := w.counts()
	out := w.discountCheckout(b, cartB.ID, "b-1", "tok_ok", shownB)
	if len(out.Checkout.Orders) != 0 || len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "DISCOUNT_UNAVAILABLE" ||
		strings.Join(out.Checkout.UserErrors[0].Field, ".") != "input.cartId" {
		t.Fatalf("checkout after the code ran out: %+v", out)
	}
	if after := w.counts(); after != before {
		t.Fatalf("a refused checkout wrote: %s, then %s", before, after)
	}
	// Removing the code, the cart checks out at full price.
	if errs := w.setCodes(b, cartB.ID); len(errs) > 0 {
		t.Fatal(errs)
	}
	if out := w.discountCheckout(b, cartB.ID, "b-2", "tok_ok", "20.00"); len(out.Checkout.Orders) != 1 {
		t.Fatalf("checkout without the code: %+v", out)
	}
	if n := w.codeUses(code); n != 1 {
		t.Fatalf("uses %d, want 1", n)
	}
}

// guestDiscountCart makes a guest cart of the variant with the code on it.
func guestDiscountCart(t *testing.T, base, variant, code string) string {
	t.Helper()
	c := createGuestCart(t, base, variant, 1)
	r := guestPost(t, base, "", `mutation($c: ID!, $d: [String!]!) { cartDiscountCodesUpdate(cartId: $c, discountCodes: $d) { userErrors { code message } } }`,
		map[string]any{"c": c.ID, "d": []string{code}}).mustOK(t, "cartDiscountCodesUpdate")
	if strings.Contains(r.Raw, `"code":"`) {
		t.Fatalf("cartDiscountCodesUpdate: %s", r.Raw)
	}
	return c.ID
}

// raceCheckouts checks out the guest carts at once, each with its email,
// and returns the orders' discounts and the refusals' codes.
func raceCheckouts(t *testing.T, base string, carts, emails []string) (discounted, full int, refusals map[string]int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	refusals = map[string]int{}
	start := make(chan struct{})
	for i := range carts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			in := guestCheckoutInput(carts[i], fmt.Sprintf("race-%d", i), emails[i])
			r := guestPost(t, base, "", `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { totalDiscounts { amount } } userErrors { code message } } }`, in)
			var p struct {
				Orders     []struct{ TotalDiscounts struct{ Amount string } }
				UserErrors []struct{ Code string }
			}
			if r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Errorf("checkout %d: %s", i, r.Raw)
				return
			}
			r.field(t, "checkout", &p)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case len(p.Orders) == 1 && p.Orders[0].TotalDiscounts.Amount != "0.00":
				discounted++
			case len(p.Orders) == 1:
				full++
			case len(p.UserErrors) > 0:
				refusals[p.UserErrors[0].Code]++
			}
		}(i)
	}
	close(start)
	wg.Wait()
	return discounted, full, refusals
}

// A usage limit is a stock: 50 buyers checking out at once with a code
// limited to 5 get exactly 5 discounts; the 45 others are refused with
// DISCOUNT_UNAVAILABLE, with nothing charged. A per-buyer limit likewise:
// one guest email on 10 carts at once with a limit of 2 gets exactly 2.
// (The guests share the test's one address: one caller to the rate limits
// and to admission's per-caller places, both raised here.)
func TestDiscountUsageLimitUnderConcurrency(t *testing.T) {
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
	var limited, perBuyer int64
	if err := db.QueryRowContext(ctx, `INSERT INTO discount_codes (shop_id, code, kind, percent_bps, currency_code, usage_limit)
		VALUES ($1, 'FIRST5', 'PERCENTAGE', 1000, $2, 5) RETURNING id`, shopID, currency).Scan(&limited); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `INSERT INTO discount_codes (shop_id, code, kind, percent_bps, currency_code, per_buyer_limit)
		VALUES ($1, 'TWICE', 'PERCENTAGE', 1000, $2, 2) RETURNING id`, shopID, currency).Scan(&perBuyer); err != nil {
		t.Fatal(err)
	}

	t.Run("UsageLimit", func(t *testing.T) {
		var carts, emails []string
		for i := 0; i < 50; i++ {
			carts = append(carts, guestDiscountCart(t, base, variant, "first5"))
			emails = append(emails, fmt.Sprintf("buyer%d@example.com", i))
		}
		discounted, full, refusals := raceCheckouts(t, base, carts, emails)
		if discounted != 5 || full != 0 || refusals["DISCOUNT_UNAVAILABLE"] != 45 {
			t.Fatalf("%d discounted, %d at full price, refusals %v; want 5, 0, 45 DISCOUNT_UNAVAILABLE", discounted, full, refusals)
		}
		var uses, redemptions, orders, charges int
		if err := db.QueryRowContext(ctx, `SELECT (SELECT uses FROM discount_codes WHERE id = $1),
			(SELECT count(*) FROM discount_redemptions WHERE code_id = $1 AND NOT released),
			(SELECT count(*) FROM orders WHERE discount_code = 'FIRST5' AND status = 'PAID'),
			(SELECT count(*) FROM test_provider_charges)`, limited).Scan(&uses, &redemptions, &orders, &charges); err != nil {
			t.Fatal(err)
		}
		if uses != 5 || redemptions != 5 || orders != 5 || charges != 5 {
			t.Fatalf("uses %d, redemptions %d, discounted paid orders %d, charges %d; want 5 each", uses, redemptions, orders, charges)
		}
	})

	t.Run("PerBuyerLimit", func(t *testing.T) {
		var carts, emails []string
		for i := 0; i < 10; i++ {
			carts = append(carts, guestDiscountCart(t, base, variant, "TWICE"))
			emails = append(emails, "Same.Buyer@example.com")
		}
		// The same email in another case is the same buyer.
		emails[9] = "same.buyer@EXAMPLE.com"
		discounted, full, refusals := raceCheckouts(t, base, carts, emails)
		if discounted != 2 || full != 0 || refusals["DISCOUNT_UNAVAILABLE"] != 8 {
			t.Fatalf("%d discounted, %d at full price, refusals %v; want 2, 0, 8 DISCOUNT_UNAVAILABLE", discounted, full, refusals)
		}
		var uses int
		if err := db.QueryRowContext(ctx, `SELECT uses FROM discount_codes WHERE id = $1`, perBuyer).Scan(&uses); err != nil {
			t.Fatal(err)
		}
		if uses != 2 {
			t.Fatalf("uses %d, want 2", uses)
		}
	})
}

// Only the shop's managers list and change its codes.
func TestDiscountCodesAreTheShopsOwn(t *testing.T) {
	w := newCostWorld(t)
	s := w.shop("ownedcodes", "USD", "20.00")
	id := w.discountCode(s, discountInput("MINE10", map[string]any{"percentBps": 1000}))
	stranger := w.person("stranger")
	query := `query($id: ID!) { node(id: $id) { ... on Shop { discountCodes(first: 5) { edges { node { id code usageCount } } } } } }`
	var out struct {
		Node struct {
			DiscountCodes *struct {
				Edges []struct{ Node struct{ ID, Code string } }
			}
		}
	}
	w.gql(s.token, query, map[string]any{"id": s.id}, &out)
	if out.Node.DiscountCodes == nil || len(out.Node.DiscountCodes.Edges) != 1 || out.Node.DiscountCodes.Edges[0].Node.ID != id {
		t.Fatalf("owner's list: %+v", out)
	}
	out.Node.DiscountCodes = nil
	w.gql(stranger, query, map[string]any{"id": s.id}, &out)
	if out.Node.DiscountCodes != nil {
		t.Fatalf("a stranger lists the codes: %+v", out)
	}
	r := guestPost(t, w.base, stranger, `mutation($id: ID!) { discountCodeDeactivate(id: $id) { discountCode { id } } }`, map[string]any{"id": id})
	if r.code() != "FORBIDDEN" {
		t.Fatalf("a stranger deactivates: %s", r.Raw)
	}
	// A code the shop already has, in another case, is TAKEN.
	var dup struct {
		DiscountCodeCreate struct{ UserErrors []costUserError }
	}
	w.gql(s.token, `mutation($s: ID!) { discountCodeCreate(shopId: $s, input: {code: "mine10", percentBps: 500}) { userErrors { field message code } } }`,
		map[string]any{"s": s.id}, &dup)
	if len(dup.DiscountCodeCreate.UserErrors) != 1 || dup.DiscountCodeCreate.UserErrors[0].Code != "TAKEN" {
		t.Fatalf("duplicate code: %+v", dup)
	}
	// Deactivated by its owner: a cart holding it shows it not applicable.
	buyer := w.person("holder")
	w.add(buyer, s.variants[0], 1)
	cart := w.cart(buyer)
	if errs := w.setCodes(buyer, cart.ID, "MINE10"); len(errs) > 0 {
		t.Fatal(errs)
	}
	var deact struct {
		DiscountCodeDeactivate struct{ DiscountCode struct{ Active bool } }
	}
	w.gql(s.token, `mutation($id: ID!) { discountCodeDeactivate(id: $id) { discountCode { active } } }`, map[string]any{"id": id}, &deact)
	if c := w.discountCart(buyer); len(c.DiscountCodes) != 1 || c.DiscountCodes[0].Applicable || c.Cost.TotalDiscountAmount.Amount != "0.00" {
		t.Fatalf("cart after deactivation: %+v", c)
	}
}

// A reservation the reconciler settles unpaid (the provider failed before
// charging, and the buyer never came back) gives its code's use back, so
// another buyer can have it; the key then answers CHECKOUT_EXPIRED.
func TestDiscountUseComesBackWhenTheReconcilerReleases(t *testing.T) {
	w := newCostWorld(t)
	w.db.PaymentSettings = store.PaymentSettings{SettleAfter: time.Millisecond}
	s := w.shop("reconciled", "USD", "20.00")
	code := w.discountCode(s, discountInput("ONLYONE", map[string]any{"percentBps": 1000, "usageLimit": 1}))
	a, b := w.person("leaver"), w.person("stayer")
	w.add(a, s.variants[0], 1)
	w.add(b, s.variants[0], 1)
	cartA, cartB := w.cart(a), w.cart(b)
	if errs := w.setCodes(a, cartA.ID, "ONLYONE"); len(errs) > 0 {
		t.Fatal(errs)
	}
	if out := w.discountCheckout(a, cartA.ID, "leaver-1", "tok_error", ""); len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "PAYMENT_UNAVAILABLE" {
		t.Fatalf("tok_error: %+v", out)
	}
	if n := w.codeUses(code); n != 1 {
		t.Fatalf("uses %d while the reservation stands, want 1", n)
	}
	if errs := w.setCodes(b, cartB.ID, "ONLYONE"); len(errs) != 1 || errs[0].Code != "DISCOUNT_USED_UP" {
		t.Fatalf("ONLYONE while reserved: %+v", errs)
	}
	time.Sleep(5 * time.Millisecond) // past SettleAfter (1 ms)
	if _, err := w.db.ReconcilePayments(context.Background(), payment.NewTestProvider(w.db.DB.DB)); err != nil {
		t.Fatal(err)
	}
	if n := w.codeUses(code); n != 0 {
		t.Fatalf("uses %d after the reconciler released the reservation, want 0", n)
	}
	if out := w.discountCheckout(a, cartA.ID, "leaver-1", "tok_error", ""); len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "CHECKOUT_EXPIRED" {
		t.Fatalf("retry after release: %+v", out)
	}
	if errs := w.setCodes(b, cartB.ID, "ONLYONE"); len(errs) > 0 {
		t.Fatalf("ONLYONE after release: %+v", errs)
	}
	if out := w.discountCheckout(b, cartB.ID, "stayer-1", "tok_ok", "18.00"); len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].TotalDiscounts.Amount != "2.00" {
		t.Fatalf("the other buyer's checkout: %+v", out)
	}
	if n := w.codeUses(code); n != 1 {
		t.Fatalf("uses %d, want 1", n)
	}
}
