package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

// benchFeedQuery is the load benchmark's feed page (server/bench feedQuery).
const benchFeedQuery = `{ feed(first: 20) { edges { node { id author { handle } shop { name }
	products(first: 3) { edges { node { title variants(first: 5) { edges { node { sku price { amount } availableForSale } } } } } }
	metrics { views likes comments shares engagementRate } } } } }`

// benchFeedDataset is the demo dataset with a few days of engagement (the
// figures need some, not a month of them).
var benchFeedDataset = demo.SeedOptions{Users: 60, Creators: 15, Shops: 10, Products: 240, Videos: 300, LiveSessions: 12, HistoryDays: 3, Seed: 1}

// BenchmarkFeedExecuted drives the load benchmark's anonymous executed feed
// page (POST /graphql, Cache-Control: no-cache, feed(first: 20) with
// authors, shops, cards, variants and figures) through the API port's whole
// handler chain in-process, over the demo dataset with the For You index
// loaded. Every answer must be a page without errors. With
// -cpuprofile and -memprofile it shows a page's server work apart from the
// network's; cpu-ns/op is the process's CPU per page (garbage collection
// included), steadier than ns/op on a shared machine.
//
//	go test ./server -run '^$' -bench FeedExecuted -benchtime 2000x -benchmem
func BenchmarkFeedExecuted(b *testing.B) {
	db := storetest.NewDB(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := demo.Seed(ctx, db, benchFeedDataset); err != nil {
		b.Fatal(err)
	}
	if err := db.RefreshContentScores(ctx); err != nil {
		b.Fatal(err)
	}
	// As a running server has them: the hours before the last fold summed
	// (without it every page's figures read all history: 0.3 s a page),
	// and the planner's statistics of the seeded tables.
	if _, err := db.FoldFigures(ctx, time.Now()); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.RunFeedIndex(ctx, time.Second)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(time.Minute); !db.FeedIndexReady(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the feed index did not load")
		}
	}
	api := benchAPI(b, db, testTokens(b), store.NewEventBuffer(db))
	body, _ := json.Marshal(map[string]string{"query": benchFeedQuery})
	page := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		return w
	}
	first := page()
	if first.Code != http.StatusOK || !bytes.Contains(first.Body.Bytes(), []byte(`"sku"`)) || bytes.Contains(first.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("%d %s", first.Code, first.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if w := page(); w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("page %d: %d %s", i, w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
