package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"showcase/store"
	"showcase/store/live"
)

// wsMsg is a graphql-transport-ws message.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// admissionWS is a graphql-transport-ws client of an admission test.
type admissionWS struct {
	t    *testing.T
	conn *coderws.Conn
}

// dialAdmissionWS opens a graphql-transport-ws connection to api,
// anonymous when token is "", and waits for its connection_ack.
func dialAdmissionWS(t *testing.T, apiURL, token string) *admissionWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(apiURL, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(coderws.StatusNormalClosure, "done") })
	init := json.RawMessage(`{}`)
	if token != "" {
		init, _ = json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	}
	if err := wsjson.Write(ctx, conn, wsMsg{Type: "connection_init", Payload: init}); err != nil {
		t.Fatal(err)
	}
	var ack wsMsg
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("ack: %v %+v", err, ack)
	}
	return &admissionWS{t: t, conn: conn}
}

// subscribe sends a subscribe message of id carrying query.
func (c *admissionWS) subscribe(id, query string) {
	c.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, wsMsg{ID: id, Type: "subscribe", Payload: payload}); err != nil {
		c.t.Fatal(err)
	}
}

// answer reads until the first `next` or `error` message of id; it fails
// the test if none comes within 10 seconds (why says what that means).
func (c *admissionWS) answer(id, why string) wsMsg {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var m wsMsg
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			c.t.Fatalf("operation %s: no answer (%v): %s", id, err, why)
		}
		if m.ID == id && (m.Type == "next" || m.Type == "error") {
			return m
		}
	}
}

// wantWSUnavailable checks that m is an `error` message carrying one
// GraphQL error of code SERVICE_UNAVAILABLE, retryable.
func wantWSUnavailable(t *testing.T, what string, m wsMsg) {
	t.Helper()
	var errs []struct {
		Message    string
		Extensions struct {
			Code      string `json:"code"`
			Retryable bool   `json:"retryable"`
		} `json:"extensions"`
	}
	if m.Type != "error" || json.Unmarshal(m.Payload, &errs) != nil || len(errs) != 1 ||
		errs[0].Extensions.Code != "SERVICE_UNAVAILABLE" || !errs[0].Extensions.Retryable {
		t.Fatalf("%s while the slot is held: %s %s, want an error message of one retryable SERVICE_UNAVAILABLE", what, m.Type, m.Payload)
	}
}

// holdSlot sends an anonymous, executed products query that takes the one
// slot and blocks on the locked products table; it waits until it holds
// the slot and returns the channel its status arrives on.
func holdSlot(t *testing.T, apiURL, debugURL string) <-chan int {
	t.Helper()
	held := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, apiURL+"/graphql",
			strings.NewReader(`{"query":"{ held: products(first: 1) { edges { node { id } } } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			held <- 0
			return
		}
		res.Body.Close()
		held <- res.StatusCode
	}()
	awaitAdmission(t, debugURL, 1, 0)
	return held
}

// TestAdmissionCoversWebsocketOperations: queries and mutations sent over
// a websocket take a turn like any other. With GRAPHQL_MAX_CONCURRENT=1,
// no queue and the slot held, a query and a mutation sent as
// graphql-transport-ws `subscribe` messages are each answered with an
// `error` message of one SERVICE_UNAVAILABLE, retryable error, instead of
// executing beside the limit; a subscription still starts and its events
// arrive (it holds no slot, neither while it streams nor per event); the
// connection stays open, and once the slot is free a query over it
// executes.
func TestAdmissionCoversWebsocketOperations(t *testing.T) {
	rig := newAdmissionRig(t, map[string]string{"GRAPHQL_MAX_QUEUED": "0"})
	ls, err := rig.db.ScheduleLiveSession(context.Background(), store.NewLiveSession{
		HostID: rig.userID, Title: "Live", ScheduledStartAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	sessionID := base64.RawURLEncoding.EncodeToString([]byte("LiveSession:" + strconv.FormatInt(ls.ID, 10)))
	ws := dialAdmissionWS(t, rig.api.URL, "")

	unlock := rig.lockProducts()
	held := holdSlot(t, rig.api.URL, rig.debug.URL)

	ws.subscribe("q", `{ ws: products(first: 1) { edges { node { id } } } }`)
	wantWSUnavailable(t, "a query over a websocket", ws.answer("q", "the query executed beside the limit (blocked on the lock)"))
	ws.subscribe("m", `mutation { __typename }`)
	wantWSUnavailable(t, "a mutation over a websocket", ws.answer("m", "no answer to the mutation"))
	if !strings.Contains(metricsText(t, rig.debug.URL), `showcase_http_rejected_total{reason="overloaded"} 2`) {
		t.Error("the refusals are not counted on /metrics")
	}

	// A subscription starts while the slot is held, holds none, and its
	// events arrive.
	ws.subscribe("s", `subscription { liveSessionEvents(sessionId: "`+sessionID+`") { __typename ... on StatusChanged { status } } }`)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(metricsText(t, rig.debug.URL), "showcase_live_subscribers 1\n"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the subscription did not start while the slot was held")
		}
	}
	awaitAdmission(t, rig.debug.URL, 1, 0)
	if err := rig.hub.Publish(context.Background(), live.Event{SessionID: ls.ID, Kind: live.KindStatus, Status: "LIVE"}); err != nil {
		t.Fatal(err)
	}
	if m := ws.answer("s", "the subscription's event did not arrive while the slot was held"); m.Type != "next" || !strings.Contains(string(m.Payload), `"status":"LIVE"`) {
		t.Fatalf("subscription event while the slot is held: %s %s", m.Type, m.Payload)
	}

	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if status := <-held; status != http.StatusOK {
		t.Fatalf("held query: %d", status)
	}
	awaitAdmission(t, rig.debug.URL, 0, 0)
	// The same connection, the slot free: the query executes.
	ws.subscribe("q2", `{ ws: products(first: 1) { edges { node { id } } } }`)
	if m := ws.answer("q2", "the query did not execute"); m.Type != "next" || strings.Contains(string(m.Payload), `"errors"`) {
		t.Fatalf("query over the websocket, slot free: %s %s", m.Type, m.Payload)
	}
	awaitAdmission(t, rig.debug.URL, 0, 0)
}

// TestAdmissionQueuePerCaller: GRAPHQL_MAX_QUEUED_PER_CALLER bounds the
// places one caller holds in the queue. With the one slot held, a queue of
// 8 and 2 places per caller, signed-in user A queues two queries; A's
// third is refused at once with 503, Retry-After: 1 and a retryable
// SERVICE_UNAVAILABLE, and so is A's query over a websocket (the same
// caller, whatever the transport), while user B still gets a place; when
// the slot frees, every queued query is served.
func TestAdmissionQueuePerCaller(t *testing.T) {
	rig := newAdmissionRig(t, map[string]string{"GRAPHQL_MAX_QUEUED": "8", "GRAPHQL_MAX_QUEUED_PER_CALLER": "2"})
	tokenA := rig.token
	tokenB, _ := rig.signIn("b")
	wsA := dialAdmissionWS(t, rig.api.URL, tokenA)

	unlock := rig.lockProducts()
	held := holdSlot(t, rig.api.URL, rig.debug.URL)
	replies := make(chan admissionReply, 8)
	send := func(name, token string) {
		req, _ := http.NewRequest(http.MethodPost, rig.api.URL+"/graphql",
			strings.NewReader(fmt.Sprintf(`{"query":"{ %s: products(first: 1) { edges { node { id } } } }"}`, name)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		go func() {
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				replies <- admissionReply{name: name, err: err}
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			replies <- admissionReply{name: name, status: res.StatusCode, header: res.Header, body: string(body)}
		}()
	}
	send("a1", tokenA)
	awaitAdmission(t, rig.debug.URL, 1, 1)
	send("a2", tokenA)
	awaitAdmission(t, rig.debug.URL, 1, 2)

	send("a3", tokenA) // A's places are full: refused at once
	r := <-replies
	wantHTTPUnavailable(t, "A's third", "a3", r)
	wsA.subscribe("a4", `{ a4: products(first: 1) { edges { node { id } } } }`)
	wantWSUnavailable(t, "A's query over a websocket, A's places full", wsA.answer("a4", "A's query queued beyond its places"))

	send("b1", tokenB) // another caller still queues
	awaitAdmission(t, rig.debug.URL, 1, 3)

	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if status := <-held; status != http.StatusOK {
		t.Fatalf("held query: %d", status)
	}
	served := map[string]bool{}
	for range 3 {
		r := <-replies
		if r.err != nil || r.status != http.StatusOK || strings.Contains(r.body, `"errors"`) {
			t.Fatalf("%s: %d %s (%v)", r.name, r.status, r.body, r.err)
		}
		served[r.name] = true
	}
	if !served["a1"] || !served["a2"] || !served["b1"] {
		t.Fatalf("served %v, want a1, a2 and b1", served)
	}
	awaitAdmission(t, rig.debug.URL, 0, 0)
}

// TestAdmissionCoversUploadsAndPersistedStreams: the requests the HTTP
// admission lets pass because they may outlive their execution still take
// a turn for it. With the one slot held and no queue, an upload (a
// multipart mutation mapping a file; its files have arrived by the time it
// executes) is refused with 503, Retry-After: 1 and a retryable
// SERVICE_UNAVAILABLE, and a persisted query sent by its hash alone as an
// event stream (whose operation is not known before it is looked up) gets
// that error as its event, instead of executing beside the limit.
func TestAdmissionCoversUploadsAndPersistedStreams(t *testing.T) {
	rig := newAdmissionRig(t, map[string]string{"GRAPHQL_MAX_QUEUED": "0"})
	client := &http.Client{Timeout: 10 * time.Second}
	// Register the persisted query while the slot is free.
	const query = `{ persisted: products(first: 1) { edges { node { id } } } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	register, _ := json.Marshal(map[string]any{"query": query, "extensions": ext})
	req, _ := http.NewRequest(http.MethodPost, rig.api.URL+"/graphql", bytes.NewReader(register))
	req.Header.Set("Content-Type", "application/json")
	if res, err := client.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("register the persisted query: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	unlock := rig.lockProducts()
	held := holdSlot(t, rig.api.URL, rig.debug.URL)

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("operations", `{"query":"mutation($m: [ProductMediaInput!]!) { productMediaAdd(productId: \"UHJvZHVjdDox\", media: $m) { __typename } }","variables":{"m":[{"upload":null}]}}`)
	_ = mw.WriteField("map", `{"0":["variables.m.0.upload"]}`)
	fw, _ := mw.CreateFormFile("0", "a.png")
	_, _ = fw.Write([]byte("not really a png"))
	_ = mw.Close()
	up, _ := http.NewRequest(http.MethodPost, rig.api.URL+"/graphql", &form)
	up.Header.Set("Content-Type", mw.FormDataContentType())
	up.Header.Set("Authorization", "Bearer "+rig.token)
	res, err := client.Do(up)
	if err != nil {
		t.Fatalf("the upload executed beside the limit (or hung): %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), `"code":"SERVICE_UNAVAILABLE"`) ||
		!strings.Contains(string(body), `"retryable":true`) {
		t.Errorf("upload while the slot is held: %d Retry-After %q %s, want 503 SERVICE_UNAVAILABLE", res.StatusCode, res.Header.Get("Retry-After"), body)
	}

	byHash, _ := json.Marshal(map[string]any{"extensions": ext})
	sse, _ := http.NewRequest(http.MethodPost, rig.api.URL+"/graphql", bytes.NewReader(byHash))
	sse.Header.Set("Content-Type", "application/json")
	sse.Header.Set("Accept", "text/event-stream")
	if res, err := client.Do(sse); err != nil {
		t.Errorf("a persisted query by its hash, as an event stream, executed beside the limit (or hung): %v", err)
	} else {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), `"code":"SERVICE_UNAVAILABLE"`) || !strings.Contains(string(body), "event: complete") {
			t.Errorf("persisted query by its hash while the slot is held: %d %s, want a SERVICE_UNAVAILABLE event", res.StatusCode, body)
		}
	}

	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if status := <-held; status != http.StatusOK {
		t.Fatalf("held query: %d", status)
	}
	awaitAdmission(t, rig.debug.URL, 0, 0)
}
