package pgcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// StartStandby makes a streaming replica of the running cluster primary: a
// base backup taken with pg_basebackup -R (which writes standby.signal and
// the primary's connection settings), started on its own loopback port,
// read-only and replaying the primary's WAL as it streams in. opts.Dir is
// the standby's own folder; opts.Port 0 picks a free port. Stop it like any
// cluster; Restart starts it again on the same port.
func StartStandby(ctx context.Context, primary *Cluster, opts Options) (*Cluster, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: primary.bin, as: primary.as}
	if err := c.as.own(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err != nil {
		out, err := c.as.command(filepath.Join(c.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", fmt.Sprint(primary.port),
			"-U", "postgres", "-D", c.dataDir(), "-R", "-X", "stream", "--no-sync", "-c", "fast").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("pg_basebackup: %w: %s", err, out)
		}
	}
	if err := c.startOnPort(ctx, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// Restart starts a cluster stopped with Stop again, on the same port and
// with the same settings, and waits until it answers.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		return nil
	}
	if err := c.start(c.ephemeral); err != nil {
		return err
	}
	c.closed = false
	return c.waitReady(ctx)
}
