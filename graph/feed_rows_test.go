package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// keepingFeedRowsHearing gives a's store handle a FeedRows keeping content
// rows for an hour, listening on the database of dsn (a's own, or another
// whose notifications a never hears): within the test only a notification
// heard, or a's own write, can make it forget.
func keepingFeedRowsHearing(a *testAPI, dsn string) *store.FeedRows {
	a.t.Helper()
	r := store.NewFeedRows(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	a.t.Cleanup(cancel)
	if err := r.Listen(ctx, dsn); err != nil {
		a.t.Fatal(err)
	}
	a.db.UseFeedRows(r)
	return r
}

const rowsFeedQuery = `{ feed(first: 10) { edges { node { id
	... on Video { caption } ... on LiveSession { status pinnedProduct { id } } } } } }`

// rowsPage is what rowsFeedQuery shows of each item: a video's caption
// ("video: " and it), a live session's status and pinned product ("-" for
// none).
func (a *testAPI) rowsPage(token string) map[string]string {
	a.t.Helper()
	var p struct {
		Feed struct {
			Edges []struct {
				Node struct {
					ID, Caption, Status string
					PinnedProduct       *struct{ ID string }
				}
			}
		}
	}
	a.ok(token, rowsFeedQuery, nil, &p)
	out := map[string]string{}
	for _, e := range p.Feed.Edges {
		n := e.Node
		switch {
		case n.Caption != "":
			out[n.ID] = "video: " + n.Caption
		case n.PinnedProduct != nil:
			out[n.ID] = n.Status + " " + n.PinnedProduct.ID
		default:
			out[n.ID] = n.Status + " -"
		}
	}
	return out
}

// onAir returns the live session on air of manyContents and a product its
// cards carry.
func (a *testAPI) onAir() (session, product int64) {
	a.t.Helper()
	if err := a.db.GetContext(context.Background(), &session, `SELECT id FROM contents WHERE kind = 'LIVE' AND live_status = 'LIVE'`); err != nil {
		a.t.Fatal(err)
	}
	if err := a.db.GetContext(context.Background(), &product, `SELECT min(product_id) FROM content_products WHERE content_id = $1`, session); err != nil {
		a.t.Fatal(err)
	}
	return session, product
}

const pinMutation = `mutation($s: ID!, $p: ID!) { pinLiveProduct(sessionId: $s, productId: $p) { userErrors { code } } }`

// A For You page's content rows are kept by the process (store.FeedRows)
// and every change to one, through another process (a product pinned on a
// live session) or by hand (a caption rewritten in SQL), shows on its next
// page once the trigger's notification arrives, although rows are kept
// for an hour here.
func TestFeedRowsKeptAndForgottenThroughAnotherProcess(t *testing.T) {
	a := newTestAPI(t)
	rows := keepingFeedRowsHearing(a, a.dsn)
	b := a.replica()
	keepingFeedRowsHearing(b, a.dsn)
	f := a.manyContents(12)
	viewer, _ := a.user("viewer", false)
	session, product := a.onAir()
	sessionID, productID := gid("LiveSession", session), gid("Product", product)

	first := a.rowsPage(viewer)
	if first[sessionID] != "LIVE -" {
		t.Fatalf("the session on air is not on the first page as LIVE without a pinned product: %v", first)
	}
	hits, _ := rows.Stats()
	a.rowsPage(viewer)
	if again, _ := rows.Stats(); again <= hits {
		t.Fatal("the second page found no row kept")
	}

	// Through the other process: a product pinned.
	var pin struct {
		PinLiveProduct struct{ UserErrors []struct{ Code string } }
	}
	b.ok(f.sellerToken, pinMutation, map[string]any{"s": sessionID, "p": productID}, &pin)
	if len(pin.PinLiveProduct.UserErrors) > 0 {
		t.Fatalf("pin: %v", pin.PinLiveProduct.UserErrors)
	}
	until(t, "the pin through another process shows", func() bool {
		return a.rowsPage(viewer)[sessionID] == "LIVE "+productID
	})

	// By hand (an operator's SQL): every caption of the page rewritten.
	if _, err := b.db.ExecContext(context.Background(), `UPDATE contents SET caption = 'rewritten ' || id WHERE kind = 'VIDEO'`); err != nil {
		t.Fatal(err)
	}
	until(t, "the captions written by hand show", func() bool {
		videos := 0
		for _, c := range a.rowsPage(viewer) {
			if strings.HasPrefix(c, "video: ") {
				if !strings.HasPrefix(c, "video: rewritten ") {
					return false
				}
				videos++
			}
		}
		return videos > 0
	})
}

// A caller's own write to a content's row shows on their next page at
// once, although the process hears no notification (it listens on another
// database) and keeps rows for an hour; a write by hand, which only the
// notification announces, stays unseen there (so the rows are kept).
func TestFeedRowsOwnWritesShowAtOnce(t *testing.T) {
	a := newTestAPI(t)
	keepingFeedRowsHearing(a, storetest.DSN(t))
	f := a.manyContents(12)
	session, product := a.onAir()
	sessionID, productID := gid("LiveSession", session), gid("Product", product)

	if got := a.rowsPage(f.sellerToken)[sessionID]; got != "LIVE -" {
		t.Fatalf("the session on air shows as %q", got)
	}
	a.ok(f.sellerToken, pinMutation, map[string]any{"s": sessionID, "p": productID}, nil)
	if got := a.rowsPage(f.sellerToken)[sessionID]; got != "LIVE "+productID {
		t.Fatalf("after pinning a product the session shows as %q on the caller's next page", got)
	}
	if _, err := a.db.ExecContext(context.Background(), `UPDATE contents SET pinned_product_id = NULL WHERE id = $1`, session); err != nil {
		t.Fatal(err)
	}
	if got := a.rowsPage(f.sellerToken)[sessionID]; got != "LIVE "+productID {
		t.Fatalf("a write nobody announced to this process shows at once (%q): the rows are not kept", got)
	}
}

// Without a listener nothing is kept: a FeedRows that never listened
// reads every row.
func TestFeedRowsNotKeptWithoutListening(t *testing.T) {
	a := newTestAPI(t)
	rows := store.NewFeedRows(time.Hour)
	a.db.UseFeedRows(rows)
	a.manyContents(12)
	viewer, _ := a.user("viewer", false)
	a.rowsPage(viewer)
	a.rowsPage(viewer)
	if hits, misses := rows.Stats(); hits != 0 || misses == 0 {
		t.Fatalf("without listening: %d rows found kept, %d read", hits, misses)
	}
}

// A row changed while the process's listening connection is lost (its
// backend killed in the statement that changes the row, as a PostgreSQL
// restart would lose the notification) is read again once the listener
// has noticed, and still after it has reconnected, although rows are kept
// for an hour.
func TestFeedRowsNotServedAcrossALostListener(t *testing.T) {
	a := newTestAPI(t)
	rows := keepingFeedRowsHearing(a, a.dsn)
	f := a.manyContents(12)
	session, product := a.onAir()
	sessionID, productID := gid("LiveSession", session), gid("Product", product)
	if got := a.rowsPage(f.sellerToken)[sessionID]; got != "LIVE -" {
		t.Fatalf("the session on air shows as %q", got)
	}
	var killed int
	if err := a.db.GetContext(context.Background(), &killed, `WITH k AS (SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n
			FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %showcase_content_rows%'),
		pinned AS (UPDATE contents SET pinned_product_id = $2 WHERE id = $1 AND (SELECT n FROM k) > 0)
		SELECT n FROM k`, session, product); err != nil || killed != 1 {
		t.Fatalf("killing the listening connection: %d killed, %v", killed, err)
	}
	until(t, "the pin made while the listener was down shows", func() bool {
		return a.rowsPage(f.sellerToken)[sessionID] == "LIVE "+productID
	})
	until(t, "the listener is back (rows kept again)", func() bool {
		h, _ := rows.Stats()
		a.rowsPage(f.sellerToken)
		h2, _ := rows.Stats()
		return h2 > h
	})
	if got := a.rowsPage(f.sellerToken)[sessionID]; got != "LIVE "+productID {
		t.Fatalf("after the listener reconnected the session shows as %q", got)
	}
}
