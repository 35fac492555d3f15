package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"go.uber.org/goleak"

	"showcase/store"
	"showcase/store/storetest"
)

// TestSIGTERMUnderLoad stops a loaded server: requests in flight finish,
// every accepted engagement event is flushed, subscriptions get a normal
// close, and the process exits promptly.
func TestSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	p := startServer(t, bin, dsn, "-seed", "-events-flush-interval", "1h") // only the shutdown flush
	db, err := store.Open(context.Background(), dsn, store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var videoID, sessionID string
	var feed struct {
		Feed struct {
			Edges []struct {
				Node struct {
					Typename string `json:"__typename"`
					ID       string
				}
			}
		}
	}
	post(t, p.base, "", `{ feed(first: 30) { edges { node { __typename id } } } }`, &feed)
	for _, e := range feed.Feed.Edges {
		if e.Node.Typename == "Video" && videoID == "" {
			videoID = e.Node.ID
		}
		if e.Node.Typename == "LiveSession" && sessionID == "" {
			sessionID = e.Node.ID
		}
	}
	countViews := func() int64 {
		var n int64
		if err := db.GetContext(context.Background(), &n, `SELECT coalesce(sum(views), 0) FROM content_event_counts`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countViews()

	// A subscriber, to see its stream closed properly.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{}})
	var ack map[string]any
	_ = wsjson.Read(ctx, conn, &ack)
	_ = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($id: ID!) { liveSessionEvents(sessionId: $id) { __typename } }`, "variables": map[string]any{"id": sessionID}}})
	closed := make(chan coderws.StatusCode, 1)
	go func() {
		for {
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				closed <- coderws.CloseStatus(err)
				return
			}
		}
	}()

	// Load: batches of views until the server stops taking them.
	var accepted atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	// Each view from a device of its own: a device's repeats count once per half hour.
	batch := func(g, i int) string {
		views := make([]string, 20)
		for k := range views {
			views[k] = fmt.Sprintf(`{"type": "VIEW", "contentId": %q, "deviceId": "d-%d-%d-%d"}`, videoID, g, i, k)
		}
		return `{"query": "mutation($e: [EngagementEventInput!]!) { recordEvents(events: $e) { accepted } }", "variables": {"e": [` +
			strings.Join(views, ",") + `]}}`
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := client.Post(p.base+"/graphql", "application/json", strings.NewReader(batch(g, i)))
				if err != nil {
					return // the server is gone
				}
				var out struct {
					Data struct {
						RecordEvents struct{ Accepted int64 }
					}
				}
				_ = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				accepted.Add(out.Data.RecordEvents.Accepted)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not exit within 30 s of SIGTERM")
	}
	close(stop)
	wg.Wait()
	if accepted.Load() == 0 {
		t.Fatal("no events were accepted before the shutdown")
	}
	if got := countViews() - before; got != accepted.Load() {
		t.Fatalf("accepted %d events, %d reached the database", accepted.Load(), got)
	}
	select {
	case code := <-closed:
		if code != coderws.StatusNormalClosure {
			t.Fatalf("the subscription closed with %d, want 1000", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription was not closed")
	}
}

// SIGTERM while the feed index's first load runs (here held by a lock; at
// 2,000,000 contents a load takes minutes): run returns promptly, after every
// background loop it started (feed index, score refresh, reconciler, sweepers,
// listeners, event flush, webhooks) has stopped: no goroutine outlives it.
func TestShutdownAwaitsEveryBackgroundLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server in-process")
	}
	dsn := storetest.DSN(t)
	ctx := context.Background()
	holder, err := store.Open(ctx, dsn, store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	// The first load reads content_scores: it waits for this lock.
	lock, err := holder.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback() //nolint:errcheck
	if _, err := lock.ExecContext(ctx, `LOCK TABLE content_scores IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	before := goleak.IgnoreCurrent()

	addr := freeAddr(t)
	env := map[string]string{"DATABASE_URL": dsn, "DATA_DIR": t.TempDir(), "FEED_POLICY": "foryou"}
	runCtx, sigterm := context.WithCancel(ctx)
	defer sigterm()
	returned := make(chan error, 1)
	go func() {
		returned <- run(runCtx, []string{"-addr", addr}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	base := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server did not answer /healthz within 60 s")
		}
		res, err := http.Get(base + "/readyz")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Fatal("ready while the feed index's first load is held")
		}
		if strings.Contains(string(b), "feed index loading") {
			break
		}
	}
	http.DefaultClient.CloseIdleConnections()
	sigterm()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30 s of SIGTERM during the feed index's first load")
	}
	// Checked while the lock is still held: a load that outlived run would
	// show here.
	goleak.VerifyNone(t, before, goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
}
