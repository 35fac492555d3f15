package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

const checkoutMutation = `mutation($in: CheckoutInput!) { checkout(input: $in) {
	orders { id number status total { amount currencyCode } subtotal { amount } commission { amount }
		creator { handle } sourceContent { id } shop { handle } buyer { handle }
		lines { sku quantity unitPrice { amount } total { amount } variant { id } } }
	userErrors { field code message } } }`

type checkoutOut struct {
	Checkout struct {
		Orders []struct {
			ID, Number, Status string
			Total              struct{ Amount, CurrencyCode string }
			Subtotal           struct{ Amount string }
			Commission         struct{ Amount string }
			Creator            *struct{ Handle string }
			SourceContent      *struct{ ID string }
			Shop               struct{ Handle string }
			Lines              []struct {
				SKU      string
				Quantity int
			}
		}
		UserErrors []userError
	}
}

var address = map[string]any{"name": "Ana Buyer", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "countryCode": "US"}

func checkoutInput(key, token string, lines ...map[string]any) map[string]any {
	return map[string]any{"in": map[string]any{
		"lines": lines, "idempotencyKey": key, "shippingAddress": address, "payment": map[string]any{"token": token},
	}}
}

func line(variantID string, qty int) map[string]any {
	return map[string]any{"variantId": variantID, "quantity": qty}
}

func (a *testAPI) stock(variantGID string) int {
	a.t.Helper()
	var out struct{ Node struct{ Stock int } }
	a.ok("", `query($id: ID!) { node(id: $id) { ... on ProductVariant { stock } } }`, map[string]any{"id": variantGID}, &out)
	return out.Node.Stock
}

func (a *testAPI) count(table string) int {
	a.t.Helper()
	var n int
	if err := a.db.GetContext(context.Background(), &n, `SELECT count(*) FROM `+table); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func (a *testAPI) setStock(token, variantGID string, stock int) {
	a.t.Helper()
	a.ok(token, `mutation($in: SetInventoryInput!) { setInventory(input: $in) { variant { id } } }`,
		map[string]any{"in": map[string]any{"variantId": variantGID, "stock": stock}}, nil)
}

func TestCheckoutFromContentRecordsAttribution(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("brand")
	other := a.fixture("other")
	creatorToken, _ := a.user("kol", true)
	buyerToken, _ := a.user("ana", false)
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(creatorToken, publishVideoMutation, videoInput(shop.productID), &pv)
	videoID := pv.PublishVideo.Video.ID

	// The other shop's product is not a card on the video: the video may
	// not claim its sale. Nothing is written.
	in := checkoutInput("k0", "tok_ok", line(shop.variantIDs[0], 2), line(other.variantIDs[0], 1))
	in["in"].(map[string]any)["sourceContentId"] = videoID
	var out checkoutOut
	a.ok(buyerToken, checkoutMutation, in, &out)
	if len(out.Checkout.Orders) != 0 || len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "PRODUCT_NOT_ON_CONTENT" ||
		strings.Join(out.Checkout.UserErrors[0].Field, ".") != "input.lines.1.variantId" {
		t.Fatalf("checkout of a product not on the video = %+v", out)
	}
	if a.count("orders") != 0 || a.count("checkouts") != 0 || a.count("payments") != 0 || a.stock(shop.variantIDs[0]) != 5 {
		t.Fatal("a refused checkout wrote something")
	}
	// Bought from the video per line: only its card's line is attributed.
	in = checkoutInput("k1", "tok_ok", line(shop.variantIDs[0], 2), line(other.variantIDs[0], 1))
	in["in"].(map[string]any)["lines"].([]map[string]any)[0]["sourceContentId"] = videoID
	a.ok(buyerToken, checkoutMutation, in, &out)
	if len(out.Checkout.UserErrors) > 0 || len(out.Checkout.Orders) != 2 {
		t.Fatalf("checkout = %+v", out)
	}
	if second := out.Checkout.Orders[1]; second.SourceContent != nil || second.Creator != nil || second.Commission.Amount != "0.00" {
		t.Fatalf("the other shop's order was attributed: %+v", second)
	}
	first := out.Checkout.Orders[0]
	if first.Shop.Handle != "brand-shop" || first.Status != "PAID" || first.Total.Amount != "39.80" || first.Total.CurrencyCode != "USD" ||
		first.Lines[0].Quantity != 2 || first.SourceContent == nil || first.SourceContent.ID != videoID {
		t.Fatalf("first order = %+v", first)
	}
	// The creator is an affiliate of both shops (the default rate is 10%).
	if first.Creator == nil || first.Creator.Handle != "kol" || first.Commission.Amount != "3.98" {
		t.Fatalf("affiliate attribution = %+v", first)
	}
	if got := a.stock(shop.variantIDs[0]); got != 3 {
		t.Fatalf("stock after buying 2 of 5 = %d", got)
	}
	if a.count("test_provider_charges") != 1 {
		t.Fatalf("charges = %d, want one for both orders", a.count("test_provider_charges"))
	}
}

func TestSellerOwnContentIsNotAnAffiliateOrder(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("brand")
	buyerToken, _ := a.user("ana", false)
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(shop.sellerToken, publishVideoMutation, videoInput(shop.productID), &pv)
	in := checkoutInput("k1", "tok_ok", line(shop.variantIDs[0], 1))
	in["in"].(map[string]any)["sourceContentId"] = pv.PublishVideo.Video.ID
	var out checkoutOut
	a.ok(buyerToken, checkoutMutation, in, &out)
	if o := out.Checkout.Orders[0]; o.Creator != nil || o.Commission.Amount != "0.00" || o.SourceContent == nil {
		t.Fatalf("order = %+v", o)
	}
}

func TestCheckoutNeverOversells(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("hot")
	const buyers = 50
	tokens := make([]string, buyers)
	for i := range tokens {
		tokens[i], _ = a.user(fmt.Sprintf("buyer%02d", i), false)
	}
	var wg sync.WaitGroup
	results := make([]checkoutOut, buyers)
	errs := make([]error, buyers)
	for i := 0; i < buyers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := a.postRaw(tokens[i], checkoutMutation, checkoutInput("hot", "tok_ok", line(shop.variantIDs[0], 1)))
			if err == nil && len(resp.Errors) > 0 {
				err = fmt.Errorf("errors: %+v", resp.Errors)
			}
			if err == nil {
				err = json.Unmarshal(resp.Data, &results[i])
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	orders, short := 0, 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("buyer %d: %v", i, errs[i])
		}
		orders += len(r.Checkout.Orders)
		if len(r.Checkout.UserErrors) == 1 && r.Checkout.UserErrors[0].Code == "INSUFFICIENT_STOCK" {
			short++
		}
	}
	if orders != 5 || short != 45 || a.stock(shop.variantIDs[0]) != 0 {
		t.Fatalf("orders %d, INSUFFICIENT_STOCK %d, stock %d; want 5, 45, 0", orders, short, a.stock(shop.variantIDs[0]))
	}
}

// TestCheckoutOfSeveralVariantsIsAllOrNothing: carts of the same two
// variants, listed in either order, race for the scarcer one. Every cart
// gets both or neither, and none fails for the locking (no deadlock).
func TestCheckoutOfSeveralVariantsIsAllOrNothing(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("pair")
	plenty, scarce := shop.variantIDs[0], shop.variantIDs[1]
	a.setStock(shop.sellerToken, plenty, 100)
	a.setStock(shop.sellerToken, scarce, 6)
	const buyers = 20
	results := make([]checkoutOut, buyers)
	errs := make([]error, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		token, _ := a.user(fmt.Sprintf("pair%02d", i), false)
		lines := []map[string]any{line(plenty, 1), line(scarce, 1)}
		if i%2 == 1 {
			lines[0], lines[1] = lines[1], lines[0]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := a.postRaw(token, checkoutMutation, checkoutInput("pair", "tok_ok", lines...))
			if err == nil && len(resp.Errors) > 0 {
				err = fmt.Errorf("errors: %+v", resp.Errors)
			}
			if err == nil {
				err = json.Unmarshal(resp.Data, &results[i])
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	bought, short := 0, 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("buyer %d: %v", i, errs[i])
		}
		switch {
		case len(r.Checkout.Orders) == 1 && len(r.Checkout.UserErrors) == 0:
			bought++
		case len(r.Checkout.UserErrors) == 1 && r.Checkout.UserErrors[0].Code == "INSUFFICIENT_STOCK":
			short++
		default:
			t.Fatalf("buyer %d: %+v", i, r.Checkout)
		}
	}
	if bought != 6 || short != 14 || a.stock(plenty) != 94 || a.stock(scarce) != 0 {
		t.Fatalf("bought %d, short %d, stock %d and %d; want 6, 14, 94 and 0", bought, short, a.stock(plenty), a.stock(scarce))
	}
}

// Lines that together would exceed the stock cannot be sent: a variant is
// on one line of a checkout only (tax is rounded per line), so the second
// line is refused before any stock is looked at.
func TestCheckoutRejectsLinesThatTogetherExceedStock(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("split")
	buyer, _ := a.user("ana", false)
	var out checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(shop.variantIDs[0], 3), line(shop.variantIDs[0], 3)), &out)
	if errs := out.Checkout.UserErrors; len(out.Checkout.Orders) != 0 || len(errs) != 1 || errs[0].Code != "INVALID" || join(errs[0].Field) != "input.lines.1.variantId" {
		t.Fatalf("checkout = %+v", out)
	}
	if a.stock(shop.variantIDs[0]) != 5 || a.count("orders") != 0 || a.count("checkouts") != 0 || a.count("test_provider_charges") != 0 {
		t.Fatal("a refused checkout wrote something")
	}
}

func TestCheckoutValidation(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("val")
	buyer, _ := a.user("ana", false)
	var out checkoutOut
	in := checkoutInput("", "tok_ok", line(shop.variantIDs[0], 0), line(shop.variantIDs[1], 100))
	in["in"].(map[string]any)["shippingAddress"] = map[string]any{"name": "", "line1": "x", "city": "y", "postalCode": "1", "countryCode": "usa"}
	a.ok(buyer, checkoutMutation, in, &out)
	codes := map[string]bool{}
	for _, e := range out.Checkout.UserErrors {
		codes[join(e.Field)] = true
	}
	for _, f := range []string{"input.idempotencyKey", "input.lines.0.quantity", "input.lines.1.quantity", "input.shippingAddress.name", "input.shippingAddress.countryCode"} {
		if !codes[f] {
			t.Errorf("no user error for %s: %+v", f, out.Checkout.UserErrors)
		}
	}
	if resp := a.post("", checkoutMutation, checkoutInput("k", "tok_ok", line(shop.variantIDs[0], 1))); resp.code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous checkout: %+v", resp.Errors)
	}
}

func TestCheckoutIsIdempotent(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("idem")
	buyer, _ := a.user("ana", false)
	in := checkoutInput("same-key", "tok_ok", line(shop.variantIDs[0], 1))
	const tries = 20
	bodies := make([][]byte, tries)
	var wg sync.WaitGroup
	for i := 0; i < tries; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := a.postRaw(buyer, checkoutMutation, in)
			if err == nil {
				bodies[i] = resp.Data
			}
		}(i)
	}
	wg.Wait()
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("reply %d differs:\n%s\n%s", i, bodies[i], bodies[0])
		}
	}
	var out checkoutOut
	if err := json.Unmarshal(bodies[0], &out); err != nil || len(out.Checkout.Orders) != 1 {
		t.Fatalf("reply = %s (%v)", bodies[0], err)
	}
	if a.count("orders") != 1 || a.count("test_provider_charges") != 1 || a.stock(shop.variantIDs[0]) != 4 {
		t.Fatalf("orders %d, charges %d, stock %d", a.count("orders"), a.count("test_provider_charges"), a.stock(shop.variantIDs[0]))
	}

	a.ok(buyer, checkoutMutation, checkoutInput("same-key", "tok_ok", line(shop.variantIDs[0], 2)), &out)
	if len(out.Checkout.Orders) != 0 || out.Checkout.UserErrors[0].Code != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("reused key = %+v", out)
	}
	if a.count("orders") != 1 || a.count("test_provider_charges") != 1 || a.stock(shop.variantIDs[0]) != 4 {
		t.Fatal("a reused key wrote something")
	}
}

func TestDeclinedAndFailedPayments(t *testing.T) {
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.DB.PaymentSettings.SettleAfter = time.Millisecond })
	shop := a.fixture("pay")
	buyer, _ := a.user("ana", false)
	var out checkoutOut
	// A decline releases the stock at once and is remembered.
	a.ok(buyer, checkoutMutation, checkoutInput("k-tok_declined", "tok_declined", line(shop.variantIDs[0], 2)), &out)
	if len(out.Checkout.Orders) != 0 || len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "PAYMENT_DECLINED" {
		t.Fatalf("tok_declined: %+v", out)
	}
	if a.stock(shop.variantIDs[0]) != 5 || a.count("orders") != 0 {
		t.Fatalf("tok_declined: stock %d, orders %d", a.stock(shop.variantIDs[0]), a.count("orders"))
	}
	a.ok(buyer, checkoutMutation, checkoutInput("k-tok_declined", "tok_declined", line(shop.variantIDs[0], 2)), &out)
	if out.Checkout.UserErrors[0].Code != "PAYMENT_DECLINED" {
		t.Fatalf("declined replay: %+v", out)
	}
	// A transient failure keeps the reservation for a retry with the same
	// key, which calls the provider again under the same provider key.
	a.ok(buyer, checkoutMutation, checkoutInput("k-tok_error", "tok_error", line(shop.variantIDs[0], 2)), &out)
	if len(out.Checkout.Orders) != 0 || out.Checkout.UserErrors[0].Code != "PAYMENT_UNAVAILABLE" || a.stock(shop.variantIDs[0]) != 3 {
		t.Fatalf("tok_error: %+v, stock %d", out, a.stock(shop.variantIDs[0]))
	}
	a.ok(buyer, checkoutMutation, checkoutInput("k-tok_error", "tok_error", line(shop.variantIDs[0], 2)), &out)
	if out.Checkout.UserErrors[0].Code != "PAYMENT_UNAVAILABLE" || a.count("checkouts") != 2 || a.count("payments") != 2 {
		t.Fatalf("transient retry: %+v, checkouts %d, payments %d", out, a.count("checkouts"), a.count("payments"))
	}
	// Abandoned, it is released by the reconciler; the key then answers
	// that the checkout expired, and nothing was charged.
	if n := a.reconcileUntil(a.payments, func(n store.Reconciled) bool { return n.Expired == 1 }); n.Expired != 1 {
		t.Fatalf("reconcile = %+v", n)
	}
	if a.stock(shop.variantIDs[0]) != 5 || a.count("test_provider_charges") != 0 {
		t.Fatalf("after the reconciler: stock %d, charges %d", a.stock(shop.variantIDs[0]), a.count("test_provider_charges"))
	}
	a.ok(buyer, checkoutMutation, checkoutInput("k-tok_error", "tok_error", line(shop.variantIDs[0], 2)), &out)
	if out.Checkout.UserErrors[0].Code != "CHECKOUT_EXPIRED" {
		t.Fatalf("expired replay: %+v", out)
	}
}

// TestCheckoutRoundTrips: a plain checkout takes the short path (the key,
// the orders and the stock in one statement, flushed by the next; payment
// recorded and orders returned in another), so a hot variant's row is
// locked only briefly.
func TestCheckoutRoundTrips(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("roundtrips")
	buyer, _ := a.user("buyer", false)
	const minimal = `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { id } userErrors { code } } }`
	var out checkoutOut
	// The process's first checkout also reads the installation id, once.
	a.ok(buyer, minimal, checkoutInput("k0", "tok_ok", line(f.variantIDs[0], 1)), &out)
	a.ok(buyer, minimal, checkoutInput("k1", "tok_ok", line(f.variantIDs[0], 1)), &out)
	if len(out.Checkout.Orders) != 1 || len(out.Checkout.UserErrors) > 0 {
		t.Fatalf("checkout: %+v", out.Checkout)
	}
	// The viewer's lookup, the variants read, the reservation with its
	// payment record (which commits on its own, without waiting for the
	// disk) and its flush (before any provider call) in one call, the test
	// provider's charge (its state is in PostgreSQL, like an external
	// provider's), the completion.
	if got := a.statements.Load(); got != 5 {
		t.Errorf("a checkout of one line took %d statements, want 5", got)
	}
	if got := a.stock(f.variantIDs[0]); got != 3 {
		t.Errorf("stock = %d, want 3", got)
	}
}
