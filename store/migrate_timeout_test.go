package store_test

import (
	"context"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// TestMigrationOutlastsThePoolTimeout: a migration statement that takes
// longer than the pool's statement timeout still applies. The server
// migrates through its pool (statement_timeout 15 s); migration 0033
// rebuilds the time index of content_event_counts, which took 2.3 s at
// 200,000 videos (1.85M rows) and would take several times 15 s at
// 2,000,000, so a server started on such a database failed at start on
// every try (the bench migrates with a one-hour timeout and did not see
// it). Here 0033 is applied again on a pool with a 300 ms timeout while
// a writer's open transaction on content_event_counts makes its DROP
// INDEX wait 1.5 s (a stand-in for a long index build: no timing decides
// the outcome, the lock does).
func TestMigrationOutlastsThePoolTimeout(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
	forget0033(t, db)
	short := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5, StatementTimeout: 300 * time.Millisecond})
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE content_event_counts IN ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	released := time.AfterFunc(1500*time.Millisecond, func() { _ = tx.Rollback() })
	defer released.Stop()
	if err := store.Migrate(ctx, short.DB.DB); err != nil {
		t.Fatalf("a migration past the pool's statement timeout: %v", err)
	}
	var applied bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '0033_score_leavers_covering')`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if !applied {
		t.Fatal("0033 not recorded as applied")
	}
}

// TestMigration0033KeepsReadsFlowing: while migration 0033 builds its
// indexes, the four tables stay readable. Here a writer's open transaction
// on content_sales holds the migration at its last build; by then the
// other three tables' indexes are built, and a read of each (lock_timeout
// 1 s) must not wait. When 0033 dropped each old index before building its
// new one, the drop's ACCESS EXCLUSIVE lock held every read of the table
// until the migration committed (a 5.6 s wait for one read of
// content_event_counts at 200,000 videos). No timing decides the outcome:
// a blocked read waits for as long as the writer holds on.
func TestMigration0033KeepsReadsFlowing(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
	forget0033(t, db)
	writer, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback() //nolint:errcheck
	if _, err := writer.ExecContext(ctx, `LOCK TABLE content_sales IN ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	migrated := make(chan error, 1)
	go func() { migrated <- store.Migrate(ctx, db.DB.DB) }()
	awaitMigrationWaiting(t, db, migrated, "content_sales", "")
	reader, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := reader.ExecContext(ctx, `SET lock_timeout = '1s'`); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"content_event_counts", "content_likes", "comments"} {
		var n int
		if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Errorf("reading %s during the migration: %v", table, err)
		}
	}
	if err := writer.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-migrated; err != nil {
		t.Fatalf("migration: %v", err)
	}
	var covering int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_indexes WHERE indexname IN
		('content_event_counts_bucket_idx', 'content_likes_created_idx', 'comments_created_idx', 'content_sales_paid_idx')
		AND indexdef LIKE '%INCLUDE (content_id)'`).Scan(&covering); err != nil {
		t.Fatal(err)
	}
	if covering != 4 {
		t.Fatalf("%d of the four time indexes carry content_id after the migration", covering)
	}
}

// forget0033 makes db's schema read as before migration 0033, so that the
// next Migrate applies it again (its indexes are dropped and rebuilt).
func forget0033(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), `DELETE FROM schema_migrations WHERE version = '0033_score_leavers_covering'`); err != nil {
		t.Fatal(err)
	}
}

// TestSecondReplicaWaitsForTheMigrationLock: a replica starting while
// another holds the migration lock (building 0033's indexes for minutes)
// waits for it, past its pool's statement timeout (300 ms here, 15 s in the
// server), instead of failing its start (review7).
func TestSecondReplicaWaitsForTheMigrationLock(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
	short := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5, StatementTimeout: 300 * time.Millisecond})
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_lock(7261044112)`); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(1500*time.Millisecond, func() { holder.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7261044112)`) })
	err = store.Migrate(ctx, short.DB.DB)
	if err != nil {
		t.Errorf("second migrator failed while the first held the lock: %v", err)
	}
}

// TestMigration0033DropPhaseKeepsReadsFlowing: while a reader of a later
// table (comments) keeps 0033 from its drops, reads of the earlier tables
// (content_event_counts) go on: the migration takes the four tables' locks
// together, a try at a time, giving back what a failed try took. Before,
// its DROP INDEX waited up to its lock timeout (a minute) on comments
// while holding content_event_counts' lock, and every read of it waited
// too (review7). Once the reader is done, the migration applies.
func TestMigration0033DropPhaseKeepsReadsFlowing(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 6})
	forget0033(t, db)
	reader, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback() //nolint:errcheck
	if _, err := reader.ExecContext(ctx, `LOCK TABLE comments IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	migrated := make(chan error, 1)
	go func() { migrated <- store.Migrate(ctx, db.DB.DB) }()
	awaitMigrationWaiting(t, db, migrated, "comments", "AccessExclusiveLock")
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `SET lock_timeout = '1s'`); err != nil {
		t.Fatal(err)
	}
	var n int
	err = c.QueryRowContext(ctx, `SELECT count(*) FROM content_event_counts`).Scan(&n)
	if err != nil {
		t.Errorf("a read of content_event_counts while the migration waits for comments: %v", err)
	}
	reader.Rollback() //nolint:errcheck
	if err := <-migrated; err != nil {
		t.Fatal(err)
	}
}

// awaitMigrationWaiting returns once a lock on table (of mode, or any mode
// when empty) waits ungranted, as the migration running into migrated
// waits for it; it fails the test when the migration ends first or after
// 30 s.
func awaitMigrationWaiting(t *testing.T, db *store.DB, migrated <-chan error, table, mode string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var waiting bool
		if err := db.QueryRowContext(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE NOT granted AND relation = $1::regclass AND ($2 = '' OR mode = $2))`, table, mode).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		select {
		case err := <-migrated:
			t.Fatalf("the migration ended before waiting for %s: %v", table, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the migration never waited for %s", table)
		}
	}
}
