package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

// benchFeedQuery is the load benchmark's feed page (server/bench): author,
// shop, three product cards with variants, and all-time figures.
const benchFeedQuery = `{ feed(first: 20) { edges { node { id author { handle } shop { name }
	products(first: 3) { edges { node { title variants(first: 5) { edges { node { sku price { amount } availableForSale } } } } } }
	metrics { views likes comments shares engagementRate } } } } }`

// benchFeedPagesQuery is benchFeedQuery with a cursor to continue from.
const benchFeedPagesQuery = `query($after: String) { feed(first: 20, after: $after) { edges { node { id author { handle } shop { name }
	products(first: 3) { edges { node { title variants(first: 5) { edges { node { sku price { amount } availableForSale } } } } } }
	metrics { views likes comments shares engagementRate } } } pageInfo { endCursor } } }`

type benchFeedPage struct {
	Feed struct {
		Edges    []any
		PageInfo struct{ EndCursor string }
	}
}

// noCache sends query as token with Cache-Control: no-cache, which asks
// the server to execute it rather than share an anonymous answer.
func (a *testAPI) noCache(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp := a.serve(req)
	if len(resp.Errors) > 0 || resp.Status != http.StatusOK {
		a.t.Fatalf("unexpected errors (status %d): %+v", resp.Status, resp.Errors)
	}
	return resp
}

// reusingRankings turns on For You arrangement reuse for a minute (longer
// than any test), with the event buffer's flushes forgetting what they teach.
func reusingRankings(r *graph.Resolver) {
	countingStatements(r)
	r.FeedRankings = store.NewFeedRankings(time.Minute)
	r.Events.SetFeedRankings(r.FeedRankings)
}

// keepingViewers keeps each viewer's For You state for a minute (longer
// than any test) and reuses no arrangement, with the event buffer's
// flushes forgetting what they teach.
func keepingViewers(r *graph.Resolver) {
	countingStatements(r)
	r.FeedRankings = store.NewFeedCaches(0, time.Minute)
	r.Events.SetFeedRankings(r.FeedRankings)
}

// The load benchmark's feed page, executed for a signed-in viewer (For
// You) and for an anonymous one who sends Cache-Control: no-cache, costs at
// most 8 SQL statements, whether it ranks or reuses an arrangement: 7
// signed in (the token's session, the viewer's state, the page with its
// walk, authors, shops, cards with their variants, figures) and 5
// anonymous (no session, and nobody's state to read; 6 for a next page
// whose walk row no process keeps: its tail); reusing an
// arrangement saves the viewer's state (and writes no walk row), one
// statement fewer signed in. Keeping viewers' states (FEED_VIEWER_TTL)
// saves it too: the first page that reads the state costs 7, the pages
// after it 6, a next page included (its walk row is kept by the process
// that stored it).
func TestFeedPageCostsAtMostEightStatements(t *testing.T) {
	for _, c := range []struct {
		name      string
		configure func(*graph.Resolver)
	}{{"Ranking", countingStatements}, {"Reusing", reusingRankings}, {"KeepingViewers", keepingViewers}} {
		t.Run(c.name, func(t *testing.T) {
			a := newTestAPICached(t, time.Minute, c.configure)
			a.manyContents(30)
			token, _ := a.user("counted", false)
			for _, viewer := range []struct {
				name, token string
				limit       int64
			}{{"anonymous", "", 6}, {"signed in", token, 7}} {
				var counts []int64
				var after string
				for range 2 {
					resp := a.noCache(viewer.token, benchFeedPagesQuery, nil)
					var out benchFeedPage
					if err := json.Unmarshal(resp.Data, &out); err != nil || len(out.Feed.Edges) != 20 {
						t.Fatalf("%s: %d edges (%v)", viewer.name, len(out.Feed.Edges), err)
					}
					counts = append(counts, a.statements.Load())
					after = out.Feed.PageInfo.EndCursor
				}
				// The next page: the walk's tail re-ranked and stored, the
				// page's rows as on a first page.
				resp := a.noCache(viewer.token, benchFeedPagesQuery, map[string]any{"after": after})
				var out benchFeedPage
				if err := json.Unmarshal(resp.Data, &out); err != nil || len(out.Feed.Edges) == 0 {
					t.Fatalf("%s, next page: %d edges (%v)", viewer.name, len(out.Feed.Edges), err)
				}
				next := a.statements.Load()
				t.Logf("%s: %d statements, then %d; next page %d", viewer.name, counts[0], counts[1], next)
				if next > viewer.limit || next == 0 {
					t.Fatalf("%s: the next page cost %d statements, want 1 to %d", viewer.name, next, viewer.limit)
				}
				for _, n := range counts {
					if n > viewer.limit || n == 0 {
						t.Fatalf("%s: %v statements, want 1 to %d (executed, not shared)", viewer.name, counts, viewer.limit)
					}
				}
				signedIn := viewer.token != ""
				switch {
				case c.name == "Ranking" && !signedIn && counts[0] != 5:
					t.Fatalf("%s: a first page cost %d statements, want 5 (no viewer state to read)", viewer.name, counts[0])
				case c.name == "Ranking" && signedIn && next != counts[0], c.name == "Ranking" && !signedIn && next != counts[0]+1:
					// anonymous: the walk row's tail, which no process kept
					t.Fatalf("%s: next page %d statements, first page %d", viewer.name, next, counts[0])
				case c.name == "Ranking" && counts[1] != counts[0]:
					t.Fatalf("%s: %v statements for the same page", viewer.name, counts)
				case c.name == "Reusing" && signedIn && counts[1] > counts[0]-1:
					t.Fatalf("%s: a reused arrangement cost %d statements, ranking %d", viewer.name, counts[1], counts[0])
				case c.name == "Reusing" && !signedIn && counts[1] > counts[0]:
					t.Fatalf("%s: a reused arrangement cost %d statements, ranking %d", viewer.name, counts[1], counts[0])
				case c.name == "KeepingViewers" && signedIn && (counts[1] != counts[0]-1 || next != counts[0]-1):
					t.Fatalf("%s: %v statements, next page %d: want the state read once", viewer.name, counts, next)
				case c.name == "KeepingViewers" && !signedIn && (counts[1] != counts[0] || next != counts[0]):
					t.Fatalf("%s: %v statements, next page %d", viewer.name, counts, next)
				}
			}
		})
	}
}

// walkFeed reads token's For You feed from its first page to the end and
// returns the items in order; it fails on an item served twice.
func (a *testAPI) walkFeed(token string, first int) []string {
	a.t.Helper()
	seen := map[string]bool{}
	var order []string
	vars := map[string]any{"first": first}
	for pages := 0; ; pages++ {
		if pages > 200 {
			a.t.Fatal("paging does not end")
		}
		var p feedPage
		a.ok(token, feedPageQuery, vars, &p)
		for _, e := range p.Feed.Edges {
			if seen[e.Node.ID] {
				a.t.Fatalf("item %s repeated on page %d", e.Node.ID, pages)
			}
			seen[e.Node.ID] = true
			order = append(order, e.Node.ID)
		}
		if !p.Feed.PageInfo.HasNextPage {
			return order
		}
		vars["after"] = *p.Feed.PageInfo.EndCursor
	}
}

// firstPage returns the ids of token's first For You page and what it cost.
func (a *testAPI) firstPage(token string, first int) ([]string, int64) {
	a.t.Helper()
	var p feedPage
	a.ok(token, feedPageQuery, map[string]any{"first": first}, &p)
	ids := make([]string, len(p.Feed.Edges))
	for i, e := range p.Feed.Edges {
		ids[i] = e.Node.ID
	}
	return ids, a.statements.Load()
}

// A reused arrangement starts a walk of its own: two walks begun from it
// each yield every item once, however they interleave. The viewer's own
// writes show on their next first page: not interested (a buffered event,
// forgotten when its flush lands), a follow and a like (mutations).
func TestFeedRankingReuseKeepsWalksExactAndShowsOwnWrites(t *testing.T) {
	a := newTestAPIWith(t, reusingRankings)
	f := a.manyContents(30)
	token, _ := a.user("reuser", false)
	const total = 33
	first, ranked := a.firstPage(token, 10)
	again, reused := a.firstPage(token, 10)
	if len(first) != 10 || !equalIDs(first, again) || reused >= ranked {
		t.Fatalf("second first page %v (%d statements), first %v (%d)", again, reused, first, ranked)
	}
	// Two walks from the same arrangement, the second page of one read
	// between the pages of the other.
	w1 := a.walkFeed(token, 10)
	w2 := a.walkFeed(token, 7)
	if len(w1) != total || len(w2) != total {
		t.Fatalf("walks of %d and %d items, want %d", len(w1), len(w2), total)
	}

	// Not interested in the first item: gone from the next first page.
	var rec recordOut
	a.ok(token, recordEventsMutation, map[string]any{"events": []map[string]any{{"type": "NOT_INTERESTED", "contentId": first[0]}}}, &rec)
	if rec.RecordEvents.Accepted != 1 {
		t.Fatalf("recordEvents: %+v", rec)
	}
	// A first page asked before the flush lands may be ranked without it;
	// the flush forgets it.
	a.firstPage(token, 10)
	if err := a.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, n := a.firstPage(token, 10)
	if n != ranked {
		t.Fatalf("the first page after the flush cost %d statements, a ranked one %d", n, ranked)
	}
	for _, id := range after {
		if id == first[0] {
			t.Fatalf("the item marked not interested is still on the first page: %v", after)
		}
	}

	// A follow (a mutation) ranks the next first page again.
	if _, n := a.firstPage(token, 10); n >= ranked {
		t.Fatalf("expected a reused first page, it cost %d statements", n)
	}
	a.follow(token, f.shopID, true)
	if _, n := a.firstPage(token, 10); n != ranked {
		t.Fatalf("the first page after a follow cost %d statements, a ranked one %d", n, ranked)
	}
	// Another viewer's arrangement is theirs: the follow did not drop it.
	other, _ := a.user("other", false)
	a.firstPage(other, 10)
	if _, n := a.firstPage(other, 10); n >= ranked {
		t.Fatalf("another viewer's first page was ranked again (%d statements)", n)
	}
}

func equalIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// listeningRankings is reusingRankings for one API process of several: it
// hears the profiles the others write (store.FeedRankings.Listen).
func listeningRankings(t *testing.T, dsn string) func(*graph.Resolver) {
	return func(r *graph.Resolver) {
		reusingRankings(r)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if err := r.FeedRankings.Listen(ctx, dsn); err != nil {
			t.Fatal(err)
		}
	}
}

// A viewer's writes through another API process reach this one's reused
// arrangements too: a follow (a mutation that writes follows directly) and
// not interested (an event, written by the other process's flush) make
// this process rank the viewer's next first page again. Delivery is a
// PostgreSQL notification, so the test waits for it (up to 30 s).
func TestFeedRankingsForgetWritesThroughAnotherProcess(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	a.serveWith(0, listeningRankings(t, a.dsn))
	b := &testAPI{t: t, db: a.db, dsn: a.dsn, tokens: a.tokens, payments: a.payments, events: store.NewEventBuffer(a.db)}
	b.serveWith(0, listeningRankings(t, a.dsn))
	f := a.manyContents(30)
	token, _ := a.user("roamer", false)
	first, ranked := a.firstPage(token, 10)
	rankedAgain := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, n := a.firstPage(token, 10); n == ranked {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %s through another process, this one still reuses the arrangement", what)
			}
		}
	}
	if _, n := a.firstPage(token, 10); n >= ranked {
		t.Fatalf("the second first page was ranked again (%d statements)", n)
	}
	b.follow(token, f.shopID, true)
	rankedAgain("a follow")

	var rec recordOut
	b.ok(token, recordEventsMutation, map[string]any{"events": []map[string]any{{"type": "NOT_INTERESTED", "contentId": first[0]}}}, &rec)
	if _, n := a.firstPage(token, 10); n >= ranked {
		t.Fatalf("expected a reused first page before the flush, it cost %d statements", n)
	}
	if err := b.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rankedAgain("not interested")
	after, _ := a.firstPage(token, 10)
	for _, id := range after {
		if id == first[0] {
			t.Fatalf("the item marked not interested through another process is on the first page: %v", after)
		}
	}
}
