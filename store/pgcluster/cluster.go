package pgcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Options configures a cluster.
type Options struct {
	// Dir is the cluster's root folder: data in Dir/pgdata, log in Dir/postgres.log.
	Dir string
	// Port is the loopback port; 0 picks a free one.
	Port int
	// Ephemeral trades durability for speed, for throwaway test clusters.
	Ephemeral bool
}

// Cluster is a running PostgreSQL server.
type Cluster struct {
	dir    string
	port   int
	bin    string
	as     runAs
	mu     sync.Mutex
	closed bool
	// ephemeral is the Options.Ephemeral it was started with (for Restart).
	ephemeral bool
}

// Start initialises the cluster if needed and starts it on 127.0.0.1.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	as, err := currentRunAs()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// The postgres user must be able to reach its files below dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, as: as}
	if err := c.initdb(); err != nil {
		return nil, err
	}
	if err := c.startOnPort(ctx, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// startOnPort starts the initialised cluster c on opts.Port, or on a free
// port when that is 0, and waits until it answers. A picked port may be
// taken by another process between picking and binding, so a start on a
// picked port is tried up to five times, each on a fresh port; a port
// given in opts is tried once. It returns the last start's error.
func (c *Cluster) startOnPort(ctx context.Context, opts Options) error {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := opts.Port
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return err
			}
		}
		c.port = port
		if lastErr = c.start(opts.Ephemeral); lastErr == nil {
			c.ephemeral = opts.Ephemeral
			return c.waitReady(ctx)
		}
		if opts.Port != 0 {
			break
		}
	}
	return lastErr
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "pgdata") }
func (c *Cluster) logFile() string { return filepath.Join(c.dir, "postgres.log") }

func (c *Cluster) initdb() error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return c.as.own(c.dir)
	}
	if err := os.RemoveAll(c.dataDir()); err != nil {
		return err
	}
	if err := c.as.own(c.dir); err != nil {
		return err
	}
	out, err := c.as.command(filepath.Join(c.bin, "initdb"), "-D", c.dataDir(), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	return nil
}

func (c *Cluster) start(ephemeral bool) error {
	settings := []string{
		"-p", fmt.Sprint(c.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=''",
		"-c", "max_connections=200",
	}
	if ephemeral {
		settings = append(settings, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	// A crash may leave postmaster.pid behind; pg_ctl copes when its process is gone.
	out, err := c.as.command(filepath.Join(c.bin, "pg_ctl"), "start", "-w", "-t", "60", "-D", c.dataDir(),
		"-l", c.logFile(), "-o", strings.Join(settings, " ")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s\n%s", err, out, c.logTail())
	}
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	db, err := sql.Open("postgres", c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err = db.PingContext(ctx); err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("PostgreSQL did not become ready: %w\n%s", err, c.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logFile())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// DSN returns a URL for a database of the cluster.
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, dbname)
}

// Port returns the cluster's port.
func (c *Cluster) Port() int { return c.port }

// CreateDatabase creates a database unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P04" {
		return nil
	}
	return err
}

// Stop shuts the cluster down; calling it again does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	out, err := c.as.command(filepath.Join(c.bin, "pg_ctl"), "stop", "-m", "fast", "-w", "-t", "60", "-D", c.dataDir()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
