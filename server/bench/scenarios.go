package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

func gid(typeName string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typeName + ":" + strconv.FormatInt(id, 10)))
}

const feedQuery = `{ feed(first: 20) { edges { node { id author { handle } shop { name }
	products(first: 3) { edges { node { title variants(first: 5) { edges { node { sku price { amount } availableForSale } } } } } }
	metrics { views likes comments shares engagementRate } } } } }`

// catalogQuery is a catalogue page: twenty products with their variants,
// as a storefront's category page asks for them.
const catalogQuery = `{ products(first: 20) { edges { node { id title priceRange { min { amount currencyCode } }
	variants(first: 5) { edges { node { id sku price { amount currencyCode } availableForSale } } } } } } }`

const checkoutQuery = `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { id } userErrors { code } } }`

var address = map[string]any{"name": "Bench", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "countryCode": "US"}

func checkoutVars(key string, variant int64) map[string]any {
	return map[string]any{"in": map[string]any{"lines": []any{map[string]any{"variantId": gid("ProductVariant", variant), "quantity": 1}},
		"idempotencyKey": key, "shippingAddress": address, "payment": map[string]any{"token": "tok_ok"}}}
}

// uncached asks the server to execute requests rather than answer them
// from its shared anonymous cache.
func uncached(next request) request {
	return func(i int64) (*http.Request, error) {
		req, err := next(i)
		if req != nil {
			req.Header.Set("Cache-Control", "no-cache")
		}
		return req, err
	}
}

// runAll runs the selected scenarios and the baselines they are compared
// with, in the order the report lists them.
func runAll(ctx context.Context, e *environment, o options, r *report) error {
	d, c := o.Duration, o.Concurrency
	say := func(res result) result {
		fmt.Printf("%-40s %-6s %7.0f/s  p50 %7.2f  p99 %8.2f ms  errors %.2f%%\n", res.Name, res.Mode, res.Throughput, res.P50, res.P99, res.ErrorRate*100)
		r.Results = append(r.Results, res)
		return res
	}
	r.Baselines = map[string]float64{}
	fmt.Println("\nbaselines and scenarios")
	var hello, typename, feedMax result
	if o.want("typename") {
		hello = say(closedLoop(ctx, "net/http hello (baseline)", c, d, func(int64) (*http.Request, error) {
			return http.NewRequest(http.MethodGet, e.hello, nil)
		}))
		typename = say(closedLoop(ctx, "{ __typename }", c, d, sameRequest(e.base, "", `{ __typename }`)))
		say(closedLoop(ctx, "{ __typename }, uncached", c, d, uncached(sameRequest(e.base, "", `{ __typename }`))))
	}
	if o.want("feed") {
		feed := sameRequest(e.base, "", feedQuery)
		_ = os.MkdirAll(o.Out, 0o755)
		feedMax = say(closedLoop(ctx, "feed(first: 20)", c, d, feed))
		for _, share := range []float64{0.25, 0.5, 0.75, 0.9} {
			if feedMax.Throughput > 0 {
				say(openLoop(ctx, fmt.Sprintf("feed(first: 20) at %.0f%%", share*100), share*feedMax.Throughput, d, feed))
			}
		}
		// The same page executed every time, as a signed-out viewer who
		// asks for it fresh, and personalised for a signed-in viewer.
		wait := e.profile(d, filepath.Join(o.Out, "feed.cpu.pprof"))
		say(closedLoop(ctx, "feed(first: 20), uncached", c, d, uncached(sameRequest(e.base, "", feedQuery))))
		wait()
		wait = e.profile(d, filepath.Join(o.Out, "feed-signed-in.cpu.pprof"))
		say(closedLoop(ctx, "feed(first: 20), signed in", c, d, sameRequest(e.base, e.token, feedQuery)))
		wait()
		// Many signed-in viewers with learned interests, each asking a
		// first page: the arrangement reuse (one viewer's pages within
		// FEED_RANKING_TTL) cannot hide the ranking's cost here.
		wait = e.profile(d, filepath.Join(o.Out, "feed-viewers.cpu.pprof"))
		say(closedLoop(ctx, fmt.Sprintf("feed(first: 20), signed in, %d viewers", len(e.viewers)), c, d, eachViewer(e.base, e.viewers, feedQuery)))
		wait()
		for _, viewer := range []struct {
			name string
			next request
		}{
			{"anonymous", sameRequest(e.base, "", feedQuery)},
			{"signed in", sameRequest(e.base, e.token, feedQuery)},
			{fmt.Sprintf("signed in, %d viewers", len(e.viewers)), eachViewer(e.base, e.viewers[len(e.viewers)/2:], feedQuery)},
		} {
			n, err := e.statementsPerRequest(ctx, 50, uncached(viewer.next))
			if err != nil {
				return err
			}
			fmt.Printf("%-40s %.2f SQL statements per request\n", "feed(first: 20), "+viewer.name, n)
			r.Statements = append(r.Statements, statements{Scenario: "feed(first: 20), executed, " + viewer.name, PerRequest: n})
		}
	}
	if o.want("catalog") {
		var zipfMu sync.Mutex
		zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, uint64(o.Products-1))
		say(closedLoop(ctx, "product(id), Zipf", c, d, func(int64) (*http.Request, error) {
			zipfMu.Lock()
			id := int64(zipf.Uint64()) + 1
			zipfMu.Unlock()
			return graphqlRequest(e.base, "", `query($id: ID!) { product(id: $id) { title description priceRange { min { amount } }
			variants { edges { node { sku price { amount } availableForSale } } } shop { name } } }`,
				map[string]any{"id": gid("Product", id)})
		}))
		// A catalogue page executed every time (Cache-Control: no-cache
		// skips the shared anonymous answer), profiled.
		_ = os.MkdirAll(o.Out, 0o755)
		wait := e.profile(d, filepath.Join(o.Out, "catalog.cpu.pprof"))
		say(closedLoop(ctx, "products(first: 20) with variants, uncached", c, d, uncached(sameRequest(e.base, "", catalogQuery))))
		wait()
		n, err := e.statementsPerRequest(ctx, 50, uncached(sameRequest(e.base, "", catalogQuery)))
		if err != nil {
			return err
		}
		fmt.Printf("%-40s %.2f SQL statements per request\n", "products(first: 20) with variants", n)
		r.Statements = append(r.Statements, statements{Scenario: "products(first: 20) with variants, executed", PerRequest: n})
		terms := []string{"serum", "hoodie", "candle", "earbuds", "chips", "yoga mat", "dog bed", "puzzle", "sunscreen", "sneakers"}
		say(closedLoop(ctx, "products(filter: {search})", c, d, func(i int64) (*http.Request, error) {
			return graphqlRequest(e.base, "", `query($q: String) { products(first: 20, filter: {search: $q}) { edges { node { title } } } }`,
				map[string]any{"q": terms[i%int64(len(terms))]})
		}))
		// search over every kind, executed every time (signed-out callers
		// asking the same page share it otherwise), English and Chinese.
		searchTerms := append(terms, "精华", "保湿", "kulit")
		say(closedLoop(ctx, "search(query), uncached", c, d, uncached(func(i int64) (*http.Request, error) {
			return graphqlRequest(e.base, "", `query($q: String!) { search(query: $q, first: 20) { edges { cursor node { __typename
				... on Product { title } ... on Video { caption } ... on LiveSession { title } ... on User { handle } ... on Shop { name } } } } }`,
				map[string]any{"q": searchTerms[i%int64(len(searchTerms))]})
		})))
		say(closedLoop(ctx, "recommendedProducts, signed in", c, d, sameRequest(e.base, e.token,
			`{ recommendedProducts(first: 20) { edges { node { title } } } }`)))
	}

	insertScript, hotScript, err := e.pgbenchInit(ctx)
	if err != nil {
		return err
	}
	if o.want("feed") || o.want("catalog") {
		pgSelect, err := e.pgbench(ctx, c, d, "-S", "-n")
		if err != nil {
			return err
		}
		r.Baselines["pgbench -S tps"] = pgSelect
	}

	if o.want("checkout") {
		if err := runCheckouts(ctx, e, o, r, say, hotScript); err != nil {
			return err
		}
	}
	if o.want("ingest") {
		if err := runIngestion(ctx, e, o, r, say, insertScript); err != nil {
			return err
		}
	}
	if o.want("live") {
		fmt.Printf("live fan-out: %d subscribers ...\n", liveSubscribers)
		f, err := liveFanout(ctx, e, liveSubscribers, liveComments)
		if err != nil {
			return err
		}
		fmt.Printf("%-40s p50 %.1f  p99 %.1f  max %.1f ms, %d of %d deliveries missed\n", "live fan-out", f.P50, f.P99, f.Max, f.Missed, f.Subscribers*f.Comments)
		r.Fanout = &f
	}
	r.targets(hello, typename, feedMax)
	return nil
}

// Live fan-out: comments posted one at a time to one session's subscribers.
const (
	liveSubscribers = 2000
	liveComments    = 20
)

type sayFunc func(result) result

// runCheckouts buys on distinct variants, then on one hot variant at 2, 16 and
// 64 buyers against the hot-row UPDATE at the same concurrency, checking
// that units sold and stock left add up to the starting stock.
func runCheckouts(ctx context.Context, e *environment, o options, r *report, say sayFunc, hotScript string) error {
	d, c := o.Duration, o.Concurrency
	// Checkout on distinct variants, with stock enough for the run.
	if _, err := e.db.ExecContext(ctx, `UPDATE product_variants SET stock = 1000000; UPDATE products SET status = 'ACTIVE'`); err != nil {
		return err
	}
	variants := int64(o.Products)
	// Keys new to this run: a dataset kept with -data holds the keys of
	// earlier runs, whose checkouts would be replayed, not made.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	say(closedLoop(ctx, "checkout, distinct variants", c, d, func(i int64) (*http.Request, error) {
		return graphqlRequest(e.base, e.token, checkoutQuery, checkoutVars(fmt.Sprintf("distinct-%s-%d", run, i), 1+i%variants))
	}))

	n, err := e.statementsPerRequest(ctx, 50, func(int64) (*http.Request, error) {
		return graphqlRequest(e.base, e.token, checkoutQuery, checkoutVars(fmt.Sprintf("count-%d", time.Now().UnixNano()), 1))
	})
	if err != nil {
		return err
	}
	fmt.Printf("%-40s %.2f SQL statements per request\n", "checkout of one line", n)
	r.Statements = append(r.Statements, statements{Scenario: "checkout of one line", PerRequest: n})

	// Checkout on one hot variant at 2, 16 and 64 buyers, with the invariant.
	const startingStock = 100000
	for _, buyers := range []int{2, 16, 64} {
		hot := int64(buyers) // a variant of its own per run
		if _, err := e.db.ExecContext(ctx, `UPDATE product_variants SET stock = $2 WHERE id = $1`, hot, startingStock); err != nil {
			return err
		}
		since := time.Now()
		res := say(closedLoop(ctx, fmt.Sprintf("checkout, hot variant, %d buyers", buyers), buyers, d, func(i int64) (*http.Request, error) {
			return graphqlRequest(e.base, e.token, checkoutQuery, checkoutVars(fmt.Sprintf("hot-%s-%d-%d", run, buyers, i), hot))
		}))
		var sold, left int64
		if err := e.db.QueryRowContext(ctx, `SELECT coalesce(sum(l.quantity), 0), (SELECT stock FROM product_variants WHERE id = $1)
			FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.variant_id = $1 AND o.created_at >= $2`, hot, since).Scan(&sold, &left); err != nil {
			return err
		}
		hotTPS, err := e.pgbench(ctx, buyers, d, "-n", "-f", hotScript)
		if err != nil {
			return err
		}
		r.Baselines[fmt.Sprintf("pgbench hot-row update tps, %d clients", buyers)] = hotTPS
		r.Invariants = append(r.Invariants, invariant{Name: res.Name, Sold: sold, Left: left, Starting: startingStock, Holds: sold+left == startingStock})
	}
	return nil
}

// runIngestion sends batches of 1 and 100 views of one hot video and checks
// that every accepted event is flushed.
func runIngestion(ctx context.Context, e *environment, o options, r *report, say sayFunc, insertScript string) error {
	d, c := o.Duration, o.Concurrency
	insertTPS, err := e.pgbench(ctx, c, d, "-n", "-f", insertScript)
	if err != nil {
		return err
	}
	r.Baselines["pgbench single-row insert tps"] = insertTPS
	// Devices new to this run: a dataset kept with -data still has the
	// counted-once keys of an earlier run in the same half hour.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	// Every view from a device of its own: a device's repeats count once
	// per half hour. Bodies are pre-encoded (eventBodies): the generator
	// shares the two cores with the server.
	bodies := newEventBodies(gid("Video", 1))
	post, err := postTemplate(e.base)
	if err != nil {
		return err
	}
	batch := func(size int, prefix string) request {
		return func(n int64) (*http.Request, error) {
			return post(bodies.body(make([]byte, 0, 160+size*90), prefix, run, size, n)), nil
		}
	}
	_ = os.MkdirAll(o.Out, 0o755)
	for _, size := range []int{1, 100} {
		var before, after int64
		_ = e.db.GetContext(ctx, &before, `SELECT coalesce(sum(views), 0) FROM content_event_counts WHERE content_id = 1`)
		// The batch of 1 is bound by the cost of a request: profiled.
		wait := func() {}
		if size == 1 {
			wait = e.profile(d, filepath.Join(o.Out, "ingest.cpu.pprof"))
		}
		res := say(closedLoopPosts(ctx, fmt.Sprintf("recordEvents, batches of %d", size), e.base, c, d, func(dst []byte, n int64) []byte {
			return bodies.body(dst, "bench", run, size, n)
		}))
		wait()
		time.Sleep(2 * time.Second) // the server flushes every second
		_ = e.db.GetContext(ctx, &after, `SELECT coalesce(sum(views), 0) FROM content_event_counts WHERE content_id = 1`)
		r.Ingestion = append(r.Ingestion, ingestion{Batch: size, EventsPerSecond: res.Throughput * float64(size), Flushed: after - before,
			Accepted: int64(float64(res.Requests-res.Errors) * float64(size))})
	}
	// An accepted event is buffered, not written: a request should send no
	// statement (the content's cards are remembered after its first event).
	n, err := e.statementsPerRequest(ctx, 50, batch(1, "count"))
	if err != nil {
		return err
	}
	fmt.Printf("%-40s %.2f SQL statements per request\n", "recordEvents, batch of 1", n)
	r.Statements = append(r.Statements, statements{Scenario: "recordEvents, batch of 1", PerRequest: n})
	return nil
}
