package main

import (
	"context"
	"strings"
	"testing"

	"showcase/store"
)

// TestAdmissionHoldsTheTurnThroughDeferredParts: a query sent over a
// websocket with @defer fragments executes those fragments after its
// first response; the turn it took must be held until its last response.
// With GRAPHQL_MAX_CONCURRENT=1, a websocket query whose deferred
// fragment blocks on the locked products table still holds the one slot
// after its first `next` message (the gauge shows it executing), so a
// plain query sent meanwhile is refused (no queue) instead of executing
// beside the limit.
func TestAdmissionHoldsTheTurnThroughDeferredParts(t *testing.T) {
	rig := newAdmissionRig(t, map[string]string{"GRAPHQL_MAX_QUEUED": "0"})
	if _, err := rig.db.CreateShop(context.Background(), store.NewShop{OwnerID: rig.userID, Handle: "deferring", Name: "Deferring",
		OperatingModel: store.SelfOperated, CurrencyCode: "USD"}); err != nil {
		t.Fatal(err)
	}
	ws := dialAdmissionWS(t, rig.api.URL, "")
	unlock := rig.lockProducts()
	ws.subscribe("d", `{ shop(handle: "deferring") { handle ... @defer { deferred: products(first: 1) { edges { node { id } } } } } }`)
	first := ws.answer("d", "the query's first response did not arrive")
	if first.Type != "next" || !strings.Contains(string(first.Payload), `"hasNext":true`) {
		t.Fatalf("first response of a deferred query: %s %s", first.Type, first.Payload)
	}
	// The deferred fragment is blocked on the lock: it is executing.
	if e, q := admissionGauges(t, rig.debug.URL); e != 1 || q != 0 {
		t.Errorf("while a deferred fragment executes: executing %d, queued %d; want 1, 0 (it runs without a turn)", e, q)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	second := ws.answer("d", "the deferred part did not arrive")
	if second.Type != "next" || !strings.Contains(string(second.Payload), `"deferred"`) {
		t.Fatalf("deferred response: %s %s", second.Type, second.Payload)
	}
	awaitAdmission(t, rig.debug.URL, 0, 0)
}
