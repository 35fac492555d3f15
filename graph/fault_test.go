package graph_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
)

// connectionKiller is a payment provider that, on the first charge, kills
// every other database connection of the test, so the checkout's next
// statements meet broken connections.
type connectionKiller struct {
	*payment.TestProvider
	db    *store.DB
	fired atomic.Bool
}

func (k *connectionKiller) Charge(ctx context.Context, c payment.Charge) (string, error) {
	if k.fired.CompareAndSwap(false, true) {
		if _, err := k.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			return "", err
		}
	}
	return k.TestProvider.Charge(ctx, c)
}

func TestConnectionKilledMidCheckoutEndsWithOneOrder(t *testing.T) {
	var killer *connectionKiller
	a := newTestAPIWith(t, func(r *graph.Resolver) {
		killer = &connectionKiller{TestProvider: payment.NewTestProvider(r.DB.DB.DB), db: r.DB}
		r.Payments = killer
	})
	f := a.fixture("kill")
	buyer, _ := a.user("ana", false)
	in := checkoutInput("one-key", "tok_ok", line(f.variantIDs[0], 2))
	for attempt := 0; attempt < 5; attempt++ {
		resp, err := a.postRaw(buyer, checkoutMutation, in)
		if err != nil {
			t.Fatal(err)
		}
		var out checkoutOut
		if len(resp.Errors) == 0 && json.Unmarshal(resp.Data, &out) == nil && len(out.Checkout.Orders) == 1 {
			break // the client retries with its key until it has its order
		}
	}
	if !killer.fired.Load() {
		t.Fatal("the connections were never killed")
	}
	if a.count("orders") != 1 || a.count("test_provider_charges") != 1 || a.stock(f.variantIDs[0]) != 3 {
		t.Fatalf("orders %d, charges %d, stock %d; want 1, 1, 3", a.count("orders"), a.count("test_provider_charges"), a.stock(f.variantIDs[0]))
	}
}
