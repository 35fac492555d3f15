package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
)

// durableSessions makes the test database's new sessions commit durably
// (synchronous_commit on; the throwaway test cluster runs with it off) and
// drops the pool's idle connections, so every statement from here on runs
// as on a production server. What a commit waits for is then what
// pg_current_wal_flush_lsn shows.
func (a *testAPI) durableSessions() {
	a.t.Helper()
	if _, err := a.db.ExecContext(context.Background(), `DO $$ BEGIN
		EXECUTE format('ALTER DATABASE %I SET synchronous_commit = on', current_database()); END $$`); err != nil {
		a.t.Fatal(err)
	}
	a.db.SetMaxIdleConns(0)
	a.db.SetMaxIdleConns(40)
	var mode string
	if err := a.db.GetContext(context.Background(), &mode, `SHOW synchronous_commit`); err != nil || mode != "on" {
		a.t.Fatalf("synchronous_commit = %q (%v), want on", mode, err)
	}
}

// recordWALPositions adds a test trigger that notes, for each row inserted
// into table, the WAL insert position while the inserting statement runs
// (before its commit record): that row's commit is durable once
// pg_current_wal_flush_lsn has passed it.
func (a *testAPI) recordWALPositions(table, keyColumn string) {
	a.t.Helper()
	if _, err := a.db.ExecContext(context.Background(), fmt.Sprintf(`
		CREATE TABLE IF NOT EXISTS test_wal_positions (tbl text, key text, lsn pg_lsn);
		CREATE OR REPLACE FUNCTION test_note_%[1]s() RETURNS trigger LANGUAGE plpgsql AS $f$
			BEGIN INSERT INTO test_wal_positions VALUES ('%[1]s', NEW.%[2]s::text, pg_current_wal_insert_lsn()); RETURN NEW; END $f$;
		CREATE TRIGGER test_note_%[1]s AFTER INSERT ON %[1]s FOR EACH ROW EXECUTE FUNCTION test_note_%[1]s()`, table, keyColumn)); err != nil {
		a.t.Fatal(err)
	}
}

// flushed reports whether the row of table with key has reached the disk.
func (a *testAPI) flushed(table, key string) (bool, error) {
	var ok bool
	err := a.db.GetContext(context.Background(), &ok, `SELECT lsn <= pg_current_wal_flush_lsn() FROM test_wal_positions
		WHERE tbl = $1 AND key = $2`, table, key)
	return ok, err
}

// durabilityChecker is the test provider, checking at each charge that the
// checkout's reservation (its payment record, written in the reservation's
// statement) is already on disk.
type durabilityChecker struct {
	*payment.TestProvider
	a *testAPI

	mu                 sync.Mutex
	charges, unflushed int
	errs               []error
}

func (d *durabilityChecker) Charge(ctx context.Context, c payment.Charge) (string, error) {
	ok, err := d.a.flushed("payments", c.IdempotencyKey)
	d.mu.Lock()
	d.charges++
	if err != nil {
		d.errs = append(d.errs, err)
	} else if !ok {
		d.unflushed++
	}
	d.mu.Unlock()
	return d.TestProvider.Charge(ctx, c)
}

// TestReservationIsDurableBeforeTheProviderIsCalled: the short path's
// reservation commits without waiting for the disk, so the hot variant's row
// lock is not held through a flush; it is flushed before the provider is
// asked to charge. Buyers race for the last units of one variant, durably
// committing as in production: every charge finds its reservation on disk,
// no unit is sold twice, and each order has exactly one charge.
func TestReservationIsDurableBeforeTheProviderIsCalled(t *testing.T) {
	var checker *durabilityChecker
	a := newTestAPIWith(t, func(r *graph.Resolver) {
		checker = &durabilityChecker{TestProvider: payment.NewTestProvider(r.DB.DB.DB)}
		r.Payments = checker
	})
	checker.a = a
	a.durableSessions()
	a.recordWALPositions("payments", "provider_key")
	f := a.fixture("lastunits")
	const stock, buyers, each = 7, 12, 2
	a.setStock(f.sellerToken, f.variantIDs[0], stock)
	tokens := make([]string, buyers)
	for i := range tokens {
		tokens[i], _ = a.user(fmt.Sprintf("racer%02d", i), false)
	}
	results := make([]checkoutOut, buyers)
	errs := make([]error, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := a.postRaw(tokens[i], checkoutMutation, checkoutInput("last", "tok_ok", line(f.variantIDs[0], each)))
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
	if orders != stock/each || short != buyers-stock/each || a.stock(f.variantIDs[0]) != stock%each {
		t.Fatalf("orders %d, INSUFFICIENT_STOCK %d, stock %d; want %d, %d, %d", orders, short, a.stock(f.variantIDs[0]),
			stock/each, buyers-stock/each, stock%each)
	}
	if got := a.count("test_provider_charges"); got != orders || a.count("orders") != orders {
		t.Fatalf("charges %d, orders %d; want %d each", got, a.count("orders"), orders)
	}
	if len(checker.errs) > 0 || checker.charges != orders || checker.unflushed != 0 {
		t.Fatalf("of %d charges, %d found their reservation not yet on disk (errors: %v); want %d charges, 0",
			checker.charges, checker.unflushed, checker.errs, orders)
	}
}

// TestPaidEventIsDurableWhenAnswered: a completion commits without waiting
// for the disk only when it wrote no webhook event; one that wrote an
// ORDER_PAID event is on disk before the buyer is answered, so no event is
// ever delivered for a completion a crash could take back.
func TestPaidEventIsDurableWhenAnswered(t *testing.T) {
	a := newTestAPI(t)
	a.durableSessions()
	a.recordWALPositions("webhook_events", "id")
	f := a.fixture("paidhook")
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"orders:read"})
	rcv := newReceiver(t)
	a.subscribe(app, rcv.URL+"/hooks", "ORDER_PAID")
	buyer, _ := a.user("hookbuyer", false)
	for i := range 5 {
		var out checkoutOut
		a.ok(buyer, checkoutMutation, checkoutInput(fmt.Sprintf("k%d", i), "tok_ok", line(f.variantIDs[0], 1)), &out)
		if len(out.Checkout.Orders) != 1 {
			t.Fatalf("checkout %d: %+v", i, out.Checkout)
		}
		var ids []string
		if err := a.db.SelectContext(context.Background(), &ids, `SELECT key FROM test_wal_positions WHERE tbl = 'webhook_events' ORDER BY lsn DESC LIMIT 1`); err != nil || len(ids) != 1 {
			t.Fatalf("event of checkout %d: %v %v", i, ids, err)
		}
		if ok, err := a.flushed("webhook_events", ids[0]); err != nil || !ok {
			t.Fatalf("checkout %d answered before its ORDER_PAID event %s was on disk (%v)", i, ids[0], err)
		}
	}
}

// TestCompletionLostToACrashIsMadeAgain: a completion that commits without
// waiting for the disk can be lost to a PostgreSQL crash after the buyer
// was answered. The rows are then as the durable reservation left them
// (orders, payment and checkout PENDING, the provider's charge kept): the
// buyer's retry with the same key, once the reservation's lease has run
// out, answers the same order, and the provider is not charged again; the
// reconciler completes it the same way when the buyer never comes back.
func TestCompletionLostToACrashIsMadeAgain(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("lostpaid")
	buyer, _ := a.user("ana", false)
	loseCompletion := func() {
		a.exec(`UPDATE orders SET status = 'PENDING', paid_at = NULL`)
		a.exec(`UPDATE payments SET status = 'PENDING', provider_ref = NULL, lease_until = now() - interval '1 second',
			updated_at = now() - interval '1 hour'`)
		a.exec(`UPDATE checkouts SET status = 'PENDING', payment_ref = NULL`)
	}
	var first checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 2)), &first)
	if len(first.Checkout.Orders) != 1 {
		t.Fatalf("checkout = %+v", first.Checkout)
	}
	loseCompletion()
	var retry checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("k", "tok_ok", line(f.variantIDs[0], 2)), &retry)
	if len(retry.Checkout.Orders) != 1 || retry.Checkout.Orders[0].ID != first.Checkout.Orders[0].ID || retry.Checkout.Orders[0].Status != "PAID" {
		t.Fatalf("retry = %+v, want order %s PAID", retry.Checkout, first.Checkout.Orders[0].ID)
	}
	loseCompletion()
	n, err := a.db.ReconcilePayments(context.Background(), a.payments)
	if err != nil || n.Completed != 1 {
		t.Fatalf("reconciler: %+v, %v; want one completed", n, err)
	}
	var status string
	if err := a.db.GetContext(context.Background(), &status, `SELECT status FROM orders`); err != nil || status != "PAID" {
		t.Fatalf("order status %q (%v), want PAID", status, err)
	}
	if a.count("test_provider_charges") != 1 || a.count("orders") != 1 || a.stock(f.variantIDs[0]) != 3 {
		t.Fatalf("charges %d, orders %d, stock %d; want 1, 1, 3", a.count("test_provider_charges"), a.count("orders"), a.stock(f.variantIDs[0]))
	}
}

// TestCheckoutReservationKeepsItsGenericPlan: the statements of a checkout
// are kept prepared per connection, and PostgreSQL plans a kept statement
// once (its generic plan) unless its custom plans look cheaper. The
// reservation did not keep its generic plan while array arguments were in
// the planner's sight: it was planned afresh on every checkout, which took
// longer than running it. Checkouts on a pool of one connection: no
// statement of theirs has been planned more than PostgreSQL's first five
// times. The reservation runs inside the procedure checkout_reserve, whose
// statements PL/pgSQL plans by the same rule: store's
// TestCheckoutReservationStatementsKeepTheirGenericPlan checks them.
func TestCheckoutReservationKeepsItsGenericPlan(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("plans")
	_, buyer := a.user("planner", false)
	ctx := context.Background()
	db, err := store.Open(ctx, a.dsn, store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pay := payment.NewTestProvider(db.DB.DB)
	variant := appIDOf(t, f.variantIDs[0])
	a.setStock(f.sellerToken, f.variantIDs[0], 100)
	const checkouts = 12
	for i := range checkouts {
		res, err := db.Checkout(ctx, pay, store.CheckoutRequest{BuyerID: buyer.ID, IdempotencyKey: fmt.Sprintf("plan-%d", i),
			Lines: []store.CheckoutLine{{VariantID: variant, Quantity: 1}}, PaymentToken: "tok_ok",
			ShippingAddress: store.Address{Name: "Ana", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", CountryCode: "US"}})
		if err != nil || len(res.Orders) != 1 {
			t.Fatalf("checkout %d: %+v, %v", i, res, err)
		}
	}
	var plans []struct {
		Statement string `db:"statement"`
		Generic   int    `db:"generic_plans"`
		Custom    int    `db:"custom_plans"`
	}
	if err := db.SelectContext(ctx, &plans, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements`); err != nil {
		t.Fatal(err)
	}
	reservation := false
	for _, p := range plans {
		if strings.HasPrefix(p.Statement, "CALL checkout_reserve(") {
			// A utility statement: PostgreSQL counts each execution as a
			// custom plan but plans nothing (its statements are PL/pgSQL's).
			reservation = true
			continue
		}
		if p.Custom > 5 {
			t.Errorf("planned afresh %d times of %d (generic plan used %d times): %.120s", p.Custom, checkouts, p.Generic, p.Statement)
		}
	}
	if !reservation {
		t.Fatalf("no reservation statement among the connection's prepared statements: %+v", plans)
	}
}
