package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/pgcluster"
)

// TestDatabaseOutage stops PostgreSQL under the server: requests fail fast
// with SERVICE_UNAVAILABLE and /readyz fails; when it comes back, the same
// server recovers without a restart.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops its own PostgreSQL")
	}
	ctx := context.Background()
	own := startOwnDatabase(t, 0)
	db := own.db
	tokens := testTokens(t)
	srv := testServer(t, db, tokens, nil, nil)
	u, err := db.CreateUser(ctx, store.NewUser{Email: "outage@example.com", PasswordHash: "-", Handle: "outage", DisplayName: "Outage"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := tokens.Issue(u.ID)
	if err != nil {
		t.Fatal(err)
	}

	bearer := ""
	query := func() (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query": "{ shops { totalCount } }"}`))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		// A shared anonymous answer may outlive the outage by a second or two;
		// this asks for a real execution every time.
		req.Header.Set("Cache-Control", "no-cache")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	ready := func() int {
		res, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if _, body := query(); !strings.Contains(body, `"totalCount":0`) || ready() != 200 {
		t.Fatalf("before the outage: %s", body)
	}
	own.stop()
	_, body := query()
	if !strings.Contains(body, "SERVICE_UNAVAILABLE") || ready() != http.StatusServiceUnavailable {
		t.Fatalf("during the outage: %s (readyz %d)", body, ready())
	}
	// Signed in, the outage is met while loading the token's subject, before
	// GraphQL runs: the same code, as retryable, with 503.
	bearer = token
	if status, body := query(); status != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"SERVICE_UNAVAILABLE"`) ||
		!strings.Contains(body, `"retryable":true`) {
		t.Fatalf("signed in during the outage: %d %s", status, body)
	}
	bearer = ""
	own.restart()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, body := query(); strings.Contains(body, `"totalCount":0`) && ready() == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database came back: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ownDatabase is a PostgreSQL cluster of one test's own, migrated, which the
// test may stop and start again on the same port; it is stopped and removed
// when the test ends.
type ownDatabase struct {
	t       *testing.T
	dir     string
	cluster *pgcluster.Cluster
	running bool
	db      *store.DB
}

// startOwnDatabase starts and migrates a cluster, with a pool of at most
// maxConns connections (the default when 0).
func startOwnDatabase(t *testing.T, maxConns int) *ownDatabase {
	t.Helper()
	dir, err := os.MkdirTemp("", "showcase-own-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	o := &ownDatabase{t: t, dir: dir}
	if o.cluster, err = pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir, Ephemeral: true}); err != nil {
		t.Fatal(err)
	}
	o.running = true
	t.Cleanup(func() {
		if o.running {
			o.cluster.Stop()
		}
	})
	if o.db, err = store.Open(context.Background(), o.cluster.DSN("postgres"), store.PoolOptions{MaxOpenConns: maxConns}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.db.Close() })
	if err := store.Migrate(context.Background(), o.db.DB.DB); err != nil {
		t.Fatal(err)
	}
	return o
}

// stop stops the cluster under whatever is using it.
func (o *ownDatabase) stop() {
	o.t.Helper()
	if err := o.cluster.Stop(); err != nil {
		o.t.Fatal(err)
	}
	o.running = false
}

// restart starts the stopped cluster again on the same folder and port.
func (o *ownDatabase) restart() {
	o.t.Helper()
	restarted, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: o.dir, Port: o.cluster.Port(), Ephemeral: true})
	if err != nil {
		o.t.Fatal(err)
	}
	o.cluster, o.running = restarted, true
}

// The feed index under database restarts: a first load that meets the
// database down keeps retrying (not ready meanwhile) and loads once it is
// back; an index caught up before a restart keeps catching up after it (a
// video published after the restart reaches it).
func TestFeedIndexSurvivesDatabaseRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops its own PostgreSQL")
	}
	ctx := context.Background()
	own := startOwnDatabase(t, 0)
	b, err := store.Open(ctx, own.cluster.DSN("postgres"), store.PoolOptions{MaxOpenConns: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	own.stop()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.RunFeedIndex(runCtx, 200*time.Millisecond)
	}()
	defer func() { stop(); <-done }()
	time.Sleep(1500 * time.Millisecond) // a retry or two against the stopped database
	if b.FeedIndexReady() {
		t.Fatal("the feed index is ready with the database down before its first load")
	}
	own.restart()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s", what)
			}
		}
	}
	waitFor("ready after the database came back", b.FeedIndexReady)

	own.stop()
	own.restart()
	var author, video int64
	waitFor("the database answers after the restart", func() bool {
		_, err := own.db.ExecContext(ctx, `SELECT 1`)
		return err == nil
	})
	if err := own.db.GetContext(ctx, &author, `INSERT INTO users (email, password_hash, handle, display_name) VALUES ('r@x', '-', 'r', 'R') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := own.db.GetContext(ctx, &video, `INSERT INTO contents (kind, author_id, caption, playback_url) VALUES ('VIDEO', $1, 'c', 'u') RETURNING id`, author); err != nil {
		t.Fatal(err)
	}
	waitFor("the video published after the restart in the index", func() bool { return b.FeedIndex().Len() == 1 })
}
