package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// Expired walks are pruned in batches by several processes at once: each
// skips the rows another holds instead of waiting on them, together they
// delete every expired walk exactly once, and no walk within ListWalkTTL
// goes.
func TestListWalksPrunedByThreeProcessesAtOnce(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx := context.Background()
	open := func() *store.DB {
		h := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 2})
		return h
	}
	db := open()
	const expired, fresh = 12_345, 50
	if _, err := db.ExecContext(ctx, `INSERT INTO list_walks (id, viewer_id, kind, ids, created_at)
		SELECT i, 0, 'feed', ARRAY[i], now() - interval '2 hours' - i * interval '1 millisecond' FROM generate_series(1, $1) i`, expired); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO list_walks (id, viewer_id, kind, ids)
		SELECT $1 + i, 0, 'feed', ARRAY[i] FROM generate_series(1, $2) i`, expired, fresh); err != nil {
		t.Fatal(err)
	}
	// Another pruner holds ten expired walks: a prune skips them (it would
	// otherwise wait for this transaction, and fail at its deadline).
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT id FROM list_walks WHERE id <= 10 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	procs := []*store.DB{open(), open(), open()}
	deadline, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var (
		mu      sync.Mutex
		deleted int64
		wg      sync.WaitGroup
	)
	for _, p := range procs {
		wg.Go(func() {
			n, err := p.PruneListWalks(deadline)
			if err != nil {
				t.Errorf("prune: %v", err)
			}
			mu.Lock()
			deleted += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if deleted != expired-10 {
		t.Errorf("three concurrent prunes deleted %d walks, want %d (every expired walk but the ten held, once)", deleted, expired-10)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PruneListWalks(deadline); err != nil || n != 10 {
		t.Errorf("the prune after the holder ended deleted %d (%v), want the 10 it had skipped", n, err)
	}
	var left, oldLeft int
	if err := db.GetContext(ctx, &left, `SELECT count(*) FROM list_walks`); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &oldLeft, `SELECT count(*) FROM list_walks WHERE id <= $1`, expired); err != nil {
		t.Fatal(err)
	}
	if left != fresh || oldLeft != 0 {
		t.Errorf("%d walks left, %d of them expired; want the %d fresh ones only", left, oldLeft, fresh)
	}
}
