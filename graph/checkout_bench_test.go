package graph_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// Checkouts per second through the real handler and PostgreSQL, on distinct
// variants (no contention) and on one hot variant (every checkout locks the
// same row) at 2, 16 and 64 concurrent buyers, as the load benchmark runs
// them, and at 1 (one checkout's latency, no lock waited for), asking for what it asks (the orders' ids: the full selection's batch
// loaders wait for company, which would measure their window, not checkout).
// Run: go test ./graph -run '^$' -bench Checkout -benchtime 2000x
func BenchmarkCheckout(b *testing.B) {
	const mutation = `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { id } userErrors { code } } }`
	for _, bc := range []struct {
		name             string
		variants, buyers int
	}{{"DistinctVariants", 64, 16}, {"HotVariant/1", 1, 1}, {"HotVariant/2", 1, 2}, {"HotVariant/16", 1, 16}, {"HotVariant/64", 1, 64}} {
		b.Run(bc.name, func(b *testing.B) {
			a := newTestAPI(b)
			seller, _ := a.user("seller", false)
			shopID := a.shop(seller, "bench-shop")
			var variants []string
			for len(variants) < bc.variants {
				p := a.product(seller, shopID, fmt.Sprintf("p%03d", len(variants)), nil)
				for _, e := range p.Variants.Edges {
					a.setStock(seller, e.Node.ID, 1_000_000)
					variants = append(variants, e.Node.ID)
				}
			}
			variants = variants[:bc.variants]
			buyer, _ := a.user("buyer", false)
			var n, failures atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range bc.buyers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := n.Add(1); i <= int64(b.N); i = n.Add(1) {
						in := checkoutInput(fmt.Sprintf("bench-%d", i), "tok_ok", line(variants[int(i)%len(variants)], 1))
						resp, err := a.postRaw(buyer, mutation, in)
						if err != nil || len(resp.Errors) > 0 || len(resp.Data) == 0 {
							failures.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkouts/s")
			if f := failures.Load(); f > 0 {
				b.Fatalf("%d of %d checkouts failed", f, b.N)
			}
			if got := a.count("orders"); got != b.N {
				b.Fatalf("orders = %d, want %d", got, b.N)
			}
		})
	}
}
