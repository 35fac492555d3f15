package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"go.uber.org/goleak"

	"showcase/auth"
	"showcase/graph"
	"showcase/store"
	"showcase/store/live"
)

// liveServer serves the API over real HTTP with its own live hub, like one
// server replica on the test's database.
func (a *testAPI) liveServer() (*httptest.Server, *live.Hub) {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hub := live.NewHub(a.db, a.dsn)
	if err := hub.Start(ctx); err != nil {
		a.t.Fatal(err)
	}
	r := &graph.Resolver{DB: a.db, Tokens: a.tokens, Payments: a.payments, Events: a.events,
		FeedWeights: store.DefaultFeedWeights, Live: hub}
	h := endpoint(a.tokens, a.db, r, 0)
	a.handler = h // requests through a.post now publish live events too
	srv := httptest.NewServer(h)
	a.t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		<-hub.Done()
	})
	return srv, hub
}

type wsMessage struct {
	ID      string         `json:"id,omitempty"`
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload,omitempty"`
}

// wsClient is a minimal graphql-transport-ws client, as the graphql-ws
// library speaks it.
type wsClient struct {
	conn *coderws.Conn
	ctx  context.Context
}

func dialLive(ctx context.Context, srv *httptest.Server, token string) (*wsClient, error) {
	conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	c := &wsClient{conn: conn, ctx: ctx}
	init := wsMessage{Type: "connection_init", Payload: map[string]any{}}
	if token != "" {
		init.Payload["Authorization"] = "Bearer " + token
	}
	if err := wsjson.Write(ctx, conn, init); err != nil {
		return nil, err
	}
	var ack wsMessage
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		return nil, fmt.Errorf("no connection_ack: %v %+v", err, ack)
	}
	return c, nil
}

const liveEventsSubscription = `subscription($id: ID!) { liveSessionEvents(sessionId: $id) { __typename
	... on CommentAdded { comment { body author { handle } } }
	... on ProductPinned { product { title } }
	... on PurchaseMade { product { title } quantity buyerHandle }
	... on ViewerCountChanged { count }
	... on StatusChanged { status }
	... on EventsDropped { count } } }`

func (c *wsClient) subscribe(id, sessionID string) error {
	return wsjson.Write(c.ctx, c.conn, wsMessage{ID: id, Type: "subscribe", Payload: map[string]any{
		"query": liveEventsSubscription, "variables": map[string]any{"id": sessionID}}})
}

// next reads the next event, skipping viewer counts unless wanted.
func (c *wsClient) next(withViewers bool) (map[string]any, error) {
	for {
		var m wsMessage
		if err := wsjson.Read(c.ctx, c.conn, &m); err != nil {
			return nil, err
		}
		if m.Type == "ping" {
			_ = wsjson.Write(c.ctx, c.conn, wsMessage{Type: "pong"})
			continue
		}
		if m.Type != "next" {
			return nil, fmt.Errorf("unexpected %s: %+v", m.Type, m.Payload)
		}
		data, _ := m.Payload["data"].(map[string]any)
		ev, _ := data["liveSessionEvents"].(map[string]any)
		if ev == nil {
			return nil, fmt.Errorf("no event in %+v", m.Payload)
		}
		if !withViewers && ev["__typename"] == "ViewerCountChanged" {
			continue
		}
		return ev, nil
	}
}

// liveWorld is a live session on air with two products, one pinned later.
type liveWorld struct {
	f        fixture
	other    productOut
	session  string
	sessions []string
}

func newLiveWorld(a *testAPI) liveWorld {
	a.t.Helper()
	w := liveWorld{f: a.fixture("host")}
	w.other = a.product(w.f.sellerToken, w.f.shopID, "second-item", nil)
	for i := 0; i < 2; i++ {
		var sched struct{ ScheduleLiveSession liveOut }
		a.ok(w.f.sellerToken, scheduleLiveMutation, map[string]any{"in": map[string]any{
			"title": fmt.Sprintf("Show %d", i), "scheduledStartAt": time.Now().Add(time.Hour).Format(time.RFC3339),
			"productIds": []string{w.f.productID, w.other.ID}}}, &sched)
		w.sessions = append(w.sessions, sched.ScheduleLiveSession.LiveSession.ID)
	}
	w.session = w.sessions[0]
	return w
}

func TestLiveSessionEventsOverWebsocket(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	srv, _ := a.liveServer()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watcher, err := dialLive(ctx, srv, "") // anonymous
	if err != nil {
		t.Fatal(err)
	}
	if err := watcher.subscribe("1", w.session); err != nil {
		t.Fatal(err)
	}
	other, err := dialLive(ctx, srv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.subscribe("1", w.sessions[1]); err != nil {
		t.Fatal(err)
	}
	// The watcher counts as a viewer.
	if ev, err := watcher.next(true); err != nil || ev["__typename"] != "ViewerCountChanged" || ev["count"] != float64(1) {
		t.Fatalf("first event = %v, %v", ev, err)
	}
	buyer, _ := a.user("jasmina", false)
	id := map[string]any{"id": w.session}
	a.ok(w.f.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, id, nil)
	a.ok(w.f.sellerToken, `mutation($s: ID!, $p: ID!) { pinLiveProduct(sessionId: $s, productId: $p) { userErrors { code } } }`,
		map[string]any{"s": w.session, "p": w.other.ID}, nil)
	a.ok(buyer, `mutation($id: ID!) { commentOnContent(contentId: $id, body: "How much?") { userErrors { code } } }`, id, nil)
	in := checkoutInput("live-buy", "tok_ok", line(w.f.variantIDs[0], 2))
	in["in"].(map[string]any)["sourceContentId"] = w.session
	a.ok(buyer, checkoutMutation, in, nil)
	a.ok(w.f.sellerToken, `mutation($id: ID!) { endLiveSession(id: $id) { userErrors { code } } }`, id, nil)

	want := []string{
		"StatusChanged status=LIVE",
		"ProductPinned product.title=second-item",
		"CommentAdded comment.body=How much? comment.author.handle=jasmina",
		"PurchaseMade product.title=host-serum quantity=2 buyerHandle=j***a",
		"StatusChanged status=ENDED",
	}
	for i, w := range want {
		ev, err := watcher.next(false)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got := describe(ev); got != w {
			t.Fatalf("event %d = %q, want %q", i, got, w)
		}
	}
	// The other session's subscriber saw nothing but its own viewer count.
	readCtx, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	defer stop()
	other.ctx = readCtx
	if ev, err := other.next(false); err == nil {
		t.Fatalf("another session's subscriber got %v", ev)
	}
}

// describe flattens an event for comparison.
func describe(ev map[string]any) string {
	parts := []string{fmt.Sprint(ev["__typename"])}
	for _, k := range []string{"status", "product", "comment", "quantity", "buyerHandle", "count"} {
		switch v := ev[k].(type) {
		case nil:
		case map[string]any:
			for _, sub := range []string{"title", "body", "author"} {
				switch sv := v[sub].(type) {
				case nil:
				case map[string]any:
					parts = append(parts, fmt.Sprintf("%s.%s.handle=%v", k, sub, sv["handle"]))
				default:
					parts = append(parts, fmt.Sprintf("%s.%s=%v", k, sub, sv))
				}
			}
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

func TestLiveEventsReachSubscribersOnAnotherReplica(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	replicaA, _ := a.liveServer()
	replicaB, hubB := a.liveServer()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watcher, err := dialLive(ctx, replicaB, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := watcher.subscribe("1", w.session); err != nil {
		t.Fatal(err)
	}
	if _, err := watcher.next(true); err != nil { // its viewer count
		t.Fatal(err)
	}
	a.ok(w.f.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, map[string]any{"id": w.session}, nil)
	// The comment goes through replica A's HTTP API.
	buyer, _ := a.user("ana", false)
	commenter, err := dialLive(ctx, replicaA, buyer) // also a viewer, on replica A
	if err != nil {
		t.Fatal(err)
	}
	if err := commenter.subscribe("1", w.session); err != nil {
		t.Fatal(err)
	}
	if resp := httpPost(t, replicaA, buyer, `mutation($id: ID!) { commentOnContent(contentId: $id, body: "from A") { comment { id } } }`,
		map[string]any{"id": w.session}); len(resp.Errors) > 0 {
		t.Fatal(resp.Errors)
	}
	sawComment, sawTwoViewers := false, false
	for !sawComment || !sawTwoViewers {
		ev, err := watcher.next(true)
		if err != nil {
			t.Fatalf("waiting for the comment and the count on replica B: %v (comment %v, viewers %v)", err, sawComment, sawTwoViewers)
		}
		switch describe(ev) {
		case "CommentAdded comment.body=from A comment.author.handle=ana":
			sawComment = true
		case "ViewerCountChanged count=2":
			sawTwoViewers = true
		}
	}
	if n := hubB.Viewers(mustID(t, w.session)); n != 2 {
		t.Fatalf("replica B counts %d viewers, want 2", n)
	}
}

func TestSlowSubscriberDoesNotHoldUpOthers(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	_, hub := a.liveServer()
	sessionID := mustID(t, w.session)
	slow := hub.Subscribe(sessionID) // never read
	fast := hub.Subscribe(sessionID)
	defer hub.Unsubscribe(slow)
	defer hub.Unsubscribe(fast)
	// Events go out in chunks the fast subscriber can buffer; the slow one
	// overflows after two chunks and must not hold up the rest.
	const chunk, chunks = live.SubscriberBuffer / 2, 6
	ctx := context.Background()
	received := make(chan struct{}, chunk*chunks)
	go func() {
		for e := range fast.C {
			if e.Kind == live.KindStatus {
				received <- struct{}{}
			}
		}
	}()
	for c := 0; c < chunks; c++ {
		for i := 0; i < chunk; i++ {
			if err := hub.Publish(ctx, live.Event{SessionID: sessionID, Kind: live.KindStatus, Status: "LIVE"}); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < chunk; i++ {
			select {
			case <-received:
			case <-time.After(20 * time.Second):
				t.Fatalf("chunk %d: the fast subscriber was held up after %d events", c, i)
			}
		}
	}
	if slow.Dropped() == 0 {
		t.Fatal("the slow subscriber dropped nothing; it should have fallen behind")
	}
}

func TestSubscriptionChurnLeaksNoGoroutines(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	srv, hub := a.liveServer()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cycle := func() {
		c, err := dialLive(ctx, srv, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.subscribe("1", w.session); err != nil {
			t.Fatal(err)
		}
		c.conn.Close(coderws.StatusNormalClosure, "bye")
	}
	for i := 0; i < 20; i++ { // warm up pools
		cycle()
	}
	// noViewers waits until the hub has seen every subscription end.
	noViewers := func() {
		for deadline := time.Now().Add(30 * time.Second); hub.Viewers(mustID(t, w.session)) != 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("subscriptions never ended")
			}
		}
	}
	noViewers()
	before := goleak.IgnoreCurrent() // the server, the hub, pooled connections
	for i := 0; i < 500; i++ {
		cycle()
	}
	noViewers()
	// Goroutines of dropped connections end shortly after: poll, then report.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if goleak.Find(before) == nil {
			break
		}
	}
	goleak.VerifyNone(t, before)
}

// mustID reads the database id out of a global ID made by the API.
func mustID(t testing.TB, gid string) int64 {
	var n int64
	raw, _ := base64Decode(gid)
	if _, err := fmt.Sscanf(raw[strings.Index(raw, ":")+1:], "%d", &n); err != nil {
		panic(err)
	}
	return n
}

func TestLiveEventsOverServerSentEvents(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	srv, _ := a.liveServer()
	body, _ := json.Marshal(map[string]any{"query": liveEventsSubscription, "variables": map[string]any{"id": w.session}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type = %q", ct)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		a.ok(w.f.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, map[string]any{"id": w.session}, nil)
	}()
	scanner := bufio.NewScanner(res.Body)
	for scanner.Scan() {
		if strings.Contains(scanner.Text(), `"status":"LIVE"`) {
			return
		}
	}
	t.Fatalf("no StatusChanged over SSE: %v", scanner.Err())
}

func TestExpiredTokenEndsTheStream(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	srv, _ := a.liveServer()
	shortLived, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Second) // the harness's secret
	if err != nil {
		t.Fatal(err)
	}
	_, viewer := a.user("brief", false)
	token, _ := shortLived.Issue(viewer.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := dialLive(ctx, srv, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.subscribe("1", w.session); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := c.next(true); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the stream outlived its token")
			}
			return // ended (complete or close) once the token expired
		}
	}
}
