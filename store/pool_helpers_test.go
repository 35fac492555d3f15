package store_test

import (
	"context"
	"testing"

	"showcase/store"
)

// openPool opens a pool on dsn with opts for the test, closed when it
// ends; a failure to open fails the test.
func openPool(t testing.TB, dsn string, opts store.PoolOptions) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
