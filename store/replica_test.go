package store_test

import (
	"context"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// TestReadReplicaReroutesAFailedRead stops the replica before anything has
// measured it again: the read pool's next statement fails on the replica,
// takes it out of use and is sent again on the primary, so the caller gets
// its rows and no error.
func TestReadReplicaReroutesAFailedRead(t *testing.T) {
	pair := storetest.NewReplicated(t)
	ctx := context.Background()
	db, err := store.Open(ctx, pair.PrimaryDSN, store.PoolOptions{MaxOpenConns: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// No Run: only the measure made when opening, and reads, change its mind.
	reads, err := store.OpenReadReplica(ctx, db, pair.PrimaryDSN, pair.ReplicaDSN, store.ReplicaOptions{MaxLag: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer reads.Close()
	if ok, _ := reads.Status(); !ok {
		t.Fatal("an idle, caught-up replica is not in use")
	}
	r := reads.Reader(ctx, 0)
	if r == db {
		t.Fatal("an anonymous reader got the primary")
	}
	var inRecovery bool
	if err := r.GetContext(ctx, &inRecovery, `SELECT pg_is_in_recovery()`); err != nil || !inRecovery {
		t.Fatalf("the read was not served by the replica: %v, %v", inRecovery, err)
	}
	if err := pair.Standby.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := r.GetContext(ctx, &inRecovery, `SELECT pg_is_in_recovery()`); err != nil {
		t.Fatalf("a read after the replica stopped failed: %v", err)
	}
	if inRecovery {
		t.Fatal("a read after the replica stopped was served by a server in recovery")
	}
	if ok, _ := reads.Status(); ok {
		t.Error("the replica is still in use after a read failed on it")
	}
	if got := reads.Reader(ctx, 0); got != db {
		t.Error("an anonymous reader did not get the primary with the replica out of use")
	}
}

// TestReadFences keeps a writer's reads on the primary until the replica
// has replayed their write, and never fences anyone else.
func TestReadFences(t *testing.T) {
	pair := storetest.NewReplicated(t)
	ctx := context.Background()
	db, err := store.Open(ctx, pair.PrimaryDSN, store.PoolOptions{MaxOpenConns: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reads, err := store.OpenReadReplica(ctx, db, pair.PrimaryDSN, pair.ReplicaDSN,
		store.ReplicaOptions{MaxLag: time.Hour, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer reads.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO read_fences (user_id, lsn) VALUES (7, 'FFFFFFFF/0')`); err != nil {
		t.Fatal(err)
	}
	if reads.Reader(ctx, 7) != db {
		t.Error("a fence the replica has not reached left the user on the replica")
	}
	if reads.Reader(ctx, 8) == db {
		t.Error("a user without a fence was sent to the primary")
	}
	if err := reads.Fence(ctx, 8); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go reads.Run(runCtx)
	for deadline := time.Now().Add(30 * time.Second); reads.Reader(ctx, 8) == db; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the replica never passed user 8's fence")
		}
	}
	if err := reads.Fence(ctx, 8); err != nil {
		t.Fatal(err)
	}
	var lsn string
	if err := db.GetContext(ctx, &lsn, `SELECT lsn::text FROM read_fences WHERE user_id = 8`); err != nil {
		t.Fatal(err)
	}
	if lsn == "0/0" {
		t.Error("the fence holds no position")
	}
	var nilReads *store.ReadReplica
	if nilReads.Reader(ctx, 8) != nil || nilReads.Fence(ctx, 8) != nil {
		t.Error("a nil ReadReplica routes somewhere or fails")
	}
}
