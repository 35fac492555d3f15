package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/live"
	"showcase/store/storetest"
)

// TestAdmissionConfig reads GRAPHQL_MAX_CONCURRENT (default 4 × GOMAXPROCS,
// 0 off), GRAPHQL_MAX_QUEUED (default 1024), GRAPHQL_MAX_QUEUED_PER_CALLER
// (default 16, at least 1) and GRAPHQL_MAX_QUEUE_WAIT (default 5s, at most
// the request timeout), refusing bad values; the README's settings table
// gives those defaults.
func TestAdmissionConfig(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{
		"| `GRAPHQL_MAX_CONCURRENT` | 4 × `GOMAXPROCS` ",
		"| `GRAPHQL_MAX_QUEUED` | `" + strconv.Itoa(DefaultAdmissionQueue) + "` |",
		"| `GRAPHQL_MAX_QUEUED_PER_CALLER` | `" + strconv.Itoa(DefaultAdmissionQueuePerCaller) + "` |",
		"| `GRAPHQL_MAX_QUEUE_WAIT` | `" + DefaultAdmissionWait.String() + "` |",
	} {
		if !strings.Contains(string(readme), row) {
			t.Errorf("README's settings table lacks %q", row)
		}
	}
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	cfg, err := parseConfig(nil, get, io.Discard)
	if err != nil || cfg.AdmissionSlots != 4*runtime.GOMAXPROCS(0) || cfg.AdmissionQueue != 1024 || cfg.AdmissionQueuePerCaller != 16 || cfg.AdmissionWait != 5*time.Second {
		t.Fatalf("defaults = %d, %d, %d, %s (err %v)", cfg.AdmissionSlots, cfg.AdmissionQueue, cfg.AdmissionQueuePerCaller, cfg.AdmissionWait, err)
	}
	env = map[string]string{"GRAPHQL_MAX_CONCURRENT": "3", "GRAPHQL_MAX_QUEUED": "0", "GRAPHQL_MAX_QUEUED_PER_CALLER": "3", "GRAPHQL_MAX_QUEUE_WAIT": "250ms"}
	if cfg, err = parseConfig(nil, get, io.Discard); err != nil || cfg.AdmissionSlots != 3 || cfg.AdmissionQueue != 0 || cfg.AdmissionQueuePerCaller != 3 || cfg.AdmissionWait != 250*time.Millisecond {
		t.Fatalf("cfg = %d, %d, %d, %s (err %v)", cfg.AdmissionSlots, cfg.AdmissionQueue, cfg.AdmissionQueuePerCaller, cfg.AdmissionWait, err)
	}
	env = map[string]string{"GRAPHQL_MAX_CONCURRENT": "0"}
	if cfg, err = parseConfig(nil, get, io.Discard); err != nil || newAdmission(cfg.AdmissionSlots, cfg.AdmissionQueue, cfg.AdmissionQueuePerCaller, cfg.AdmissionWait, nil) != nil {
		t.Fatalf("GRAPHQL_MAX_CONCURRENT=0 does not turn admission off (err %v)", err)
	}
	for k, bad := range map[string][]string{
		"GRAPHQL_MAX_CONCURRENT":        {"-1", "many", "10001"},
		"GRAPHQL_MAX_QUEUED":            {"-1", "x"},
		"GRAPHQL_MAX_QUEUED_PER_CALLER": {"0", "-1", "x", "1000001"},
		"GRAPHQL_MAX_QUEUE_WAIT":        {"0", "-1s", "soon", "31s"},
	} {
		for _, v := range bad {
			env = map[string]string{k: v}
			if _, err := parseConfig(nil, get, io.Discard); err == nil {
				t.Errorf("%s=%s accepted", k, v)
			}
		}
	}
}

// admissionGauges reads the executing and queued gauges off /metrics.
func admissionGauges(t *testing.T, debugURL string) (executing, queued int) {
	t.Helper()
	res, err := http.Get(debugURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	read := func(name string) int {
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no %s", name)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	return read("showcase_graphql_executing"), read("showcase_graphql_queued")
}

// awaitAdmission waits until the gauges read executing and queued.
func awaitAdmission(t *testing.T, debugURL string, executing, queued int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		e, q := admissionGauges(t, debugURL)
		if e == executing && q == queued {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("executing %d, queued %d; want %d, %d", e, q, executing, queued)
		}
	}
}

type admissionReply struct {
	name   string
	status int
	header http.Header
	body   string
	err    error
}

// admissionRig is a server with GRAPHQL_MAX_CONCURRENT=1 (newAdmissionRig).
type admissionRig struct {
	api, debug *httptest.Server
	db         *store.DB
	hub        *live.Hub
	// token is a signed-in user's, userID's; signIn makes another user.
	token  string
	userID int64
	signIn func(handle string) (token string, userID int64)
	// lockProducts locks the products table until the unlock it returns
	// is called (or the test ends): a products query sent meanwhile holds
	// the one slot.
	lockProducts func() (unlock func() error)
}

// newAdmissionRig starts a server with GRAPHQL_MAX_CONCURRENT=1, a 20s
// wait, the settings of env besides, and a live-event hub.
func newAdmissionRig(t *testing.T, env map[string]string) *admissionRig {
	t.Helper()
	dsn := storetest.DSN(t)
	db, err := store.Open(context.Background(), dsn, store.PoolOptions{MaxOpenConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hub := live.NewHub(db, dsn)
	hubCtx, stopHub := context.WithCancel(context.Background())
	if err := hub.Start(hubCtx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopHub(); <-hub.Done() })
	tokens := testTokens(t)
	settings := map[string]string{
		"GRAPHQL_MAX_CONCURRENT": "1", "GRAPHQL_MAX_QUEUE_WAIT": "20s",
		"CATALOG_CACHE_TTL": "0", "RATE_LIMIT_RPS": "1000", "RATE_LIMIT_BURST": "1000"}
	for k, v := range env {
		settings[k] = v
	}
	rig := &admissionRig{db: db, hub: hub}
	rig.api, rig.debug = testServers(t, db, tokens, hub, settings)
	ctx := context.Background()
	rig.signIn = func(handle string) (string, int64) {
		t.Helper()
		u, err := db.CreateUser(ctx, store.NewUser{Email: handle + "@example.com", PasswordHash: "-", Handle: handle, DisplayName: handle})
		if err != nil {
			t.Fatal(err)
		}
		token, _ := tokens.Issue(u.ID)
		return token, u.ID
	}
	rig.token, rig.userID = rig.signIn("uploader")
	rig.lockProducts = func() func() error {
		t.Helper()
		tx, err := db.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback() })
		if _, err := tx.ExecContext(ctx, `LOCK TABLE products IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		return tx.Rollback
	}
	return rig
}

// cancelProductsWaiter waits until a statement waits for the products
// table's lock (lockProducts) and cancels it: with one query executing
// at a time, the request that runs it gets its reply then, and the next
// one cannot finish before the next cancel, so replies come one at a
// time, in the order the server executes the requests.
func cancelProductsWaiter(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var cancelled bool
		if err := db.DB.QueryRowContext(ctx, `SELECT coalesce(bool_or(pg_cancel_backend(pid)), false) FROM pg_locks
			WHERE locktype = 'relation' AND relation = 'products'::regclass AND NOT granted`).Scan(&cancelled); err != nil {
			t.Fatal(err)
		}
		if cancelled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no statement waits for the products table's lock")
		}
	}
}

// TestAdmissionThroughTheServer holds the one slot of a server with
// GRAPHQL_MAX_CONCURRENT=1 and GRAPHQL_MAX_QUEUED=3 by a query blocked on a
// table lock, then checks through the real chain: waiting requests are
// admitted in arrival order; a request cancelled while queued frees its
// place; one past the queue's bound is refused at once with 503,
// Retry-After and a retryable SERVICE_UNAVAILABLE; /healthz, /readyz, /metrics, an
// event-stream subscription, an upload's request and a websocket upgrade
// are not held; and
// requests waiting for another's execution of the same anonymous page
// (the response cache) hold no slot and take no place in the queue.
func TestAdmissionThroughTheServer(t *testing.T) {
	rig := newAdmissionRig(t, map[string]string{"GRAPHQL_MAX_QUEUED": "3"})
	api, debug, uploader, lockProducts := rig.api, rig.debug, rig.token, rig.lockProducts
	ctx := context.Background()
	unlock := lockProducts()
	replies := make(chan admissionReply, 32)
	// send posts a products query under an alias of its own (so that no
	// two share an execution), executed (no-cache) unless shared is set.
	send := func(ctx context.Context, name string, shared bool) {
		q := fmt.Sprintf(`{"query":"{ %s: products(first: 1) { edges { node { id } } } }"}`, name)
		if shared {
			q = `{"query":"{ shared: products(first: 1) { edges { node { id } } } }"}`
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, api.URL+"/graphql", strings.NewReader(q))
		req.Header.Set("Content-Type", "application/json")
		if !shared {
			req.Header.Set("Cache-Control", "no-cache")
		}
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
	send(ctx, "a", false) // takes the slot, blocks on the lock
	awaitAdmission(t, debug.URL, 1, 0)
	send(ctx, "b", false)
	awaitAdmission(t, debug.URL, 1, 1)
	cctx, cancel := context.WithCancel(ctx)
	send(cctx, "c", false)
	awaitAdmission(t, debug.URL, 1, 2)
	send(ctx, "d", false)
	awaitAdmission(t, debug.URL, 1, 3)

	// The queue is full: the next is refused at once.
	send(ctx, "refused", false)
	r := <-replies
	wantHTTPUnavailable(t, "past the queue", "refused", r)
	if !strings.Contains(metricsText(t, debug.URL), `showcase_http_rejected_total{reason="overloaded"} 1`) {
		t.Error("the refusal is not counted on /metrics")
	}

	// Cancelling c, queued second, frees its place: e queues behind d.
	cancel()
	if r := <-replies; r.name != "c" || r.err == nil {
		t.Fatalf("cancelled request: %+v", r)
	}
	awaitAdmission(t, debug.URL, 1, 2)
	send(ctx, "e", false)
	awaitAdmission(t, debug.URL, 1, 3)

	// Health, metrics, streams and websockets pass a full server.
	if res, err := http.Get(api.URL + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("/healthz while full: %v %v", res, err)
	}
	if res, err := http.Get(api.URL + "/readyz"); err != nil {
		t.Fatal(err)
	} else if body, _ := io.ReadAll(res.Body); strings.Contains(string(body), "SERVICE_UNAVAILABLE") {
		t.Fatalf("/readyz while full: %d %s", res.StatusCode, body)
	}
	sse, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql",
		strings.NewReader(`{"query":"subscription { liveSessionEvents(sessionId: \"TGl2ZVNlc3Npb246MQ\") { __typename } }"}`))
	sse.Header.Set("Content-Type", "application/json")
	sse.Header.Set("Accept", "text/event-stream")
	if res, err := http.DefaultClient.Do(sse); err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("event stream while full: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	// An upload's request is not held while its files arrive (its operation
	// takes a turn once they have: TestAdmissionCoversUploadsAndPersistedStreams);
	// this one, its variable unused, fails validation before any turn.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("operations", `{"query":"mutation($f: Upload) { __typename }","variables":{"f":null}}`)
	_ = mw.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", "a.txt")
	_, _ = fw.Write([]byte("hello"))
	_ = mw.Close()
	up, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql", &form)
	up.Header.Set("Content-Type", mw.FormDataContentType())
	up.Header.Set("Authorization", "Bearer "+uploader)
	if res, err := http.DefaultClient.Do(up); err != nil || res.StatusCode == http.StatusServiceUnavailable {
		t.Fatalf("upload while full: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	ws, _ := http.NewRequest(http.MethodGet, api.URL+"/graphql", nil)
	ws.Header.Set("Connection", "Upgrade")
	ws.Header.Set("Upgrade", "websocket")
	ws.Header.Set("Sec-WebSocket-Version", "13")
	ws.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	ws.Header.Set("Sec-WebSocket-Protocol", "graphql-transport-ws")
	if res, err := http.DefaultClient.Do(ws); err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("websocket while full: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// The one executing gets cancelled, then the next: a, then b, d, e in
	// the order they came (the order they execute in; replies that all
	// come at once could reach the test in another).
	var order []string
	for range 4 {
		cancelProductsWaiter(t, rig.db)
		r := <-replies
		if r.err != nil || !strings.Contains(r.body, "INTERNAL") {
			t.Fatalf("%s: %d %s (%v)", r.name, r.status, r.body, r.err)
		}
		order = append(order, r.name)
	}
	if got := strings.Join(order, ","); got != "a,b,d,e" {
		t.Fatalf("execution order %s, want a,b,d,e (arrival order)", got)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	awaitAdmission(t, debug.URL, 0, 0)

	// Requests waiting for another's execution of the same anonymous page
	// hold no slot and no place in the queue.
	unlock = lockProducts()
	for range 6 {
		send(ctx, "shared", true)
	}
	time.Sleep(200 * time.Millisecond) // let all six arrive
	awaitAdmission(t, debug.URL, 1, 0)
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		if r := <-replies; r.err != nil || r.status != 200 {
			t.Fatalf("shared page: %d %s (%v)", r.status, r.body, r.err)
		}
	}
}

func metricsText(t *testing.T, debugURL string) string {
	t.Helper()
	res, err := http.Get(debugURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// wantHTTPUnavailable fails the test unless r is the reply to the request
// named name, refused admission: 503 with Retry-After: 1 and one GraphQL
// error of code SERVICE_UNAVAILABLE, retryable.
func wantHTTPUnavailable(t *testing.T, what, name string, r admissionReply) {
	t.Helper()
	var e struct {
		Errors []struct {
			Extensions struct {
				Code      string `json:"code"`
				Retryable bool   `json:"retryable"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if r.name != name || r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" ||
		json.Unmarshal([]byte(r.body), &e) != nil || len(e.Errors) != 1 || e.Errors[0].Extensions.Code != "SERVICE_UNAVAILABLE" || !e.Errors[0].Extensions.Retryable {
		t.Fatalf("%s: %s %d Retry-After %q %s (%v), want %s refused 503 SERVICE_UNAVAILABLE", what, r.name, r.status, r.header.Get("Retry-After"), r.body, r.err, name)
	}
}
