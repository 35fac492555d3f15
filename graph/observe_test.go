package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
)

// panickyProvider stands in for a provider with a bug.
type panickyProvider struct{ *payment.TestProvider }

func (*panickyProvider) Charge(context.Context, payment.Charge) (string, error) {
	panic("provider bug")
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func TestPanicIsInternalForThatFieldAndLoggedWithTheRequestID(t *testing.T) {
	var logs lockedBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	defer slog.SetDefault(prev)

	var provider *panickyProvider
	a := newTestAPIWith(t, func(r *graph.Resolver) {
		provider = &panickyProvider{payment.NewTestProvider(r.DB.DB.DB)}
		r.Payments = provider
		r.DB.PaymentSettings.SettleAfter = time.Millisecond
	})
	f := a.fixture("p")
	buyer, _ := a.user("b", false)
	body := strings.NewReader(`{"query": "mutation($in: CheckoutInput!) { checkout(input: $in) { orders { id } } } ",
		"variables": {"in": {"lines": [{"variantId": "` + f.variantIDs[0] + `", "quantity": 1}], "idempotencyKey": "k",
		"shippingAddress": {"name": "a", "line1": "b", "city": "c", "postalCode": "d", "countryCode": "US"}, "payment": {"token": "tok_ok"}}}}`)
	req := httptest.NewRequest(http.MethodPost, "/graphql", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+buyer)
	req.Header.Set("X-Request-Id", "req-panic-1")
	resp := a.serve(req)
	if resp.code() != "INTERNAL" || resp.Errors[0].Message != "internal error" || len(resp.Errors[0].Path) != 1 {
		t.Fatalf("errors = %+v", resp.Errors)
	}
	if resp.Header.Get("X-Request-Id") != "req-panic-1" {
		t.Fatalf("X-Request-Id = %q", resp.Header.Get("X-Request-Id"))
	}
	// Whether the provider charged is unknown: the reservation stands until
	// the reconciler asks the provider, which has no such payment.
	if got := a.stock(f.variantIDs[0]); got != 4 {
		t.Fatalf("stock right after a panicking payment = %d, want 4 (still reserved)", got)
	}
	if n := a.reconcileUntil(provider, func(n store.Reconciled) bool { return n.Expired == 1 }); n.Expired != 1 {
		t.Fatalf("reconcile = %+v; want one expired", n)
	}
	if got := a.stock(f.variantIDs[0]); got != 5 {
		t.Fatalf("stock after the reconciler = %d, want 5", got)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"resolver panic"`) || !strings.Contains(out, `"request_id":"req-panic-1"`) || !strings.Contains(out, "provider bug") {
		t.Fatalf("logs lack the panic with its request id:\n%s", out)
	}
	if strings.Contains(out, buyer) || strings.Contains(out, "Bearer") {
		t.Fatal("a token reached the logs")
	}
	if !strings.Contains(out, `"msg":"graphql"`) || !strings.Contains(out, `"error_codes":["INTERNAL"]`) {
		t.Fatalf("no operation log line:\n%s", out)
	}
}
