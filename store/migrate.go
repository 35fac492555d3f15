package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"showcase/migrations"
)

// migrationLockTimeout bounds how long a migration's statement waits for a
// table's lock (the migration then fails, and so does the start: a restart
// tries again), while its work (an index built on a large table) has no
// bound.
const migrationLockTimeout = time.Minute

// migrationLockID serialises concurrent migrators (several replicas starting
// at once) through a PostgreSQL advisory lock.
const migrationLockID = 7_261_044_112

// Migration is one versioned schema change.
type Migration struct {
	Version string
	SQL     string
}

// Migrations returns the embedded migrations in the order they apply.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		body, err := fs.ReadFile(migrations.FS, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// MigrationsHash identifies the current set of migrations; test harnesses use
// it to know when a template database must be rebuilt.
func MigrationsHash() (string, error) {
	ms, err := Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		h.Write([]byte(m.Version))
		h.Write([]byte{0})
		h.Write([]byte(m.SQL))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Migrate applies every migration not yet recorded in schema_migrations, each
// in its own transaction, without the pool's statement timeout (an index
// built on a large table takes longer than 15 s: a server started on such a
// database would otherwise fail its start on every try) but with lock
// waits of at most migrationLockTimeout. Running it on an up-to-date
// database changes nothing.
func Migrate(ctx context.Context, db *sql.DB) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if err := awaitMigrationLock(ctx, conn); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockID) //nolint:errcheck
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// migrationLockPoll is how often a migrator asks for the migration lock
// while another holds it.
const migrationLockPoll = 200 * time.Millisecond

// awaitMigrationLock takes the migration lock on conn, asking every
// migrationLockPoll until it is free or ctx ends: another replica may hold
// it for minutes (an index built on a large table), longer than the pool's
// statement timeout would let pg_advisory_lock wait, and this replica's
// start waits for it instead of failing.
func awaitMigrationLock(ctx context.Context, conn *sql.Conn) error {
	for {
		var got bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, migrationLockID).Scan(&got); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if got {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate: lock: %w", ctx.Err())
		case <-time.After(migrationLockPoll):
		}
	}
}

func applyMigration(ctx context.Context, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	defer tx.Rollback() //nolint:errcheck
	var applied bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&applied); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	if applied {
		return nil
	}
	// The pool's statement_timeout is for requests; a migration runs once.
	// Its lock waits stay bounded (migrationLockTimeout): a DROP INDEX
	// waiting behind a long transaction queues every request on its table.
	if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('lock_timeout', $1, true)`, fmt.Sprint(migrationLockTimeout.Milliseconds())); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	return tx.Commit()
}
