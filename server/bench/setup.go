package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/pgcluster"
)

// environment is what the scenarios run against.
type environment struct {
	dir       string
	cluster   *pgcluster.Cluster
	standby   *pgcluster.Cluster // with -replica
	dsn       string
	db        *store.DB
	server    *exec.Cmd
	base      string
	debug     string // the server's pprof
	hello     string
	helloStop func()
	token     string
	viewers   []string // tokens of people with learned interests (learnViewers)
	opts      options
	// fullRefresh is the full score recompute made after seeding: what
	// every refresh cost before refreshes followed activity.
	fullRefresh store.ScoreRefresh
}

func setUp(ctx context.Context, o options) (*environment, error) {
	dir, err := os.MkdirTemp("", "showcase-bench-")
	if err != nil {
		return nil, err
	}
	env := &environment{dir: dir, opts: o}
	pgDir := filepath.Join(dir, "pg")
	seeded := false // a kept dataset (-data) already generated
	if o.Data != "" {
		if pgDir, err = filepath.Abs(o.Data); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(pgDir, 0o755); err != nil {
			return nil, err
		}
		_, err := os.Stat(filepath.Join(pgDir, "seeded"))
		seeded = err == nil
	}
	fail := func(err error) (*environment, error) { env.tearDown(); return nil, err }
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	fmt.Println("starting PostgreSQL")
	if env.cluster, err = pgcluster.Start(ctx, pgcluster.Options{Dir: pgDir}); err != nil {
		return fail(err)
	}
	for _, name := range []string{"showcase", "pgbench"} {
		if seeded {
			break
		}
		if err := env.cluster.CreateDatabase(ctx, name); err != nil {
			return fail(err)
		}
	}
	env.dsn = env.cluster.DSN("showcase")
	// The set-up's statements (VACUUM ANALYZE of millions of rows, the full
	// score recompute) may run long on a loaded machine.
	if env.db, err = store.Open(ctx, env.dsn, store.PoolOptions{StatementTimeout: time.Hour}); err != nil {
		return fail(err)
	}
	if err := store.Migrate(ctx, env.db.DB.DB); err != nil {
		return fail(err)
	}
	start := time.Now()
	opts := demo.SeedOptions{Users: o.Users, Creators: o.Users / 5, Shops: max(10, o.Products/500), Products: o.Products,
		Videos: o.Videos, LiveSessions: 50, HistoryDays: o.HistoryDays, Seed: 1, Progress: progressBar}
	if seeded {
		fmt.Printf("reusing the dataset in %s (its options: %s)\n", pgDir, readFile(filepath.Join(pgDir, "seeded")))
	} else {
		rep, err := demo.Seed(ctx, env.db, opts)
		if err != nil {
			return fail(err)
		}
		fmt.Printf("\ndataset: %+v in %s\n", rep, time.Since(start).Round(time.Millisecond))
	}
	// Vacuumed, as autovacuum keeps a loaded database: index-only scans
	// need the visibility map a bulk load leaves unset.
	if _, err := env.db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return fail(err)
	}
	full, err := env.db.RecomputeContentScores(ctx)
	if err != nil {
		return fail(err)
	}
	env.fullRefresh = full
	if o.Data != "" && !seeded {
		if err := os.WriteFile(filepath.Join(pgDir, "seeded"), fmt.Appendf(nil, "%+v\n", opts), 0o644); err != nil {
			return fail(err)
		}
	}
	fmt.Printf("full score recompute: %d contents, %d rows written, %s of statements\n", full.Scored, full.Written, full.DBTime.Round(time.Millisecond))
	if o.Replica {
		fmt.Println("starting a streaming replica (pg_basebackup -R)")
		if env.standby, err = pgcluster.StartStandby(ctx, env.cluster, pgcluster.Options{Dir: filepath.Join(dir, "replica")}); err != nil {
			return fail(err)
		}
	}
	if err := env.startServer(ctx); err != nil {
		return fail(err)
	}
	if env.standby != nil {
		if err := env.awaitReplicaInUse(); err != nil {
			return fail(err)
		}
	}
	if err := env.startHello(); err != nil {
		return fail(err)
	}
	if env.token, err = env.logIn(); err != nil {
		return fail(err)
	}
	if o.want("feed") {
		if env.viewers, err = env.learnViewers(ctx, manyViewers); err != nil {
			return fail(err)
		}
	}
	return env, nil
}

// progressBar draws one line per stage: "videos [########......]  40%".
func progressBar(stage string, done, total int) {
	const width = 30
	filled := width
	if total > 0 {
		filled = done * width / total
	}
	fmt.Printf("\r%-16s [%s%s] %3d%% %d/%d", stage, strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		done*100/max(total, 1), done, total)
	if done == total {
		fmt.Println()
	}
}

// startServer builds and runs the real binary on the dataset, as its own process.
func (e *environment) startServer(ctx context.Context) error {
	bin := filepath.Join(e.dir, "showcase")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./server")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build server: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	e.base = "http://" + addr
	debug, err := freeAddr()
	if err != nil {
		return err
	}
	e.debug = "http://" + debug
	e.server = exec.Command(bin, "-addr", addr)
	// Every anonymous client of the bench comes from one address, which
	// the rate limits and the admission queue's per-caller share would
	// take for one caller: neither is what is measured here.
	e.server.Env = append(os.Environ(), "DATABASE_URL="+e.dsn, "DEBUG_ADDR="+debug, "RATE_LIMIT_RPS=1000000000", "RATE_LIMIT_BURST=1000000000",
		"GRAPHQL_MAX_QUEUED_PER_CALLER=1000000", "DB_MAX_CONNS=32", "JWT_SECRET="+benchJWTSecret, "DATA_DIR="+filepath.Join(e.dir, "data"))
	if e.standby != nil {
		e.server.Env = append(e.server.Env, "DATABASE_READ_URL="+e.standby.DSN("showcase"))
	}
	logFile, err := os.Create(filepath.Join(e.dir, "server.log"))
	if err != nil {
		return err
	}
	e.server.Stdout, e.server.Stderr = logFile, logFile
	if err := e.server.Start(); err != nil {
		return err
	}
	serverPID = e.server.Process.Pid
	// /readyz waits for the feed index's first load: minutes at
	// 2,000,000 videos on a loaded machine.
	started := time.Now()
	for deadline := started.Add(20 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(e.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				fmt.Printf("server ready (feed index loaded) %s after start\n", time.Since(started).Round(100*time.Millisecond))
				return e.awaitFirstRefresh(logFile.Name())
			}
		}
	}
	return fmt.Errorf("the server did not become ready; see %s", logFile.Name())
}

// awaitFirstRefresh waits for the score refresh the server starts with, so
// that it does not take PostgreSQL's CPU from the first runs. At 2,000,000
// videos on a loaded machine it took more than two minutes; it may take 15.
func (e *environment) awaitFirstRefresh(logPath string) error {
	for deadline := time.Now().Add(15 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if b, err := os.ReadFile(logPath); err == nil && bytes.Contains(b, refreshLine) {
			return nil
		}
	}
	return fmt.Errorf("the server's first feed score refresh did not finish; see %s", logPath)
}

// startHello serves the baseline: the plainest net/http handler.
func (e *environment) startHello() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"__typename":"Query"}}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	e.hello = "http://" + ln.Addr().String()
	e.helloStop = func() { srv.Close() }
	return nil
}

func (e *environment) logIn() (string, error) {
	body, _ := json.Marshal(map[string]any{"query": `mutation { logIn(input: {email: "demo@showcase.dev", password: "showcase-demo"}) { token } }`})
	res, err := http.Post(e.base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		Data struct{ LogIn struct{ Token string } }
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Data.LogIn.Token == "" {
		return "", fmt.Errorf("log in as the demo buyer: %v", err)
	}
	return out.Data.LogIn.Token, nil
}

func (e *environment) tearDown() {
	if e.helloStop != nil {
		e.helloStop()
	}
	if e.server != nil && e.server.Process != nil {
		_ = e.server.Process.Signal(os.Interrupt)
		_ = e.server.Wait()
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.standby != nil {
		_ = e.standby.Stop()
	}
	if e.cluster != nil {
		_ = e.cluster.Stop()
	}
	os.RemoveAll(e.dir)
}

// readFile returns a small file's text without its trailing newline ("" when unreadable).
func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// profile records the server's CPU profile for d into path, in the background.
func (e *environment) profile(d time.Duration, path string) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", e.debug, max(1, int(d.Seconds()))))
		if err != nil {
			fmt.Println("profile:", err)
			return
		}
		defer res.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, res.Body)
	}()
	return func() { <-done }
}

// awaitReplicaInUse waits until the server serves reads from the replica
// (its /metrics says so).
func (e *environment) awaitReplicaInUse() error {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(e.debug + "/metrics")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if bytes.Contains(body, []byte("\nshowcase_read_replica_in_use 1\n")) {
			return nil
		}
	}
	return fmt.Errorf("the server never took the replica into use (see %s)", filepath.Join(e.dir, "server.log"))
}
