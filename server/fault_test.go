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
	dir, err := os.MkdirTemp("", "showcase-outage-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	db, err := store.Open(ctx, cluster.DSN("postgres"), store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.Migrate(ctx, db.DB.DB); err != nil {
		t.Fatal(err)
	}
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
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
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
	restarted, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Port: cluster.Port(), Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer restarted.Stop()
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
