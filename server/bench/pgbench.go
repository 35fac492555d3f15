package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"showcase/store/pgcluster"
)

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

// pgbench runs pgbench against the benchmark's PostgreSQL and returns its TPS.
func (e *environment) pgbench(ctx context.Context, clients int, d time.Duration, args ...string) (float64, error) {
	bin, err := pgcluster.BinDir()
	if err != nil {
		return 0, err
	}
	all := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(e.cluster.Port()), "-U", "postgres",
		"-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)), "-T", strconv.Itoa(max(1, int(d.Seconds())))}, args...)
	all = append(all, "pgbench")
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "pgbench"), all...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench %v: %w\n%s", args, err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in pgbench output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// pgbenchInit prepares pgbench's tables and the scripts of the insert and
// hot-row baselines.
func (e *environment) pgbenchInit(ctx context.Context) (insertScript, hotScript string, err error) {
	bin, err := pgcluster.BinDir()
	if err != nil {
		return "", "", err
	}
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "pgbench"), "-h", "127.0.0.1", "-p", strconv.Itoa(e.cluster.Port()),
		"-U", "postgres", "-i", "-s", "10", "-q", "pgbench").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("pgbench -i: %w\n%s", err, out)
	}
	insertScript = filepath.Join(e.dir, "insert.sql")
	hotScript = filepath.Join(e.dir, "hot.sql")
	if err := os.WriteFile(insertScript, []byte("INSERT INTO bench_insert (v) VALUES (1);\n"), 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(hotScript, []byte("UPDATE bench_hot SET stock = stock - 1 WHERE id = 1 AND stock > 0;\n"), 0o644); err != nil {
		return "", "", err
	}
	setup := exec.CommandContext(ctx, filepath.Join(bin, "psql"), "-h", "127.0.0.1", "-p", strconv.Itoa(e.cluster.Port()), "-U", "postgres",
		"-d", "pgbench", "-c", `CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, v int);
		CREATE TABLE IF NOT EXISTS bench_hot (id int PRIMARY KEY, stock bigint NOT NULL);
		INSERT INTO bench_hot VALUES (1, 1000000000) ON CONFLICT DO NOTHING;`)
	if out, err := setup.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("baseline tables: %w\n%s", err, out)
	}
	return insertScript, hotScript, nil
}
