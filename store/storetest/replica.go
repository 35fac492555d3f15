package storetest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/lib/pq" // the postgres driver for database/sql

	"showcase/store"
	"showcase/store/pgcluster"
)

// Replicated is a primary PostgreSQL cluster and a streaming replica of it
// (pg_basebackup -R, the same binaries), both this test's own, so that the
// test may pause the replica's replay, stop it and start it again.
type Replicated struct {
	// Primary and Standby are the two servers.
	Primary, Standby *pgcluster.Cluster
	// PrimaryDSN and ReplicaDSN are URLs of the migrated database "showcase"
	// on each.
	PrimaryDSN, ReplicaDSN string
}

// NewReplicated starts a primary with a migrated database "showcase" and a
// streaming replica beside it; both stop when the test ends. It takes a few
// seconds (initdb, migrations, a base backup).
func NewReplicated(t testing.TB) *Replicated {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a primary and a replica")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "showcase-replicated-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	primary, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "primary"), Ephemeral: true})
	if err != nil {
		t.Fatalf("primary: %v", err)
	}
	t.Cleanup(func() { _ = primary.Stop() })
	if err := primary.CreateDatabase(ctx, "showcase"); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("postgres", primary.DSN("showcase"))
	if err != nil {
		t.Fatal(err)
	}
	err = store.Migrate(ctx, raw)
	raw.Close()
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	standby, err := pgcluster.StartStandby(ctx, primary, pgcluster.Options{Dir: filepath.Join(dir, "standby"), Ephemeral: true})
	if err != nil {
		t.Fatalf("standby: %v", err)
	}
	t.Cleanup(func() { _ = standby.Stop() })
	waitCaughtUp(t, primary.DSN("showcase"), standby.DSN("showcase"))
	return &Replicated{Primary: primary, Standby: standby, PrimaryDSN: primary.DSN("showcase"), ReplicaDSN: standby.DSN("showcase")}
}

// waitCaughtUp polls (for up to 30 s) until the replica has replayed the
// primary's WAL up to its insert position as of the call (a base backup
// leaves a record inserted but not yet flushed at a segment's start), so a
// test starts with an idle, caught-up replica however loaded the machine is.
func waitCaughtUp(t testing.TB, primaryDSN, replicaDSN string) {
	t.Helper()
	primary, err := sql.Open("postgres", primaryDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	replica, err := sql.Open("postgres", replicaDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	var target string
	if err := primary.QueryRow(`SELECT pg_current_wal_insert_lsn()::text`).Scan(&target); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var caughtUp bool
		err := replica.QueryRow(`SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)`, target).Scan(&caughtUp)
		if err == nil && caughtUp {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not replay the primary's WAL up to %s within 30 s (last error: %v)", target, err)
		}
	}
}
