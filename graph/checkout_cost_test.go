package graph_test

import (
	"context"
	"testing"
	"time"

	"showcase/graph"
)

// checkoutCost is priced now for signed-out callers too: the anonymous
// response cache never shares it, so a price change shows in the next
// preview (the buy sheet re-prices after TOTAL_CHANGED), and apps are
// refused as for checkout.
func TestCheckoutCostIsNeverSharedFromTheCache(t *testing.T) {
	a := newTestAPICached(t, time.Minute, func(*graph.Resolver) {})
	f := a.fixture("uncached")
	q := `query($in: CheckoutCostInput!) { checkoutCost(input: $in) { cost { totalAmount { amount } } userErrors { code } } }`
	vars := map[string]any{"in": map[string]any{"lines": []any{map[string]any{"variantId": f.variantIDs[0], "quantity": 1}}, "countryCode": "US"}}
	total := func() string {
		t.Helper()
		var out struct {
			CheckoutCost struct {
				Cost       *struct{ TotalAmount struct{ Amount string } }
				UserErrors []userError
			}
		}
		a.ok("", q, vars, &out)
		if out.CheckoutCost.Cost == nil {
			t.Fatalf("checkoutCost: %+v", out.CheckoutCost.UserErrors)
		}
		return out.CheckoutCost.Cost.TotalAmount.Amount
	}
	if got := total(); got != "19.90" {
		t.Fatalf("total %s, want 19.90 (a shop without rates ships free)", got)
	}
	if _, err := a.db.ExecContext(context.Background(), `UPDATE product_variants SET price_amount = 2190 WHERE sku = 'uncached-serum-S'`); err != nil {
		t.Fatal(err)
	}
	if got := total(); got != "21.90" {
		t.Fatalf("after the price change the preview says %s, want 21.90", got)
	}
}
