package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
)

// slowFirstProvider charges through the real test provider and then, the
// first time only, loses the answer: it waits out the caller's deadline, as
// a provider that captured the money but timed out would. It records the
// provider keys it was called with.
type slowFirstProvider struct {
	*payment.TestProvider
	mu   sync.Mutex
	keys []string
	lost bool
}

func (p *slowFirstProvider) Charge(ctx context.Context, c payment.Charge) (string, error) {
	p.mu.Lock()
	p.keys = append(p.keys, c.IdempotencyKey)
	first := !p.lost
	p.lost = true
	p.mu.Unlock()
	ref, err := p.TestProvider.Charge(ctx, c)
	if err != nil || !first {
		return ref, err
	}
	<-ctx.Done()
	return "", ctx.Err()
}

func TestProviderTimeoutRetryReusesTheProviderKeyAndChargesOnce(t *testing.T) {
	var p *slowFirstProvider
	a := newTestAPIWith(t, func(r *graph.Resolver) {
		p = &slowFirstProvider{TestProvider: payment.NewTestProvider(r.DB.DB.DB)}
		r.Payments = p
		r.DB.PaymentSettings.Timeout = 300 * time.Millisecond
	})
	f := a.fixture("slow")
	buyer, _ := a.user("ana", false)
	var out checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 2)), &out)
	if len(out.Checkout.Orders) != 0 || len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "PAYMENT_PENDING" {
		t.Fatalf("timed-out checkout = %+v", out)
	}
	if a.stock(f.variantIDs[0]) != 3 {
		t.Fatalf("stock = %d, want 3: the reservation stands while the outcome is unknown", a.stock(f.variantIDs[0]))
	}
	a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 2)), &out)
	if len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].Status != "PAID" {
		t.Fatalf("retry = %+v", out)
	}
	if len(p.keys) != 2 || p.keys[0] != p.keys[1] {
		t.Fatalf("provider keys = %v, want the same key twice", p.keys)
	}
	if a.count("test_provider_charges") != 1 || a.count("orders") != 1 || a.stock(f.variantIDs[0]) != 3 {
		t.Fatalf("charges %d, orders %d, stock %d; want 1, 1, 3", a.count("test_provider_charges"), a.count("orders"), a.stock(f.variantIDs[0]))
	}
	// A third try replays the same order.
	first := out.Checkout.Orders[0].Number
	a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 2)), &out)
	if len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].Number != first || a.count("test_provider_charges") != 1 {
		t.Fatalf("replay = %+v", out)
	}
}

// lostAnswerProvider charges and then fails as if the connection broke
// before the answer arrived: the outcome is unknown to the checkout.
type lostAnswerProvider struct{ *payment.TestProvider }

func (p lostAnswerProvider) Charge(ctx context.Context, c payment.Charge) (string, error) {
	if _, err := p.TestProvider.Charge(ctx, c); err != nil {
		return "", err
	}
	return "", errors.New("read tcp: connection reset by peer")
}

func TestReconcilerCompletesAChargeWhoseAnswerWasLost(t *testing.T) {
	var real *payment.TestProvider
	a := newTestAPIWith(t, func(r *graph.Resolver) {
		real = payment.NewTestProvider(r.DB.DB.DB)
		r.Payments = lostAnswerProvider{real}
		r.DB.PaymentSettings.SettleAfter = time.Millisecond
	})
	f := a.fixture("lost")
	buyer, _ := a.user("ana", false)
	var out checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 1)), &out)
	if len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "PAYMENT_PENDING" {
		t.Fatalf("checkout = %+v", out)
	}
	// The buyer never retries: the reconciler asks the provider by the key,
	// finds the charge, and completes the order.
	if n := a.reconcileUntil(real, func(n store.Reconciled) bool { return n.Completed == 1 }); n.Completed != 1 {
		t.Fatalf("reconcile = %+v", n)
	}
	var buyerOrders struct {
		Viewer struct {
			Orders struct {
				Edges []struct{ Node struct{ Status string } }
			}
		}
	}
	a.ok(buyer, `{ viewer { orders(first: 5) { edges { node { status } } } } }`, nil, &buyerOrders)
	if e := buyerOrders.Viewer.Orders.Edges; len(e) != 1 || e[0].Node.Status != "PAID" {
		t.Fatalf("buyer's orders = %+v", buyerOrders)
	}
	// The buyer's late retry gets that order, and nothing more is charged.
	a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 1)), &out)
	if len(out.Checkout.Orders) != 1 || out.Checkout.Orders[0].Status != "PAID" || a.count("test_provider_charges") != 1 {
		t.Fatalf("late retry = %+v, charges %d", out, a.count("test_provider_charges"))
	}
	var pending int
	if err := a.db.GetContext(context.Background(), &pending, `SELECT count(*) FROM payments WHERE status = 'PENDING'`); err != nil || pending != 0 {
		t.Fatalf("pending payments = %d (%v)", pending, err)
	}
}

// TestTwoReplicasShareOneProviderAndRefund runs two handlers (two replicas)
// on one database: each writes its payment, references never collide, and
// an order paid through one is cancelled and refunded through the other.
func TestTwoReplicasShareOneProviderAndRefund(t *testing.T) {
	a := newTestAPI(t)
	b := a.replica()
	f := a.fixture("rep")
	var orders []string
	for i, api := range []*testAPI{a, b, a, b} {
		buyer, _ := a.user("buyer"+string(rune('a'+i)), false)
		var out checkoutOut
		api.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 1)), &out)
		if len(out.Checkout.Orders) != 1 {
			t.Fatalf("checkout %d = %+v", i, out)
		}
		orders = append(orders, out.Checkout.Orders[0].ID)
	}
	var refs int
	if err := a.db.GetContext(context.Background(), &refs, `SELECT count(DISTINCT provider_ref) FROM payments WHERE status = 'CAPTURED'`); err != nil || refs != 4 {
		t.Fatalf("distinct captured payments = %d (%v), want 4", refs, err)
	}
	for i, id := range orders {
		api := []*testAPI{b, a, b, a}[i]
		out, resp := api.change(f.sellerToken, cancelMutation, map[string]any{"id": id})
		if len(resp.Errors) > 0 || out.Order == nil || out.Order.Status != "REFUNDED" {
			t.Fatalf("cancel %d through the other replica = %+v %+v", i, out, resp.Errors)
		}
	}
	if a.count("test_provider_refunds") != 4 || a.stock(f.variantIDs[0]) != 5 {
		t.Fatalf("refunds %d, stock %d; want 4, 5", a.count("test_provider_refunds"), a.stock(f.variantIDs[0]))
	}
}

func TestSelfPurchaseEarnsNoCommissionAndBuysNoReach(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("brand")
	creator, _ := a.user("kol", true)
	video := a.publishVideo(creator, shop.productID)
	in := checkoutInput("self", "tok_ok", line(shop.variantIDs[0], 2))
	in["in"].(map[string]any)["sourceContentId"] = video
	var out checkoutOut
	a.ok(creator, checkoutMutation, in, &out)
	if len(out.Checkout.Orders) != 1 {
		t.Fatalf("checkout = %+v", out)
	}
	o := out.Checkout.Orders[0]
	if o.Creator != nil || o.Commission.Amount != "0.00" || o.SourceContent == nil || o.SourceContent.ID != video {
		t.Fatalf("self-purchase = %+v: want the source kept, no creator, no commission", o)
	}
	m, _ := a.videoMetrics(creator, video, "ALL_TIME")
	if m.Orders == nil || *m.Orders != 0 || m.Gmv.Amount != "0.00" {
		t.Fatalf("the creator's own purchase counted toward the video: %+v", m)
	}
}

// TestCartOfTwoContentsAttributesEachLine: a cart whose lines came from a
// creator's video and from the shop's own live session becomes one order
// (one shop) whose lines keep their own sources; commission is paid on the
// video's line only, and each content counts its own line.
func TestCartOfTwoContentsAttributesEachLine(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("brand")
	second := a.product(shop.sellerToken, shop.shopID, "brand-toner", nil)
	creator, _ := a.user("kol", true)
	buyer, _ := a.user("ana", false)
	video := a.publishVideo(creator, shop.productID)
	var ls struct {
		ScheduleLiveSession struct{ LiveSession struct{ ID string } }
	}
	a.ok(shop.sellerToken, scheduleLiveMutation, map[string]any{"in": map[string]any{"title": "Toner night",
		"scheduledStartAt": time.Now().Add(time.Hour).Format(time.RFC3339), "productIds": []string{second.ID}}}, &ls)
	session := ls.ScheduleLiveSession.LiveSession.ID
	if session == "" {
		t.Fatal("no live session scheduled")
	}
	add := `mutation($lines: [CartLineInput!]!) { cartLinesAdd(lines: $lines) { cart { id } userErrors { field code } } }`
	// A product that is not a card on the content cannot be added from it.
	var added struct {
		CartLinesAdd struct {
			Cart       struct{ ID string }
			UserErrors []userError
		}
	}
	a.ok(buyer, add, map[string]any{"lines": []map[string]any{{"variantId": second.Variants.Edges[0].Node.ID, "quantity": 1, "sourceContentId": video}}}, &added)
	if len(added.CartLinesAdd.UserErrors) != 1 || added.CartLinesAdd.UserErrors[0].Code != "PRODUCT_NOT_ON_CONTENT" || a.count("cart_lines") != 0 {
		t.Fatalf("adding a product not on the video = %+v", added)
	}
	a.ok(buyer, add, map[string]any{"lines": []map[string]any{
		{"variantId": shop.variantIDs[0], "quantity": 2, "sourceContentId": video},
		{"variantId": second.Variants.Edges[0].Node.ID, "quantity": 1, "sourceContentId": session},
	}}, &added)
	if len(added.CartLinesAdd.UserErrors) != 0 {
		t.Fatalf("cart = %+v", added)
	}
	var out struct {
		Checkout struct {
			Orders []struct {
				SourceContent *struct{ ID string }
				Commission    struct{ Amount string }
				Lines         []struct {
					SourceContent *struct{ ID string }
					Creator       *struct{ Handle string }
					Commission    struct{ Amount string }
					Total         struct{ Amount string }
				}
			}
			UserErrors []userError
		}
	}
	a.ok(buyer, `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { sourceContent { id } commission { amount }
		lines { sourceContent { id } creator { handle } commission { amount } total { amount } } } userErrors { field code } } }`,
		map[string]any{"in": map[string]any{"cartId": added.CartLinesAdd.Cart.ID, "idempotencyKey": "cart", "shippingAddress": address,
			"payment": map[string]any{"token": "tok_ok"}}}, &out)
	if len(out.Checkout.Orders) != 1 || len(out.Checkout.Orders[0].Lines) != 2 {
		t.Fatalf("checkout = %+v", out)
	}
	o := out.Checkout.Orders[0]
	v, l := o.Lines[0], o.Lines[1]
	if o.SourceContent != nil || v.SourceContent == nil || v.SourceContent.ID != video || l.SourceContent == nil || l.SourceContent.ID != session {
		t.Fatalf("sources: order %+v, lines %+v %+v", o.SourceContent, v.SourceContent, l.SourceContent)
	}
	// 10% of the video line's 39.80; nothing on the shop's own session.
	if v.Creator == nil || v.Creator.Handle != "kol" || v.Commission.Amount != "3.98" || l.Creator != nil || l.Commission.Amount != "0.00" || o.Commission.Amount != "3.98" {
		t.Fatalf("commission: order %s, lines %+v %+v", o.Commission.Amount, v, l)
	}
	vm, _ := a.videoMetrics(creator, video, "ALL_TIME")
	if vm.Orders == nil || *vm.Orders != 1 || vm.Gmv.Amount != v.Total.Amount {
		t.Fatalf("video figures = %+v, want its line only (%s)", vm, v.Total.Amount)
	}
	var live struct {
		Node struct {
			Metrics struct {
				Orders int
				Gmv    struct{ Amount string }
			}
		}
	}
	a.ok(shop.sellerToken, `query($id: ID!) { node(id: $id) { ... on LiveSession { metrics(window: ALL_TIME) { orders gmv { amount } } } } }`,
		map[string]any{"id": session}, &live)
	if live.Node.Metrics.Orders != 1 || live.Node.Metrics.Gmv.Amount != l.Total.Amount {
		t.Fatalf("live session figures = %+v, want its line (%s)", live.Node.Metrics, l.Total.Amount)
	}
}

// TestOneCartTwoTabs checks out the same cart from two tabs at once, each
// with its own key: one order, and a clear user error for the other.
func TestOneCartTwoTabs(t *testing.T) {
	for round := 0; round < 5; round++ {
		a := newTestAPI(t)
		f := a.fixture("tabs")
		buyer, _ := a.user("ana", false)
		var cart struct {
			CartLinesAdd struct{ Cart struct{ ID string } }
		}
		a.ok(buyer, `mutation($lines: [CartLineInput!]!) { cartLinesAdd(lines: $lines) { cart { id } } }`,
			map[string]any{"lines": []map[string]any{line(f.variantIDs[0], 2)}}, &cart)
		var wg sync.WaitGroup
		results := make([]checkoutOut, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := a.postRaw(buyer, checkoutMutation, map[string]any{"in": map[string]any{"cartId": cart.CartLinesAdd.Cart.ID,
					"idempotencyKey": "tab-" + string(rune('a'+i)), "shippingAddress": address, "payment": map[string]any{"token": "tok_ok"}}})
				if err != nil || len(resp.Errors) > 0 {
					t.Errorf("tab %d: %v %+v", i, err, resp.Errors)
					return
				}
				if err := json.Unmarshal(resp.Data, &results[i]); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		ordered, refused := 0, 0
		for _, r := range results {
			switch {
			case len(r.Checkout.Orders) == 1:
				ordered++
			case len(r.Checkout.UserErrors) == 1 && (r.Checkout.UserErrors[0].Code == "CART_IN_CHECKOUT" ||
				strings.Contains(r.Checkout.UserErrors[0].Message, "the cart is empty")):
				refused++
			default:
				t.Fatalf("round %d: unexpected answer %+v", round, r)
			}
		}
		if ordered != 1 || refused != 1 || a.count("orders") != 1 || a.count("test_provider_charges") != 1 || a.count("cart_lines") != 0 {
			t.Fatalf("round %d: ordered %d, refused %d, orders %d, charges %d, cart lines %d", round, ordered, refused,
				a.count("orders"), a.count("test_provider_charges"), a.count("cart_lines"))
		}
	}
}

// TestCartCheckoutRetryAfterTheCartWasBought: the answer to a cart checkout
// is lost; the retry with the same key finds the cart empty (it was bought)
// and gets the same order, not "the cart is empty".
func TestCartCheckoutRetryAfterTheCartWasBought(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("cartretry")
	buyer, _ := a.user("ana", false)
	var cart struct {
		CartLinesAdd struct{ Cart struct{ ID string } }
	}
	a.ok(buyer, `mutation($lines: [CartLineInput!]!) { cartLinesAdd(lines: $lines) { cart { id } } }`,
		map[string]any{"lines": []map[string]any{line(f.variantIDs[0], 1)}}, &cart)
	in := map[string]any{"in": map[string]any{"cartId": cart.CartLinesAdd.Cart.ID, "idempotencyKey": "cart-k",
		"shippingAddress": address, "payment": map[string]any{"token": "tok_ok"}}}
	var first, retry checkoutOut
	a.ok(buyer, checkoutMutation, in, &first)
	a.ok(buyer, checkoutMutation, in, &retry)
	if len(first.Checkout.Orders) != 1 || len(retry.Checkout.Orders) != 1 || retry.Checkout.Orders[0].Number != first.Checkout.Orders[0].Number {
		t.Fatalf("first %+v, retry %+v", first, retry)
	}
	if a.count("orders") != 1 || a.count("test_provider_charges") != 1 {
		t.Fatalf("orders %d, charges %d", a.count("orders"), a.count("test_provider_charges"))
	}
}

// TestSerializableIsolationNeverAnswersInternal runs concurrent checkouts
// and cancellations of one variant with every transaction SERIALIZABLE:
// conflicts the server's own retries cannot absorb come back as
// SERVICE_UNAVAILABLE with retryable: true (or a retryable user error),
// never INTERNAL, and the stock adds up.
func TestSerializableIsolationNeverAnswersInternal(t *testing.T) {
	base := newTestAPI(t)
	f := base.fixture("serial")
	base.setStock(f.sellerToken, f.variantIDs[0], 1000)
	if _, err := base.db.ExecContext(context.Background(), `DO $$ BEGIN
		EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = serializable', current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	a := base.replica() // a new pool: every connection is SERIALIZABLE
	var isolation string
	if err := a.db.GetContext(context.Background(), &isolation, `SHOW default_transaction_isolation`); err != nil || isolation != "serializable" {
		t.Fatalf("isolation = %q (%v)", isolation, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	// Every buyer exists before any checkout runs: a sign-up racing the
	// checkouts could itself meet a serialization failure in the set-up.
	tokens := make([]string, 12)
	for b := range tokens {
		tokens[b], _ = a.user(fmt.Sprintf("serial%d", b), false)
	}
	for _, token := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 8; n++ {
				resp, err := a.postRaw(token, checkoutMutation, checkoutInput(fmt.Sprintf("k%d", n), "tok_ok", line(f.variantIDs[0], 1)))
				if err != nil {
					t.Error(err)
					return
				}
				var out checkoutOut
				_ = json.Unmarshal(resp.Data, &out)
				code := resp.code()
				if code == "" && len(out.Checkout.UserErrors) > 0 {
					code = out.Checkout.UserErrors[0].Code
				}
				if code == "" && len(out.Checkout.Orders) == 1 && n%2 == 0 {
					cancel := a.post(token, cancelMutation, map[string]any{"id": out.Checkout.Orders[0].ID})
					if c := cancel.code(); c != "" {
						code = "cancel " + c
						if c != "SERVICE_UNAVAILABLE" || cancel.Errors[0].Extensions["retryable"] != true {
							t.Errorf("cancel answered %+v", cancel.Errors)
						}
					}
				}
				if len(resp.Errors) > 0 && (code != "SERVICE_UNAVAILABLE" || resp.Errors[0].Extensions["retryable"] != true) {
					t.Errorf("checkout answered %+v", resp.Errors)
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("answers by code: %v", codes)
	var sold, stock int
	if err := a.db.GetContext(context.Background(), &sold, `SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
		WHERE o.status IN ('PENDING', 'PAID')`); err != nil {
		t.Fatal(err)
	}
	if err := a.db.GetContext(context.Background(), &stock, `SELECT stock FROM product_variants v`+
		` WHERE v.id = (SELECT variant_id FROM order_lines LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	if sold+stock != 1000 {
		t.Fatalf("sold %d + stock %d != 1000", sold, stock)
	}
}

// foreignKeyProvider stands for a provider account on which this checkout's
// provider key already names another payment (another database on the same
// account): a charge is refused as a key mismatch, and a lookup finds that
// other payment, for another amount.
type foreignKeyProvider struct {
	*payment.TestProvider
	charge error
}

func (p foreignKeyProvider) Charge(context.Context, payment.Charge) (string, error) {
	return "", p.charge
}

func (p foreignKeyProvider) Lookup(context.Context, string) (payment.Payment, error) {
	return payment.Payment{Status: payment.StatusCaptured, Ref: "pi_foreign", Amount: 100, CurrencyCode: "EUR"}, nil
}

// TestAPaymentThatIsNotThisCheckoutsNeverPaysIt: the provider's payment
// under the key is someone else's. Told so at charge time, the checkout is
// refused and its stock released; finding it later by lookup, the
// reconciler releases the reservation instead of marking orders paid.
func TestAPaymentThatIsNotThisCheckoutsNeverPaysIt(t *testing.T) {
	for name, chargeErr := range map[string]error{"KeyMismatch": payment.ErrKeyMismatch, "OutcomeUnknown": errors.New("connection reset")} {
		t.Run(name, func(t *testing.T) {
			var p foreignKeyProvider
			a := newTestAPIWith(t, func(r *graph.Resolver) {
				p = foreignKeyProvider{payment.NewTestProvider(r.DB.DB.DB), chargeErr}
				r.Payments = p
				r.DB.PaymentSettings.SettleAfter = time.Millisecond
			})
			f := a.fixture("foreign")
			buyer, _ := a.user("ana", false)
			var out checkoutOut
			a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 1)), &out)
			if len(out.Checkout.Orders) != 0 || len(out.Checkout.UserErrors) != 1 {
				t.Fatalf("checkout = %+v", out)
			}
			if chargeErr == payment.ErrKeyMismatch && out.Checkout.UserErrors[0].Code != "IDEMPOTENCY_KEY_REUSED" {
				t.Fatalf("key mismatch answered %+v", out.Checkout.UserErrors)
			}
			a.reconcileUntil(p, func(n store.Reconciled) bool { return a.stock(f.variantIDs[0]) == 5 })
			var paid int
			if err := a.db.GetContext(context.Background(), &paid, `SELECT count(*) FROM orders WHERE status = 'PAID'`); err != nil || paid != 0 {
				t.Fatalf("paid orders = %d (%v), want none", paid, err)
			}
			if a.stock(f.variantIDs[0]) != 5 {
				t.Fatalf("stock = %d, want 5 (released)", a.stock(f.variantIDs[0]))
			}
		})
	}
}

// TestCartCheckoutProblemsPointAtTheInputSent: a cart checkout sends no
// lines, so a refusal points at cartId, or at the sourceContentId that does
// not feature the cart's product.
func TestCartCheckoutProblemsPointAtTheInputSent(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("cartfields")
	other := a.fixture("elsewhere")
	creator, _ := a.user("kol", true)
	buyer, _ := a.user("ana", false)
	video := a.publishVideo(creator, other.productID)
	var cart struct {
		CartLinesAdd struct{ Cart struct{ ID string } }
	}
	a.ok(buyer, `mutation($lines: [CartLineInput!]!) { cartLinesAdd(lines: $lines) { cart { id } } }`,
		map[string]any{"lines": []map[string]any{line(f.variantIDs[0], 1)}}, &cart)
	in := map[string]any{"in": map[string]any{"cartId": cart.CartLinesAdd.Cart.ID, "idempotencyKey": "k", "shippingAddress": address,
		"payment": map[string]any{"token": "tok_ok"}, "sourceContentId": video}}
	var out checkoutOut
	a.ok(buyer, checkoutMutation, in, &out)
	if len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "PRODUCT_NOT_ON_CONTENT" ||
		strings.Join(out.Checkout.UserErrors[0].Field, ".") != "input.sourceContentId" {
		t.Fatalf("not on the content: %+v", out.Checkout.UserErrors)
	}
	a.setStock(f.sellerToken, f.variantIDs[0], 0)
	delete(in["in"].(map[string]any), "sourceContentId")
	a.ok(buyer, checkoutMutation, in, &out)
	if len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "INSUFFICIENT_STOCK" ||
		strings.Join(out.Checkout.UserErrors[0].Field, ".") != "input.cartId" {
		t.Fatalf("out of stock: %+v", out.Checkout.UserErrors)
	}
}
