package graph_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

// keepingViewersFor is keepingViewers with a viewer TTL of ttl.
func keepingViewersFor(ttl time.Duration) func(*graph.Resolver) {
	return func(r *graph.Resolver) {
		countingStatements(r)
		r.FeedRankings = store.NewFeedCaches(0, ttl)
		r.Events.SetFeedRankings(r.FeedRankings)
	}
}

// listeningViewers is keepingViewers for one API process of several: it
// hears the profiles the others write (store.FeedRankings.Listen).
func listeningViewers(t *testing.T, dsn string) func(*graph.Resolver) {
	return func(r *graph.Resolver) {
		keepingViewers(r)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if err := r.FeedRankings.Listen(ctx, dsn); err != nil {
			t.Fatal(err)
		}
	}
}

// feedPageAfter asks token's For You page of first items after the cursor
// (the first page when after is ""), and returns its ids, its end cursor
// and the statements it cost.
func (a *testAPI) feedPageAfter(token string, first int, after string) (ids []string, end string, statements int64) {
	a.t.Helper()
	vars := map[string]any{"first": first}
	if after != "" {
		vars["after"] = after
	}
	var p feedPage
	a.ok(token, feedPageQuery, vars, &p)
	for _, e := range p.Feed.Edges {
		ids = append(ids, e.Node.ID)
	}
	if p.Feed.PageInfo.EndCursor != nil {
		end = *p.Feed.PageInfo.EndCursor
	}
	return ids, end, a.statements.Load()
}

// A viewer's state kept by the process (FEED_VIEWER_TTL) never hides their
// own writes: after not interested (an event, forgotten when its flush
// lands), a follow and a like (mutations), their next page reads the state
// again, and the item they dismissed is not on it. Another viewer's writes
// leave it kept.
func TestKeptViewerStateShowsOwnWritesOnTheNextPage(t *testing.T) {
	a := newTestAPIWith(t, keepingViewers)
	f := a.manyContents(30)
	token, _ := a.user("kept", false)
	_, c1, read := a.feedPageAfter(token, 10, "")
	page2, _, kept := a.feedPageAfter(token, 10, c1)
	if kept != read-1 || len(page2) != 10 {
		t.Fatalf("a next page with the state kept: %d items, %d statements; the first page read it in %d", len(page2), kept, read)
	}
	if _, _, n := a.feedPageAfter(token, 10, ""); n != kept {
		t.Fatalf("another first page cost %d statements, want %d (the state kept)", n, kept)
	}
	// Not interested in the first item of page 2: the page, asked again
	// from page 1's cursor once the flush has landed, leaves it out.
	var rec recordOut
	a.ok(token, recordEventsMutation, map[string]any{"events": []map[string]any{{"type": "NOT_INTERESTED", "contentId": page2[0]}}}, &rec)
	if rec.RecordEvents.Accepted != 1 {
		t.Fatalf("recordEvents: %+v", rec)
	}
	if err := a.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	again, _, n := a.feedPageAfter(token, 10, c1)
	if n != read || slices.Contains(again, page2[0]) {
		t.Fatalf("the next page after not interested: %d statements (want %d, the state read again), items %v (without %s)", n, read, again, page2[0])
	}
	if _, _, n := a.feedPageAfter(token, 10, c1); n != kept {
		t.Fatalf("the state was not kept again: %d statements", n)
	}
	// A follow and a like (mutations) are the viewer's own writes too.
	a.follow(token, f.shopID, true)
	if _, _, n := a.feedPageAfter(token, 10, c1); n != read {
		t.Fatalf("the next page after a follow cost %d statements, want %d", n, read)
	}
	a.ok(token, `mutation($id: ID!) { likeContent(contentId: $id) { userErrors { code } } }`, map[string]any{"id": page2[1]}, nil)
	if _, _, n := a.feedPageAfter(token, 10, c1); n != read {
		t.Fatalf("the next page after a like cost %d statements, want %d", n, read)
	}
	// Another viewer's follow is not this viewer's write.
	other, _ := a.user("other", false)
	a.feedPageAfter(token, 10, c1)
	a.follow(other, f.shopID, true)
	if _, _, n := a.feedPageAfter(token, 10, c1); n != kept {
		t.Fatalf("another viewer's follow made this viewer's next page read the state again (%d statements)", n)
	}
}

// The viewer's writes through another API process reach this one's kept
// state: a follow (a mutation) and not interested (an event, flushed by the
// other process) make this process read the state again, and the
// dismissed item leaves the walk's next page. Delivery is a PostgreSQL
// notification, so the test waits for it (up to 30 s).
func TestKeptViewerStateForgetsWritesThroughAnotherProcess(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	a.serveWith(0, listeningViewers(t, a.dsn))
	b := &testAPI{t: t, db: a.db, dsn: a.dsn, tokens: a.tokens, payments: a.payments, events: store.NewEventBuffer(a.db)}
	b.serveWith(0, listeningViewers(t, a.dsn))
	f := a.manyContents(30)
	token, _ := a.user("roamer", false)
	_, c1, read := a.feedPageAfter(token, 10, "")
	page2, _, kept := a.feedPageAfter(token, 10, c1)
	if kept != read-1 {
		t.Fatalf("the state was not kept: %d statements, then %d", read, kept)
	}
	readAgain := func(what string) []string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if ids, _, n := a.feedPageAfter(token, 10, c1); n == read {
				return ids
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %s through another process, this one still keeps the viewer's state", what)
			}
		}
	}
	b.follow(token, f.shopID, true)
	readAgain("a follow")

	var rec recordOut
	b.ok(token, recordEventsMutation, map[string]any{"events": []map[string]any{{"type": "NOT_INTERESTED", "contentId": page2[0]}}}, &rec)
	if _, _, n := a.feedPageAfter(token, 10, c1); n != kept {
		t.Fatalf("expected the state kept before the flush, the page cost %d statements", n)
	}
	if err := b.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := readAgain("not interested"); slices.Contains(ids, page2[0]) {
		t.Fatalf("the item marked not interested through another process is on the next page: %v", ids)
	}
}

// A kept state is read again once FEED_VIEWER_TTL has passed: the bound on
// how late someone else's engagement (co-engagement) reaches a viewer's
// ranking.
func TestKeptViewerStateExpires(t *testing.T) {
	const ttl = 500 * time.Millisecond
	a := newTestAPIWith(t, keepingViewersFor(ttl))
	a.manyContents(30)
	token, _ := a.user("expiring", false)
	_, _, read := a.feedPageAfter(token, 10, "")
	start := time.Now()
	_, _, kept := a.feedPageAfter(token, 10, "")
	if time.Since(start) < ttl && kept != read-1 {
		t.Fatalf("the state was not kept: %d statements, then %d", read, kept)
	}
	time.Sleep(ttl)
	if _, _, n := a.feedPageAfter(token, 10, ""); n != read {
		t.Fatalf("a page after the TTL cost %d statements, want %d (the state read again)", n, read)
	}
}

// A walk continued alternately on two API processes, each keeping the walk
// rows it stored and the viewer's state, yields every item once: a next
// page finds its row in memory on the process that stored it and in
// PostgreSQL on the other.
func TestWalkAlternatingProcessesWithKeptRows(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	a.serveWith(0, listeningViewers(t, a.dsn))
	b := &testAPI{t: t, db: a.db, dsn: a.dsn, tokens: a.tokens, payments: a.payments, events: store.NewEventBuffer(a.db)}
	b.serveWith(0, listeningViewers(t, a.dsn))
	a.manyContents(30)
	token, _ := a.user("alternating", false)
	const total = 33
	for _, first := range []int{7, 10} {
		seen := map[string]bool{}
		var after string
		for page := 0; ; page++ {
			on := a
			if page%2 == 1 {
				on = b
			}
			ids, end, _ := on.feedPageAfter(token, first, after)
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("pages of %d: item %s repeated on page %d", first, id, page)
				}
				seen[id] = true
			}
			if len(ids) == 0 || end == "" || page > 20 {
				break
			}
			after = end
		}
		if len(seen) != total {
			t.Fatalf("pages of %d: %d items, want %d", first, len(seen), total)
		}
	}
}
