package graph_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// A page's cards and their variants are read in one snapshot (one
// statement, store.CardsWithVariantsByContentIDs): a card's product
// archived while the page is read is either on the page with its variants
// and price range or not on it, never a product without variants (an empty
// list and an INTERNAL priceRange error, which two statements with their
// own snapshots gave when the variants one saw the change and the cards one
// did not). The change is made while the page's read waits for a lock on
// product_variants.
func TestFeedPrimingAgreesWithTheCardsSnapshot(t *testing.T) {
	a := newTestAPI(t)
	a.manyContents(3)
	ctx := context.Background()
	var productID int64
	if err := a.db.GetContext(ctx, &productID, `SELECT max(product_id) FROM content_products`); err != nil {
		t.Fatal(err)
	}
	const query = `{ feed(first: 20) { edges { node { id products(first: 10) { edges { node { id
		variants(first: 5) { edges { node { sku } } } priceRange { min { amount } } } } } } } } }`
	var out struct {
		Feed struct {
			Edges []struct {
				Node struct {
					Products struct {
						Edges []struct {
							Node struct {
								ID       string
								Variants struct {
									Edges []struct{ Node struct{ SKU string } }
								}
							}
						}
					}
				}
			}
		}
	}
	// Warm up (the feed's own state, the loaders), with nothing held.
	a.noCache("", query, nil)

	tx, err := a.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, `LOCK TABLE product_variants IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE products SET status = 'ARCHIVED' WHERE id = $1`, productID); err != nil {
		t.Fatal(err)
	}
	done := make(chan gqlResponse, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"query": query})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		resp, _ := a.serveRaw(req)
		done <- resp
	}()
	// The page's read of cards and variants waits for the lock (and any
	// other statement of the page reading cards runs to its end first).
	active := func(pattern string, waiting bool) (n int) {
		t.Helper()
		if err := a.db.GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE $1 AND (wait_event_type = 'Lock') = $2`, pattern, waiting); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for active("%FROM product_variants v%", true) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the page's variants statement never waited for the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for quiet := 0; quiet < 10; time.Sleep(20 * time.Millisecond) {
		if active("%FROM content_products cp JOIN products p%", false) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	resp := <-done
	if len(resp.Errors) > 0 {
		t.Errorf("errors: %+v", resp.Errors)
	}
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Feed.Edges {
		for _, p := range e.Node.Products.Edges {
			if len(p.Node.Variants.Edges) == 0 {
				t.Errorf("product %s shown without variants", p.Node.ID)
			}
			if p.Node.ID == base64.RawURLEncoding.EncodeToString([]byte("Product:"+strconv.FormatInt(productID, 10))) {
				t.Errorf("product %d, archived before the page's read took its snapshot, is on a card", productID)
			}
		}
	}
}
