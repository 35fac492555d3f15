package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"showcase/graph"
)

// feedPrimingQuery is the load benchmark's feed page with a second metrics
// window (an alias) and a live-session fragment asking for priceRange.
const feedPrimingQuery = `{ feed(first: 20) { edges { node { id author { handle } shop { name }
	products(first: 3) { edges { node { title variants(first: 5) { edges { node { sku price { amount } availableForSale } } } } } }
	metrics { views likes comments shares engagementRate } week: metrics(window: LAST_7_DAYS) { views }
	... on LiveSession { title cards: products { edges { node { priceRange { min { amount } } } } } } } } } }`

// A feed page's items resolve from the loaders primeFeed fills right after
// the page, one statement per kind of row: the User, Shop,
// ProductsByContent, VariantsByProduct and Metrics loaders fetch no batch of
// their own (no item waits for a loader's batch window), the benchmark's page
// costs at most 7 statements (cards and their variants are one), and the
// answer is the one the loaders alone give.
func TestFeedPageStatementsArePrimed(t *testing.T) {
	a := newTestAPICached(t, time.Minute, countingStatements)
	a.manyContents(30)
	token, _ := a.user("primed", false)
	inner := a.handler
	var fetches atomic.Int64
	a.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, n := graph.WithLoaderFetchCounter(r.Context())
		inner.ServeHTTP(w, r.WithContext(ctx))
		fetches.Store(n.Load())
	})
	page := func(viewer, token, query string) json.RawMessage {
		t.Helper()
		resp := a.noCache(token, query, nil)
		var out struct{ Feed struct{ Edges []any } }
		if err := json.Unmarshal(resp.Data, &out); err != nil || len(out.Feed.Edges) != 20 {
			t.Fatalf("%s: %d edges (%v)", viewer, len(out.Feed.Edges), err)
		}
		return resp.Data
	}
	primed := map[string]json.RawMessage{}
	for _, viewer := range []struct{ name, token string }{{"anonymous", ""}, {"signed in", token}} {
		for _, q := range []string{benchFeedQuery, feedPrimingQuery} {
			data := page(viewer.name, viewer.token, q)
			if n := fetches.Load(); n != 0 {
				t.Errorf("%s: the loaders fetched %d batches of their own", viewer.name, n)
			}
			// The second window's figures are one statement more.
			limit := int64(7)
			if q == feedPrimingQuery {
				limit = 8
			}
			if n := a.statements.Load(); n > limit {
				t.Errorf("%s: %d statements, want at most %d", viewer.name, n, limit)
			}
			primed[viewer.name+q] = data
		}
	}

	graph.SetPriming(false)
	defer graph.SetPriming(true)
	for _, viewer := range []struct{ name, token string }{{"anonymous", ""}, {"signed in", token}} {
		for _, q := range []string{benchFeedQuery, feedPrimingQuery} {
			data := page(viewer.name, viewer.token, q)
			if fetches.Load() == 0 {
				t.Errorf("%s, not primed: the loaders fetched nothing (the counter counts nothing)", viewer.name)
			}
			// The ranking may reorder nothing between runs: the same
			// contents, no activity in between.
			if !bytes.Equal(data, primed[viewer.name+q]) {
				t.Errorf("%s: the primed page differs from the loaders':\n%s\n%s", viewer.name, primed[viewer.name+q], data)
			}
		}
	}
}
