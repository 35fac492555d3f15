package graph_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
	"showcase/store/storetest"
)

// figuresFeedQuery is the load benchmark's feed page, figures public only.
const figuresFeedQuery = `{ feed(first: 10) { edges { node { id
	... on Video { metrics { views likes comments shares engagementRate } } } } } }`

type figuresPage struct {
	Feed struct {
		Edges []struct {
			Node struct {
				ID      string
				Metrics *struct {
					Views, Likes, Comments, Shares int64
					Orders                         *int64
				}
			}
		}
	}
}

// figuresOf returns the page's figures by content ID and what the page cost.
func (a *testAPI) figuresOf(token, query string) (map[string][2]int64, int64) {
	a.t.Helper()
	var p figuresPage
	a.ok(token, query, nil, &p)
	out := map[string][2]int64{}
	for _, e := range p.Feed.Edges {
		if m := e.Node.Metrics; m != nil {
			out[e.Node.ID] = [2]int64{m.Views, m.Likes*1000 + m.Comments}
		}
	}
	return out, a.statements.Load()
}

// sharingFigures gives the resolver a FiguresCache of ttl, which hears the
// likes and comments of other API processes on dsn. With dsn empty it
// listens on a database of its own, where nothing is announced (a cache
// keeps nothing until it listens): only this process's forgetting shows.
func sharingFigures(t *testing.T, dsn string, ttl time.Duration) func(*graph.Resolver) {
	if dsn == "" {
		dsn = storetest.DSN(t)
	}
	return func(r *graph.Resolver) {
		r.Figures = store.NewFiguresCache(ttl)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if err := r.Figures.Listen(ctx, dsn); err != nil {
			t.Fatal(err)
		}
	}
}

// A feed page's figures are shared between requests (one statement fewer
// from the second page on, whoever asks), except when the query asks a
// commercial figure or a chart. What a caller does shows in their next
// read at once: a like, an unlike and a comment forget the content's
// figures before the mutation answers. The cache's TTL is an hour here
// and it listens on another database, hearing no notification, so only
// this process's forgetting can show them.
func TestFeedFiguresAreSharedAndShowOwnWrites(t *testing.T) {
	a := newTestAPIWith(t, sharingFigures(t, "", time.Hour))
	f := a.manyContents(12)
	token, _ := a.user("fan", false)
	other, _ := a.user("other", false)

	first, cost := a.figuresOf("", figuresFeedQuery)
	if len(first) == 0 {
		t.Fatal("the feed page has no videos with figures")
	}
	again, shared := a.figuresOf(other, figuresFeedQuery)
	_, sharedAnon := a.figuresOf("", figuresFeedQuery)
	if sharedAnon != cost-1 {
		t.Fatalf("a second anonymous page cost %d statements, the first %d: figures not shared", sharedAnon, cost)
	}
	var id string
	for k := range again {
		if _, ok := first[k]; ok {
			id = k
			break
		}
	}
	if id == "" {
		t.Fatalf("the two pages share no video: %v, %v", first, again)
	}
	// Someone else's views, written straight to the counters: not
	// forgotten, so hidden for the TTL (an hour here).
	if _, err := a.db.ExecContext(context.Background(), `INSERT INTO content_event_counts (content_id, bucket, views)
		VALUES ($1, date_trunc('minute', now()), 7)`, contentIDOf(t, id)); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.figuresOf(other, figuresFeedQuery); got[id] != again[id] {
		t.Fatalf("figures of %s changed without a write to forget them: %v, then %v (statements: %d)", id, again[id], got[id], shared)
	}
	// A commercial figure in the query (the shop's owner may see it): read
	// afresh, the views with it.
	withOrders := `{ feed(first: 10) { edges { node { id ... on Video { metrics { views likes comments orders } } } } } }`
	if got, _ := a.figuresOf(f.sellerToken, withOrders); got[id][0] != again[id][0]+7 {
		t.Fatalf("a page asking orders read views %d of %s, want %d", got[id][0], id, again[id][0]+7)
	}
	withChart := `{ feed(first: 10) { edges { node { id ... on Video { metrics { views likes comments }
		metricsSeries(window: LAST_24_HOURS, granularity: HOUR) { at } } } } } }`
	if got, _ := a.figuresOf(other, withChart); got[id][0] != again[id][0]+7 {
		t.Fatalf("a page asking a chart read views %d of %s, want %d", got[id][0], id, again[id][0]+7)
	}

	// The caller's own writes show in their next read.
	before := again[id][1]
	a.ok(token, `mutation($id: ID!) { likeContent(contentId: $id) { userErrors { code } } }`, map[string]any{"id": id}, nil)
	if got, _ := a.figuresOf(token, figuresFeedQuery); got[id][1] != before+1000 || got[id][0] != again[id][0]+7 {
		t.Fatalf("after a like, figures of %s are %v, want likes×1000+comments %d and views %d", id, got[id], before+1000, again[id][0]+7)
	}
	a.ok(token, `mutation($id: ID!) { commentOnContent(contentId: $id, body: "nice") { userErrors { code } } }`, map[string]any{"id": id}, nil)
	if got, _ := a.figuresOf(token, figuresFeedQuery); got[id][1] != before+1001 {
		t.Fatalf("after a comment, likes×1000+comments of %s are %d, want %d", id, got[id][1], before+1001)
	}
	a.ok(token, `mutation($id: ID!) { unlikeContent(contentId: $id) { userErrors { code } } }`, map[string]any{"id": id}, nil)
	if got, _ := a.figuresOf(token, figuresFeedQuery); got[id][1] != before+1 {
		t.Fatalf("after an unlike, likes×1000+comments of %s are %d, want %d", id, got[id][1], before+1)
	}
}

// A like made through another API process reaches this one's shared
// figures by a PostgreSQL notification (the test waits for it, up to 30 s;
// the TTL is an hour, so nothing else can show it).
func TestFeedFiguresForgetWritesThroughAnotherProcess(t *testing.T) {
	a := newTestAPIWith(t, func(*graph.Resolver) {})
	a.serveWith(0, sharingFigures(t, a.dsn, time.Hour))
	b := a.replica()
	b.serveWith(0, sharingFigures(t, a.dsn, time.Hour))
	a.manyContents(12)
	token, _ := a.user("roamer", false)
	before, _ := a.figuresOf(token, figuresFeedQuery)
	var id string
	for k := range before {
		id = k
		break
	}
	b.ok(token, `mutation($id: ID!) { likeContent(contentId: $id) { userErrors { code } } }`, map[string]any{"id": id}, nil)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got, _ := a.figuresOf(token, figuresFeedQuery); got[id][1] == before[id][1]+1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a like through another process never reached this one's figures of %s", id)
		}
	}
}

// contentIDOf decodes a Video's global ID ("Video:123").
func contentIDOf(t *testing.T, gid string) int64 {
	t.Helper()
	raw, err := base64Decode(gid)
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := strings.Cut(raw, ":")
	id, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		t.Fatalf("ID %s (%s): %v", gid, raw, err)
	}
	return id
}

// With a read replica (DATABASE_READ_URL) the replica serves the feed's
// figures and nothing is kept: views written after a page was read show on
// the next page once the replica has them, although the cache's TTL is an
// hour.
func TestFeedFiguresNotSharedWithAReplica(t *testing.T) {
	a := newReplicatedAPI(t, time.Hour)
	share := sharingFigures(t, a.dsn, time.Hour) // listening: it would keep
	a.serveWith(0, func(r *graph.Resolver) { r.Reads = a.reads; share(r) })
	a.manyContents(12)
	until(t, "the replica is in use", func() bool { ok, _ := a.reads.Status(); return ok })
	var first map[string][2]int64
	until(t, "the replica has the videos", func() bool { first, _ = a.figuresOf("", figuresFeedQuery); return len(first) > 0 })
	var id string
	for k := range first {
		id = k
		break
	}
	if _, err := a.db.ExecContext(context.Background(), `INSERT INTO content_event_counts (content_id, bucket, views)
		VALUES ($1, date_trunc('minute', now()), 7)`, contentIDOf(t, id)); err != nil {
		t.Fatal(err)
	}
	until(t, "the new views show on the feed", func() bool {
		got, _ := a.figuresOf("", figuresFeedQuery)
		return got[id][0] == first[id][0]+7
	})
}
