package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"showcase/auth"
	"showcase/server/demo"
	"showcase/store"
	"showcase/store/payment"
	"showcase/store/payment/stripemock"
	"showcase/store/storetest"
)

// checkoutAnswer is what a checkout request came to, as a client sees it.
type checkoutAnswer struct {
	orders []string // order numbers
	code   string   // a user error's code, or a request error's extensions.code
	// retry says the same request, with the same key, may still succeed.
	retry bool
}

const faultCheckout = `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { number status } userErrors { code } } }`

// sendCheckout checks out qty of variant under key; transport failures and
// retryable answers come back with retry set.
func sendCheckout(base, token, key, variant string, qty int) checkoutAnswer {
	body, _ := json.Marshal(map[string]any{"query": faultCheckout, "variables": map[string]any{"in": map[string]any{
		"lines": []map[string]any{{"variantId": variant, "quantity": qty}}, "idempotencyKey": key,
		"shippingAddress": map[string]any{"name": "A", "line1": "1 Main St", "city": "X", "postalCode": "1", "countryCode": "US"},
		"payment":         map[string]any{"token": "tok_ok"}}}})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return checkoutAnswer{code: "TRANSPORT", retry: true}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Data struct {
			Checkout *struct {
				Orders     []struct{ Number, Status string }
				UserErrors []struct{ Code string }
			}
		}
		Errors []struct {
			Extensions map[string]any
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return checkoutAnswer{code: fmt.Sprintf("HTTP %d", res.StatusCode), retry: res.StatusCode >= 500}
	}
	if len(out.Errors) > 0 {
		code, _ := out.Errors[0].Extensions["code"].(string)
		retry, _ := out.Errors[0].Extensions["retryable"].(bool)
		return checkoutAnswer{code: code, retry: retry}
	}
	a := checkoutAnswer{}
	for _, o := range out.Data.Checkout.Orders {
		a.orders = append(a.orders, o.Number)
	}
	if len(out.Data.Checkout.UserErrors) > 0 {
		a.code = out.Data.Checkout.UserErrors[0].Code
		a.retry = store.RetryableReasons[a.code]
	}
	return a
}

// moneyInvariants checks, after every key was retried and the reconciler
// ran: one charge at the provider per paid checkout and none for any other,
// every charge recorded on its payment, one order per paid checkout (one
// shop), nothing left pending, and units sold + stock = start.
func moneyInvariants(t *testing.T, db *sqlx.DB, variantID int64, start int) {
	t.Helper()
	ctx := context.Background()
	var c struct {
		Charges          int `db:"charges"`
		PaidCheckouts    int `db:"paid_checkouts"`
		Captured         int `db:"captured"`
		Orphans          int `db:"orphans"`
		Orders           int `db:"orders"`
		Pending          int `db:"pending"`
		PendingPayments  int `db:"pending_payments"`
		PendingCheckouts int `db:"pending_checkouts"`
		Sold             int `db:"sold"`
		Stock            int `db:"stock"`
	}
	// Seeded demo orders (keys seed-N) are history, not this test's.
	if err := db.GetContext(ctx, &c, `WITH co AS (SELECT * FROM checkouts WHERE idempotency_key NOT LIKE 'seed-%')
		SELECT
		(SELECT count(*) FROM test_provider_charges WHERE idempotency_key LIKE 'checkout-%') AS charges,
		(SELECT count(*) FROM co WHERE status = 'PAID') AS paid_checkouts,
		(SELECT count(*) FROM payments p JOIN co ON co.id = p.checkout_id
		  JOIN test_provider_charges c ON c.idempotency_key = p.provider_key AND c.ref = p.provider_ref
		  WHERE p.status = 'CAPTURED') AS captured,
		(SELECT count(*) FROM test_provider_charges c LEFT JOIN payments p ON p.provider_key = c.idempotency_key AND p.status = 'CAPTURED'
		  WHERE c.idempotency_key LIKE 'checkout-%' AND p.id IS NULL) AS orphans,
		(SELECT count(*) FROM orders o JOIN co ON co.id = o.checkout_id WHERE o.status = 'PAID') AS orders,
		(SELECT count(*) FROM orders WHERE status = 'PENDING') AS pending,
		(SELECT count(*) FROM payments WHERE status = 'PENDING') AS pending_payments,
		(SELECT count(*) FROM checkouts WHERE status = 'PENDING') AS pending_checkouts,
		(SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN co ON co.id = o.checkout_id
		  WHERE l.variant_id = $1 AND o.status = 'PAID') AS sold,
		(SELECT stock FROM product_variants WHERE id = $1) AS stock`, variantID); err != nil {
		t.Fatal(err)
	}
	if c.Charges != c.PaidCheckouts || c.Captured != c.PaidCheckouts || c.Orphans != 0 || c.Orders != c.PaidCheckouts ||
		c.Pending+c.PendingPayments+c.PendingCheckouts != 0 || c.Sold+c.Stock != start {
		t.Fatalf("money invariants broken: %+v (start stock %d)", c, start)
	}
}

// TestCheckoutSurvivesDatabaseRestart: buyers check out in a loop while
// PostgreSQL is stopped for a second and started again. Then every key is
// retried until it has a final answer, and the reconciler settles the rest:
// exactly one charge per paid key, counted at the provider; one order each;
// nothing pending; units sold + stock = the starting stock.
func TestCheckoutSurvivesDatabaseRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops its own PostgreSQL")
	}
	ctx := context.Background()
	own := startOwnDatabase(t, 30)
	db := own.db
	if _, err := demo.Seed(ctx, db, demo.SeedOptions{Users: 16, Creators: 2, Shops: 2, Products: 2, Videos: 2, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	const start = 5000
	var variantID int64
	if err := db.GetContext(ctx, &variantID, `UPDATE product_variants SET stock = $1
		WHERE id = (SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id WHERE p.status = 'ACTIVE' ORDER BY v.id LIMIT 1)
		RETURNING id`, start); err != nil {
		t.Fatal(err)
	}
	db.PaymentSettings = store.PaymentSettings{Timeout: 2 * time.Second, SettleAfter: 300 * time.Millisecond}
	tokens := testTokens(t)
	srv := testServer(t, db, tokens, nil, map[string]string{"RATE_LIMIT_RPS": "100000", "RATE_LIMIT_BURST": "100000",
		"GRAPHQL_MAX_QUEUED_PER_CALLER": "1000"})
	variant := globalIDFor("ProductVariant", variantID)

	const buyers = 12
	var mu sync.Mutex
	keys := map[string]string{} // key -> token
	codes := map[string]int{}   // answers during the load, by code
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for b := 0; b < buyers; b++ {
		token, err := tokens.Issue(int64(b + 1))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 400; n++ { // bounded: stops by itself
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("buyer-%d-%d", b, n)
				mu.Lock()
				keys[key] = token
				mu.Unlock()
				a := sendCheckout(srv.URL, token, key, variant, 1)
				mu.Lock()
				codes[a.code]++
				mu.Unlock()
				if a.retry {
					time.Sleep(20 * time.Millisecond) // the database may be down: do not spin
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond) // checkouts under way
	own.stop()
	time.Sleep(time.Second) // the outage
	own.restart()
	time.Sleep(700 * time.Millisecond) // checkouts after the restart
	close(stop)
	wg.Wait()

	// Every key is retried until its answer is final.
	deadline := time.Now().Add(60 * time.Second)
	retried := 0
	for key, token := range keys {
		for {
			a := sendCheckout(srv.URL, token, key, variant, 1)
			if !a.retry {
				if len(a.orders) > 1 || (len(a.orders) == 0 && a.code != "CHECKOUT_EXPIRED") {
					t.Fatalf("key %s ended with %+v", key, a)
				}
				break
			}
			retried++
			if time.Now().After(deadline) {
				t.Fatalf("key %s still answers %+v after a minute", key, a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// What no retry settled, the reconciler does.
	for i := 0; ; i++ {
		var pending int
		if err := db.GetContext(ctx, &pending, `SELECT count(*) FROM payments WHERE status = 'PENDING'`); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if i > 200 {
			t.Fatalf("%d payments still pending", pending)
		}
		if _, err := db.ReconcilePayments(ctx, payment.NewTestProvider(db.DB.DB)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d keys, answers during the load by code %v, %d retries needed after the restart", len(keys), codes, retried)
	moneyInvariants(t, db.DB, variantID, start)
}

// globalIDFor builds a global ID as the API does.
func globalIDFor(typeName string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d", typeName, id)))
}

// TestServerKilledBetweenChargeAndCompletion kills the server process after
// the provider charged and before the orders were marked paid; a new process
// settles it: the buyer's retry gets the order, and there is one charge.
func TestServerKilledBetweenChargeAndCompletion(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	ctx := context.Background()
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	env := []string{"PAYMENT_TIMEOUT=2s", "PAYMENT_SETTLE_AFTER=500ms", "PAYMENT_RECONCILE_INTERVAL=200ms", "JWT_SECRET=" + strings.Repeat("s", 32)}
	first := startServerEnv(t, bin, dsn, env, "-seed")
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var login struct{ LogIn struct{ Token string } }
	post(t, first.base, "", `mutation { logIn(input: {email: "demo@showcase.dev", password: "showcase-demo"}) { token } }`, &login)
	variantID, start := activeVariant(t, db, 5)
	// The completion fails (retryably) until the trigger goes: the process
	// keeps retrying it, and is killed there.
	if _, err := db.ExecContext(ctx, `CREATE FUNCTION test_block_capture() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.status = 'CAPTURED' THEN RAISE EXCEPTION 'blocked by the test' USING ERRCODE = '40001'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER test_block_capture BEFORE UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION test_block_capture()`); err != nil {
		t.Fatal(err)
	}
	variant := globalIDFor("ProductVariant", variantID)
	answered := make(chan checkoutAnswer, 1)
	go func() { answered <- sendCheckout(first.base, login.LogIn.Token, "kill-me", variant, 2) }()
	waitFor(t, 20*time.Second, "the provider's charge", func() bool {
		var n int
		_ = db.GetContext(ctx, &n, `SELECT count(*) FROM test_provider_charges WHERE idempotency_key LIKE 'checkout-%'`)
		return n == 1
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	if a := <-answered; len(a.orders) > 0 {
		t.Fatalf("the killed process answered with orders: %+v", a)
	}
	if _, err := db.ExecContext(ctx, `DROP TRIGGER test_block_capture ON payments`); err != nil {
		t.Fatal(err)
	}
	second := startServerEnv(t, bin, dsn, env)
	var got checkoutAnswer
	waitFor(t, 60*time.Second, "the buyer's retry to get the order", func() bool {
		got = sendCheckout(second.base, login.LogIn.Token, "kill-me", variant, 2)
		return !got.retry
	})
	if len(got.orders) != 1 {
		t.Fatalf("retry after the kill = %+v", got)
	}
	if again := sendCheckout(second.base, login.LogIn.Token, "kill-me", variant, 2); len(again.orders) != 1 || again.orders[0] != got.orders[0] {
		t.Fatalf("a second retry = %+v, want order %s", again, got.orders[0])
	}
	moneyInvariants(t, db, variantID, start)
}

// TestThreeReplicasKeepEveryPaymentAndRefundFromAny runs three server
// processes on one database: checkouts through each are all recorded with
// their own payment, and each order is cancelled and refunded through
// another replica.
func TestThreeReplicasKeepEveryPaymentAndRefundFromAny(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	ctx := context.Background()
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	secret := strings.Repeat("r", 32)
	env := []string{"JWT_SECRET=" + secret}
	replicas := []*serverProcess{startServerEnv(t, bin, dsn, env, "-seed")}
	replicas = append(replicas, startServerEnv(t, bin, dsn, env), startServerEnv(t, bin, dsn, env))
	tokens, err := auth.NewTokens([]byte(secret), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	variantID, start := activeVariant(t, db, 10)
	variant := globalIDFor("ProductVariant", variantID)
	type bought struct {
		token, order string
		replica      int
	}
	var orders []bought
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < 6; i++ {
		token, err := tokens.Issue(int64(20 + i))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := sendCheckout(replicas[i%3].base, token, "replica-key", variant, 1)
			mu.Lock()
			defer mu.Unlock()
			if len(a.orders) != 1 {
				t.Errorf("checkout through replica %d = %+v", i%3, a)
				return
			}
			orders = append(orders, bought{token, a.orders[0], i % 3})
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var distinct int
	if err := db.GetContext(ctx, &distinct, `SELECT count(DISTINCT provider_ref) FROM payments p JOIN checkouts c ON c.id = p.checkout_id
		WHERE p.status = 'CAPTURED' AND c.idempotency_key = 'replica-key'`); err != nil || distinct != 6 {
		t.Fatalf("captured payments with distinct references = %d (%v), want 6", distinct, err)
	}
	for _, b := range orders {
		var id int64
		if err := db.GetContext(ctx, &id, `SELECT id FROM orders WHERE number = $1`, strings.TrimPrefix(b.order, "#")); err != nil {
			t.Fatal(err)
		}
		var out struct {
			CancelOrder struct {
				Order      *struct{ Status string }
				UserErrors []struct{ Code string }
			}
		}
		post(t, replicas[(b.replica+1)%3].base, b.token, `mutation($id: ID!) { cancelOrder(id: $id) { order { status } userErrors { code } } }`,
			&out, map[string]any{"id": globalIDFor("Order", id)})
		if out.CancelOrder.Order == nil || out.CancelOrder.Order.Status != "REFUNDED" {
			t.Fatalf("cancel through another replica = %+v", out)
		}
	}
	var refunds, stock int
	if err := db.GetContext(ctx, &refunds, `SELECT count(*) FROM test_provider_refunds`); err != nil || refunds != 6 {
		t.Fatalf("refunds at the provider = %d (%v), want 6", refunds, err)
	}
	if err := db.GetContext(ctx, &stock, `SELECT stock FROM product_variants WHERE id = $1`, variantID); err != nil || stock != start {
		t.Fatalf("stock = %d (%v), want %d", stock, err, start)
	}
}

// waitFor polls cond every 50 ms until it holds, or fails the test.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStripeProviderEndToEnd runs the real server binary with
// PAYMENT_PROVIDER=stripe against Stripe's official mock: a checkout pays
// through a PaymentIntent, and its payment records the PaymentIntent.
func TestStripeProviderEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs stripe-mock and the server binary")
	}
	ctx := context.Background()
	mock := stripemock.Start(t)
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	p := startServerEnv(t, bin, dsn, []string{"PAYMENT_PROVIDER=stripe", "STRIPE_SECRET_KEY=" + stripemock.SecretKey,
		"STRIPE_API_BASE=" + mock}, "-seed")
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var login struct{ LogIn struct{ Token string } }
	post(t, p.base, "", `mutation { logIn(input: {email: "demo@showcase.dev", password: "showcase-demo"}) { token } }`, &login)
	variantID, _ := activeVariant(t, db, 2)
	a := sendCheckout(p.base, login.LogIn.Token, "stripe-key", globalIDFor("ProductVariant", variantID), 1)
	if len(a.orders) != 1 {
		t.Fatalf("checkout through Stripe = %+v", a)
	}
	var pay struct {
		Provider string `db:"provider"`
		Status   string `db:"status"`
		Ref      string `db:"provider_ref"`
	}
	if err := db.GetContext(ctx, &pay, `SELECT p.provider, p.status, p.provider_ref FROM payments p JOIN checkouts c ON c.id = p.checkout_id
		WHERE c.idempotency_key = 'stripe-key'`); err != nil {
		t.Fatal(err)
	}
	if pay.Provider != "stripe" || pay.Status != "CAPTURED" || !strings.HasPrefix(pay.Ref, "pi_") {
		t.Fatalf("payment = %+v, want a captured Stripe PaymentIntent", pay)
	}
}

// activeVariant finds the first variant of an active product with more than
// minStock units, and its stock.
func activeVariant(t *testing.T, db *sqlx.DB, minStock int) (id int64, stock int) {
	t.Helper()
	var v struct {
		ID    int64 `db:"id"`
		Stock int   `db:"stock"`
	}
	if err := db.GetContext(context.Background(), &v, `SELECT v.id, v.stock FROM product_variants v JOIN products p ON p.id = v.product_id
		WHERE p.status = 'ACTIVE' AND v.stock > $1 ORDER BY v.id LIMIT 1`, minStock); err != nil {
		t.Fatal(err)
	}
	return v.ID, v.Stock
}
