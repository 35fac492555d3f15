package graph_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"showcase/graph"
	"showcase/server/demo"
)

// catalogPageQuery is the load benchmark's catalogue page: twenty products
// with their variants (server/bench, "products(first: 20) with variants").
const catalogPageQuery = `{ products(first: 20) { edges { node { id title priceRange { min { amount currencyCode } }
	variants(first: 5) { edges { node { id sku price { amount currencyCode } availableForSale } } } } } } }`

// BenchmarkCatalogPage measures products(first: 20) with variants through
// the real handler, executed every time (a token skips the response
// cache), on 2,000 products.
//
//	go test ./graph -run '^$' -bench CatalogPage -benchtime 2000x -cpuprofile /tmp/catalog.pprof
func BenchmarkCatalogPage(b *testing.B) {
	a := newTestAPI(b)
	if _, err := demo.Seed(context.Background(), a.db, demo.SeedOptions{Users: 200, Creators: 40, Shops: 10,
		Products: 2000, Videos: 500, LiveSessions: 5, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	token, _ := a.user("bench-browser", false)
	for _, prime := range []bool{false, true, false, true} {
		b.Run(fmt.Sprintf("prime=%v", prime), func(b *testing.B) {
			graph.SetPriming(prime)
			defer graph.SetPriming(true)
			benchCatalogPage(b, a, token)
		})
	}
}

func benchCatalogPage(b *testing.B, a *testAPI, token string) {
	b.ReportAllocs()
	before, cpu := a.allStatements.Load(), processCPU()
	b.SetParallelism(8) // 16 clients on 2 cores, as the load benchmark
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if resp, err := a.postRaw(token, catalogPageQuery, nil); err != nil || len(resp.Errors) > 0 {
				b.Errorf("products failed: %v %+v", err, resp.Errors)
				return
			}
		}
	})
	b.ReportMetric(float64(a.allStatements.Load()-before)/float64(b.N), "stmts/op")
	// The server's CPU per request (this process: handler and harness), which
	// other processes on a shared machine disturb less than the wall time.
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
