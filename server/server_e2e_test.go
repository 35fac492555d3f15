package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer collects a child process's output safely across goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServerEndToEnd builds the real binary, starts it with the embedded
// default database as a new user would, and queries it over HTTP.
func TestServerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	bin, dir := buildServer(t)
	dataDir := filepath.Join(dir, "data")
	debugAddr := freeAddr(t)
	t.Setenv("DEBUG_ADDR", debugAddr)
	p := startServer(t, bin, "", "-data-dir", dataDir)
	cmd, base, stdout, stderr, exited := p.cmd, p.base, &p.stdout, &p.stderr, p.exited

	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	// /metrics is served on DEBUG_ADDR only, never on the API port.
	if resp, err := http.Get(base + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API port: %v %v", resp, err)
	}
	if resp, err := http.Get("http://" + debugAddr + "/metrics"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics on DEBUG_ADDR: %v %v", resp, err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "showcase_sql_statements_total") {
			t.Fatalf("DEBUG_ADDR/metrics lacks the statement counter:\n%.500s", body)
		}
	}
	if !strings.Contains(stdout.String(), base+"/graphql") || !strings.Contains(stdout.String(), "demo@showcase.dev") {
		t.Fatalf("startup banner lacks the GraphQL URL or demo account:\n%s", stdout.String())
	}

	var feed struct {
		Feed struct {
			Edges []struct {
				Node struct {
					Typename string `json:"__typename"`
					Author   struct{ Handle string }
					Products struct {
						Edges []struct {
							Node struct {
								Title    string
								Variants struct{ Edges []any }
							}
						}
					}
				}
			}
			PageInfo struct{ HasNextPage bool }
		}
	}
	status, ctype := post(t, base, "", `{ feed(first: 10) { edges { cursor node { __typename id publishedAt author { handle } shop { name }
		products(first: 3) { edges { node { title priceRange { min { amount currencyCode } }
			variants(first: 5) { edges { node { sku price { amount } availableForSale } } } } } }
		... on Video { caption } ... on LiveSession { title status } } } pageInfo { hasNextPage endCursor } } }`, &feed)
	if status != http.StatusOK || ctype != "application/json" { // no Accept: the spec's default
		t.Fatalf("feed: status %d, content type %q", status, ctype)
	}
	if len(feed.Feed.Edges) != 10 || !feed.Feed.PageInfo.HasNextPage || feed.Feed.Edges[0].Node.Typename != "LiveSession" {
		t.Fatalf("feed = %+v", feed)
	}
	for _, e := range feed.Feed.Edges {
		if e.Node.Author.Handle == "" || len(e.Node.Products.Edges) == 0 || len(e.Node.Products.Edges[0].Node.Variants.Edges) == 0 {
			t.Fatalf("incomplete feed item: %+v", e.Node)
		}
	}

	var login struct {
		LogIn struct{ Token string }
	}
	post(t, base, "", `mutation { logIn(input: {email: "demo@showcase.dev", password: "showcase-demo"}) { token } }`, &login)
	var viewer struct {
		Viewer struct{ Handle string }
	}
	post(t, base, login.LogIn.Token, `{ viewer { handle } }`, &viewer)
	if viewer.Viewer.Handle != "demo" {
		t.Fatalf("viewer = %+v", viewer)
	}

	checkSeededImages(t, base)
	checkSeededPosters(t, base)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("server exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30 s of SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postgres", "pgdata", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatal("the embedded PostgreSQL is still running after the server stopped")
	}
}

// buildServer builds the binary into a fresh folder the postgres user can
// reach (as root the embedded cluster runs as that user).
func buildServer(t *testing.T) (bin, dir string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "showcase-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "showcase")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin, dir
}

type serverProcess struct {
	cmd            *exec.Cmd
	base           string
	stdout, stderr syncBuffer
	exited         chan error
}

// startServer runs the binary on a free port with databaseURL (empty: the
// embedded default) and waits until it is ready.
func startServer(t *testing.T, bin, databaseURL string, args ...string) *serverProcess {
	t.Helper()
	return startServerEnv(t, bin, databaseURL, nil, args...)
}

// startServerEnv is startServer with extra environment variables
// ("KEY=value") for the process.
func startServerEnv(t *testing.T, bin, databaseURL string, env []string, args ...string) *serverProcess {
	t.Helper()
	addr := freeAddr(t)
	p := &serverProcess{base: "http://" + addr, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	if databaseURL != "" {
		p.cmd.Env = append(p.cmd.Env, "DATABASE_URL="+databaseURL)
	}
	// The data folder (generated secret, seeded images) is the test's own,
	// never the source tree's; -data-dir still wins.
	p.cmd.Env = append(p.cmd.Env, "DATA_DIR="+t.TempDir())
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	waitReady(t, p.base, p.exited, &p.stderr)
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(t *testing.T, base string, exited chan error, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("server exited early: %v\n%s", err, stderr.String())
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("server not ready within 90 s\n%s", stderr.String())
}

// post sends a GraphQL request and decodes data into out, failing on errors.
func post(t *testing.T, base, token, query string, out any, variables ...map[string]any) (status int, contentType string) {
	t.Helper()
	payload := map[string]any{"query": query}
	if len(variables) > 0 {
		payload["variables"] = variables[0]
	}
	body, _ := json.Marshal(payload)
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	// Tests check the current state, not a shared anonymous answer up to a second old.
	req.Header.Set("Cache-Control", "no-cache")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var envelope struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(raw, &envelope); err != nil || len(envelope.Errors) > 0 {
		t.Fatalf("response %d: %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(envelope.Data, out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type")
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
