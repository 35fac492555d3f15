package storetest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

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
	return &Replicated{Primary: primary, Standby: standby, PrimaryDSN: primary.DSN("showcase"), ReplicaDSN: standby.DSN("showcase")}
}
