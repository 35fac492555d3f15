package graph_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"showcase/auth"
	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
	"showcase/store/storetest"
)

// replicatedAPI is a testAPI on a primary with a streaming replica beside
// it, reads routed there with lag bound maxLag, the replica measured every
// poll interval in the background for as long as the test runs.
type replicatedAPI struct {
	*testAPI
	pair    *storetest.Replicated
	reads   *store.ReadReplica
	replica *sql.DB // a superuser connection to the replica, to pause and watch it
}

func newReplicatedAPI(t *testing.T, maxLag time.Duration) *replicatedAPI {
	t.Helper()
	pair := storetest.NewReplicated(t)
	ctx := context.Background()
	db, err := store.Open(ctx, pair.PrimaryDSN, store.PoolOptions{MaxOpenConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reads, err := store.OpenReadReplica(ctx, db, pair.PrimaryDSN, pair.ReplicaDSN,
		store.ReplicaOptions{MaxLag: maxLag, PollInterval: 50 * time.Millisecond, Pool: store.PoolOptions{MaxOpenConns: 10}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); reads.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done; reads.Close() })
	replica, err := sql.Open("postgres", pair.ReplicaDSN)
	if err != nil {
		t.Fatal(err)
	}
	replica.SetMaxOpenConns(1)
	t.Cleanup(func() { replica.Close() })
	tokens, err := auth.NewTokens([]byte("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a := &testAPI{t: t, db: db, dsn: pair.PrimaryDSN, tokens: tokens, payments: payment.NewTestProvider(db.DB.DB), events: store.NewEventBuffer(db)}
	a.serveWith(0, func(r *graph.Resolver) { r.Reads = reads })
	return &replicatedAPI{testAPI: a, pair: pair, reads: reads, replica: replica}
}

// until polls cond every 20 ms for up to 30 s.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// replicaTitle is a product's title as the replica has replayed it ("" when
// it has not the product yet), read on the replica itself: through the API
// a row the replica lacks is read on the primary.
func (a *replicatedAPI) replicaTitle(productID string) string {
	a.t.Helper()
	var title string
	if err := a.replica.QueryRow(`SELECT title FROM products WHERE id = $1`, contentIDOf(a.t.(*testing.T), productID)).Scan(&title); err != nil && err != sql.ErrNoRows {
		a.t.Fatal(err)
	}
	return title
}

// pauseReplay stops the replica applying WAL (it keeps receiving it).
func (a *replicatedAPI) pauseReplay() {
	a.t.Helper()
	if _, err := a.replica.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		a.t.Fatal(err)
	}
	until(a.t.(*testing.T), "replay is paused", func() bool {
		var state string
		if err := a.replica.QueryRow(`SELECT pg_get_wal_replay_pause_state()`).Scan(&state); err != nil {
			a.t.Fatal(err)
		}
		return state == "paused"
	})
}

func (a *replicatedAPI) resumeReplay() {
	a.t.Helper()
	if _, err := a.replica.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
		a.t.Fatal(err)
	}
}

// title reads a product's title as token's caller (anonymous when ""),
// failing the test on any error; "" when the product is not found.
func (a *replicatedAPI) title(token, productID string) string {
	a.t.Helper()
	var out struct{ Product *struct{ Title string } }
	a.ok(token, `query($id: ID!) { product(id: $id) { title } }`, map[string]any{"id": productID}, &out)
	if out.Product == nil {
		return ""
	}
	return out.Product.Title
}

// listedTitle reads the title of the newest product in the catalogue list.
func (a *replicatedAPI) listedTitle(token string) string {
	a.t.Helper()
	var out struct {
		Products struct {
			Edges []struct{ Node struct{ Title string } }
		}
	}
	a.ok(token, `{ products(first: 1) { edges { node { title } } } }`, nil, &out)
	if len(out.Products.Edges) == 0 {
		return ""
	}
	return out.Products.Edges[0].Node.Title
}

func (a *replicatedAPI) rename(token, productID, title string) {
	a.t.Helper()
	var out json.RawMessage
	a.ok(token, `mutation($id: ID!, $t: String!) { updateProduct(input: {id: $id, title: $t}) { product { title } } }`,
		map[string]any{"id": productID, "t": title}, &out)
}

// TestAnonymousReadsComeFromTheReplica pauses the replica's replay: an
// anonymous reader (and a signed-in one who wrote nothing) then reads the
// product as it was, from the replica, while the seller who renamed it
// reads the new title, from the primary; once replay resumes, everyone
// reads the new title.
func TestAnonymousReadsComeFromTheReplica(t *testing.T) {
	a := newReplicatedAPI(t, time.Hour)
	f := a.fixture("rr")
	reader, _ := a.user("reader", false)
	video := a.publishVideo(f.sellerToken, f.productID)
	until(t, "the replica is in use", func() bool { ok, _ := a.reads.Status(); return ok })
	until(t, "the replica has the product", func() bool { return a.replicaTitle(f.productID) == "rr-serum" })

	a.pauseReplay()
	a.rename(f.sellerToken, f.productID, "Renamed serum")

	if got := a.title("", f.productID); got != "rr-serum" {
		t.Errorf("anonymous product(id) = %q during paused replay, want the replica's %q", got, "rr-serum")
	}
	if got := a.listedTitle(""); got != "rr-serum" {
		t.Errorf("anonymous products list = %q during paused replay, want the replica's %q", got, "rr-serum")
	}
	if got := a.title(reader, f.productID); got != "rr-serum" {
		t.Errorf("a signed-in caller who wrote nothing read %q, want the replica's %q", got, "rr-serum")
	}
	// Engagement events are buffered, not written: they fence nobody.
	var rec struct{ RecordEvents struct{ Accepted int } }
	a.ok(reader, recordEventsMutation, map[string]any{"events": []map[string]any{{"type": "VIEW", "contentId": video, "watchMs": 3000}}}, &rec)
	if rec.RecordEvents.Accepted != 1 {
		t.Fatalf("recordEvents accepted %d events", rec.RecordEvents.Accepted)
	}
	if got := a.title(reader, f.productID); got != "rr-serum" {
		t.Errorf("a signed-in caller who only sent engagement events read %q, want the replica's %q", got, "rr-serum")
	}
	if got := a.title(f.sellerToken, f.productID); got != "Renamed serum" {
		t.Errorf("the seller read %q after renaming, want their own write %q", got, "Renamed serum")
	}
	if got := a.listedTitle(f.sellerToken); got != "Renamed serum" {
		t.Errorf("the seller's products list = %q, want their own write %q", got, "Renamed serum")
	}

	// What routing costs a request: nothing anonymous; a signed-in query one
	// read-fence lookup besides the token's own (its user, on the primary).
	a.title("", f.productID)
	anonymous := a.statements.Load()
	a.title(reader, f.productID)
	if signedIn := a.statements.Load(); signedIn != anonymous+2 {
		t.Errorf("product(id) cost %d statements anonymous and %d signed in, want %d: the token's user and the read fence",
			anonymous, signedIn, anonymous+2)
	}
	var feed struct {
		Feed struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.ok("", `{ feed(first: 20) { edges { node { id } } } }`, nil, &feed)
	if n := a.statements.Load(); n > 6 {
		t.Errorf("the anonymous feed cost %d statements with a replica", n)
	}

	a.resumeReplay()
	until(t, "anonymous readers see the rename", func() bool { return a.title("", f.productID) == "Renamed serum" })
	// The fence is passed: the seller's reads go to the replica again.
	until(t, "the seller's fence is passed", func() bool {
		return a.reads.Reader(context.Background(), sellerID(t, a)) != a.db
	})
}

// sellerID is the user id of the rr fixture's seller.
func sellerID(t *testing.T, a *replicatedAPI) int64 {
	t.Helper()
	var id int64
	if err := a.db.GetContext(context.Background(), &id, `SELECT id FROM users WHERE handle = 'rr'`); err != nil {
		t.Fatal(err)
	}
	return id
}

// readPoolQueriedSince reports whether a read pool connection on the replica
// ran a statement at or after the replica's time since.
func (a *replicatedAPI) readPoolQueriedSince(since time.Time) bool {
	a.t.Helper()
	var n int
	if err := a.replica.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query_start >= $2`,
		store.ReadPoolName, since).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n > 0
}

func (a *replicatedAPI) replicaNow() time.Time {
	a.t.Helper()
	var now time.Time
	if err := a.replica.QueryRow(`SELECT now()`).Scan(&now); err != nil {
		a.t.Fatal(err)
	}
	return now
}

// TestReadsFallBackToThePrimary stops the replica, then makes it lag beyond
// the bound: reads go on without an error, from the primary, and return to
// the replica each time it is back.
func TestReadsFallBackToThePrimary(t *testing.T) {
	a := newReplicatedAPI(t, 500*time.Millisecond)
	f := a.fixture("fb")
	until(t, "the replica has the product", func() bool { return a.replicaTitle(f.productID) == "fb-serum" })
	since := a.replicaNow()
	until(t, "reads are served by the replica", func() bool { a.title("", f.productID); return a.readPoolQueriedSince(since) })

	t.Run("ReplicaStopped", func(t *testing.T) {
		if err := a.pair.Standby.Stop(); err != nil {
			t.Fatal(err)
		}
		// No error, from the very first read after the stop (a.title fails
		// the test on any error).
		for i := 0; i < 5; i++ {
			if got := a.title("", f.productID); got != "fb-serum" {
				t.Fatalf("read %q with the replica stopped", got)
			}
		}
		a.rename(f.sellerToken, f.productID, "Stopped serum")
		if got := a.title("", f.productID); got != "Stopped serum" {
			t.Fatalf("anonymous read %q with the replica stopped, want the primary's %q", got, "Stopped serum")
		}
		if ok, _ := a.reads.Status(); ok {
			t.Error("a stopped replica is still in use")
		}
	})

	t.Run("ReplicaBack", func(t *testing.T) {
		if err := a.pair.Standby.Restart(context.Background()); err != nil {
			t.Fatal(err)
		}
		until(t, "the replica is in use again", func() bool { ok, _ := a.reads.Status(); return ok })
		since := a.replicaNow()
		until(t, "reads are served by the replica again", func() bool {
			if got := a.title("", f.productID); got != "Stopped serum" {
				t.Fatalf("read %q after the replica came back, want %q", got, "Stopped serum")
			}
			return a.readPoolQueriedSince(since)
		})
	})

	t.Run("ReplicaLagging", func(t *testing.T) {
		a.pauseReplay()
		a.rename(f.sellerToken, f.productID, "Lagging serum")
		// Within the bound an anonymous reader may still read the replica's
		// title; beyond it, the primary's.
		until(t, "anonymous reads come from the primary", func() bool {
			switch got := a.title("", f.productID); got {
			case "Lagging serum":
				return true
			case "Stopped serum":
				return false
			default:
				t.Fatalf("read %q", got)
				return false
			}
		})
		if ok, lag := a.reads.Status(); ok || lag <= 500*time.Millisecond {
			t.Errorf("Status() = %v, %s while replay is paused", ok, lag)
		}
		a.resumeReplay()
		until(t, "the caught-up replica is in use again", func() bool { ok, _ := a.reads.Status(); return ok })
		since := a.replicaNow()
		until(t, "reads are served by the replica again", func() bool {
			if got := a.title("", f.productID); got != "Lagging serum" {
				t.Fatalf("read %q after the replica caught up, want %q", got, "Lagging serum")
			}
			return a.readPoolQueriedSince(since)
		})
	})
}

// wsOp runs one query or mutation over a graphql-transport-ws connection
// and returns its data.
func wsOp(t *testing.T, c *wsClient, id, query string, vars map[string]any) map[string]any {
	t.Helper()
	if err := wsjson.Write(c.ctx, c.conn, wsMessage{ID: id, Type: "subscribe", Payload: map[string]any{"query": query, "variables": vars}}); err != nil {
		t.Fatal(err)
	}
	for {
		var m wsMessage
		if err := wsjson.Read(c.ctx, c.conn, &m); err != nil {
			t.Fatal(err)
		}
		switch {
		case m.Type == "ping":
			_ = wsjson.Write(c.ctx, c.conn, wsMessage{Type: "pong"})
		case m.Type == "next" && m.ID == id:
			if errs, ok := m.Payload["errors"]; ok {
				t.Fatalf("%s: %v", id, errs)
			}
			data, _ := m.Payload["data"].(map[string]any)
			return data
		case m.Type == "error":
			t.Fatalf("%s: %+v", id, m.Payload)
		}
	}
}

// TestReadRoutingOverWebsockets routes websocket operations as HTTP ones:
// a seller's rename sent over a websocket fences their reads (over the
// same socket and over HTTP), while an anonymous socket reads the replica.
func TestReadRoutingOverWebsockets(t *testing.T) {
	a := newReplicatedAPI(t, time.Hour)
	f := a.fixture("ws")
	until(t, "the replica is in use", func() bool { ok, _ := a.reads.Status(); return ok })
	until(t, "the replica has the product", func() bool { return a.replicaTitle(f.productID) == "ws-serum" })
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seller, err := dialLive(ctx, srv, f.sellerToken)
	if err != nil {
		t.Fatal(err)
	}
	defer seller.conn.Close(coderws.StatusNormalClosure, "")
	anon, err := dialLive(ctx, srv, "")
	if err != nil {
		t.Fatal(err)
	}
	defer anon.conn.Close(coderws.StatusNormalClosure, "")
	const titleQuery = `query($id: ID!) { product(id: $id) { title } }`
	title := func(c *wsClient, id string) any {
		p, _ := wsOp(t, c, id, titleQuery, map[string]any{"id": f.productID})["product"].(map[string]any)
		return p["title"]
	}

	a.pauseReplay()
	wsOp(t, seller, "rename", `mutation($id: ID!) { updateProduct(input: {id: $id, title: "Socket serum"}) { product { title } } }`,
		map[string]any{"id": f.productID})
	if got := title(seller, "seller-read"); got != "Socket serum" {
		t.Errorf("the seller read %v over the websocket after renaming over it", got)
	}
	if got := a.title(f.sellerToken, f.productID); got != "Socket serum" {
		t.Errorf("the seller read %q over HTTP after renaming over a websocket", got)
	}
	if got := title(anon, "anon-read"); got != "ws-serum" {
		t.Errorf("an anonymous websocket read %v during paused replay, want the replica's ws-serum", got)
	}
	a.resumeReplay()
}

// A guest has no user to fence: the reads of what they wrote (their cart by
// its keyed ID, through cart or node) are made on the primary, so a guest
// sees their own cart while the replica lags.
func TestGuestReadsTheirOwnCartWithAReplica(t *testing.T) {
	a := newReplicatedAPI(t, time.Hour)
	f := a.fixture("rg")
	until(t, "the replica is in use", func() bool { ok, _ := a.reads.Status(); return ok })
	a.pauseReplay()
	defer a.resumeReplay()

	var created struct {
		CartCreate struct {
			Cart struct {
				ID            string
				TotalQuantity int
			}
		}
	}
	a.ok("", `mutation($v: ID!) { cartCreate(lines: [{variantId: $v, quantity: 2}]) { cart { id totalQuantity } userErrors { message } } }`,
		map[string]any{"v": f.variantIDs[0]}, &created)
	id := created.CartCreate.Cart.ID
	if id == "" {
		t.Fatal("cartCreate made no cart")
	}
	var read struct {
		Cart *struct{ TotalQuantity int }
		Node *struct{ TotalQuantity int }
	}
	a.ok("", `query($id: ID!) { cart(id: $id) { totalQuantity } node(id: $id) { ... on Cart { totalQuantity } } }`, map[string]any{"id": id}, &read)
	if read.Cart == nil || read.Cart.TotalQuantity != 2 {
		t.Errorf("the guest's cart(id:) during paused replay = %+v, want their 2 items", read.Cart)
	}
	// The same read with the root field inside fragments, as clients write it.
	var fragmented struct{ Cart *struct{ TotalQuantity int } }
	a.ok("", `query($id: ID!) { ...Q } fragment Q on Query { ... on Query { cart(id: $id) { totalQuantity } } }`, map[string]any{"id": id}, &fragmented)
	if fragmented.Cart == nil || fragmented.Cart.TotalQuantity != 2 {
		t.Errorf("the guest's cart(id:) inside fragments during paused replay = %+v, want their 2 items", fragmented.Cart)
	}
	var byNode struct{ Node *struct{ TotalQuantity int } }
	a.ok("", `query($id: ID!) { node(id: $id) { ... on Cart { totalQuantity } } }`, map[string]any{"id": id}, &byNode)
	if byNode.Node == nil || byNode.Node.TotalQuantity != 2 {
		t.Errorf("the guest's node(id:) during paused replay = %+v, want their 2 items", byNode.Node)
	}
}

// A feed page is read on the primary (its walk is stored there), so it lists
// contents the replica has not replayed yet: their author, shop and figures
// are then read on the primary (the loaders read there what the
// replica did not find) instead of failing as not found (an INTERNAL error
// per field, seen when the feed's figures came from a lagging replica).
func TestFeedListsWhatTheReplicaHasNotReplayed(t *testing.T) {
	a := newReplicatedAPI(t, time.Hour)
	f := a.fixture("lag")
	until(t, "the replica is in use", func() bool { ok, _ := a.reads.Status(); return ok })
	until(t, "the replica has the product", func() bool { return a.replicaTitle(f.productID) != "" })
	a.pauseReplay()
	video := a.publishVideo(f.sellerToken, f.productID)
	var page struct {
		Feed struct {
			Edges []struct {
				Node struct {
					ID       string
					Author   *struct{ Handle string }
					Shop     *struct{ Name string }
					Products struct {
						Edges []struct{ Node struct{ Title string } }
					}
					Metrics *struct{ Views int64 }
				}
			}
		}
	}
	a.ok("", `{ feed(first: 20) { edges { node { id ... on Video { author { handle } shop { name }
		products(first: 3) { edges { node { title } } } metrics { views } } } } } }`, nil, &page)
	found := false
	for _, e := range page.Feed.Edges {
		if e.Node.ID != video {
			continue
		}
		found = true
		if e.Node.Author == nil || e.Node.Metrics == nil || e.Node.Shop == nil {
			t.Fatalf("the new video's author, shop or figures are missing: %+v", e.Node)
		}
	}
	if !found {
		t.Fatalf("the feed did not list the video published while replay was paused: %+v", page)
	}
	a.resumeReplay()
	// Once replayed, its product cards show too (until then the replica
	// reads it as a content without cards: README, Reads past one PostgreSQL).
	until(t, "the new video's cards show", func() bool {
		a.ok("", `{ feed(first: 20) { edges { node { id ... on Video { author { handle } shop { name }
			products(first: 3) { edges { node { title } } } metrics { views } } } } } }`, nil, &page)
		for _, e := range page.Feed.Edges {
			if e.Node.ID == video {
				return len(e.Node.Products.Edges) == 1
			}
		}
		return false
	})
}
