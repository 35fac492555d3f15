package store_test

import (
	"context"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// BenchmarkReadRouting measures what read routing adds to a request, on a
// primary with a replica: choosing the reader of a signed-in caller (one
// read-fence lookup on the primary), of an anonymous caller (none), and
// recording a fence after a mutation; SELECT 1 on the primary is the floor
// of one round trip.
//
//	go test ./store -run '^$' -bench ReadRouting -benchtime 2s
func BenchmarkReadRouting(b *testing.B) {
	pair := storetest.NewReplicated(b)
	ctx := context.Background()
	db, err := store.Open(ctx, pair.PrimaryDSN, store.PoolOptions{MaxOpenConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	reads, err := store.OpenReadReplica(ctx, db, pair.PrimaryDSN, pair.ReplicaDSN, store.ReplicaOptions{MaxLag: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer reads.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO read_fences (user_id, lsn) SELECT g, '0/1' FROM generate_series(1, 10000) g`); err != nil {
		b.Fatal(err)
	}
	b.Run("Select1", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var one int
			if err := db.GetContext(ctx, &one, `SELECT 1`); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReaderAnonymous", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			reads.Reader(ctx, 0)
		}
	})
	b.Run("ReaderSignedIn", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			reads.Reader(ctx, int64(i%10000+1))
		}
	})
	b.Run("Fence", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := reads.Fence(ctx, int64(i%10000+1)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
