package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lib/pq"

	"showcase/store"
	"showcase/store/storetest"
)

// A feed page's figures (twenty contents, one window) are planned once per
// connection: after the kept statement's first executions PostgreSQL
// reuses a generic plan instead of planning every request's statement
// again, which took about as long as running it (docs/BENCHMARKS.md). Read
// from pg_prepared_statements on the handle's only connection.
func TestWindowFiguresReuseAGenericPlan(t *testing.T) {
	ctx := context.Background()
	db := openPool(t, storetest.DSN(t), store.PoolOptions{MaxOpenConns: 1})
	first, productID := contentFixture(t, db)
	var author int64
	if err := db.GetContext(ctx, &author, `SELECT author_id FROM contents WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	ids := []int64{first}
	for i := 1; i < 20; i++ {
		v, err := db.PublishVideo(ctx, store.NewVideo{AuthorID: author, Caption: "c", PlaybackURL: fmt.Sprintf("https://x/%d", i), DurationSeconds: 10})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO content_event_counts (content_id, bucket, views) SELECT id, date_trunc('minute', now()), 3 FROM unnest($1::bigint[]) AS id`, pq.Array(ids)); err != nil {
		t.Fatal(err)
	}
	var keys []store.MetricsKey
	for _, id := range ids {
		keys = append(keys, store.MetricsKey{Subject: store.SubjectContent, ID: id, Window: store.WindowAllTime})
	}
	keys = append(keys, store.MetricsKey{Subject: store.SubjectProduct, ID: productID, Window: store.WindowAllTime})
	for i := 0; i < 10; i++ {
		figures, err := db.MetricsFor(ctx, time.Now(), keys)
		if err != nil {
			t.Fatal(err)
		}
		if m := figures[keys[7]]; m == nil || m.Views != 3 {
			t.Fatalf("figures of %v: %+v, want 3 views", keys[7], m)
		}
	}
	var generic, custom int64
	err := db.QueryRowContext(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%FROM content_event_counts WHERE content_id = i.id%'`).Scan(&generic, &custom)
	if err != nil {
		t.Fatal(err)
	}
	if generic < 4 || custom > 6 {
		t.Fatalf("the content figures statement ran 10 times with %d generic and %d custom plans: planned on every execution", generic, custom)
	}
}
