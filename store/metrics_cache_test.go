package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// figuresFixture makes a video and returns its id.
func figuresFixture(t *testing.T, db *store.DB) int64 {
	t.Helper()
	ctx := context.Background()
	var author, id int64
	if err := db.GetContext(ctx, &author, `INSERT INTO users (email, password_hash, handle, display_name) VALUES ('f@x', '-', 'f', 'F') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &id, `INSERT INTO contents (kind, author_id, caption, playback_url) VALUES ('VIDEO', $1, 'c', 'u') RETURNING id`, author); err != nil {
		t.Fatal(err)
	}
	return id
}

func addViews(t *testing.T, db *store.DB, id, n int64) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), `INSERT INTO content_event_counts (content_id, bucket, views) VALUES ($1, date_trunc('minute', now()), $2)
		ON CONFLICT (content_id, bucket) DO UPDATE SET views = content_event_counts.views + excluded.views`, id, n); err != nil {
		t.Fatal(err)
	}
}

func cachedViews(t *testing.T, c *store.FiguresCache, db *store.DB, id int64) int64 {
	t.Helper()
	return cachedWindowViews(t, c, db, id, store.WindowAllTime)
}

func cachedWindowViews(t *testing.T, c *store.FiguresCache, db *store.DB, id int64, window string) int64 {
	t.Helper()
	k := store.MetricsKey{Subject: store.SubjectContent, ID: id, Window: window}
	m, err := c.MetricsFor(context.Background(), db, time.Now(), []store.MetricsKey{k})
	if err != nil {
		t.Fatal(err)
	}
	return m[k].Views
}

// Figures are served from the cache for less than the TTL after the
// statement that computed them began, and read afresh from then on; a
// Forget drops them at once. The clock is the test's.
func TestFiguresCacheTTLAndForget(t *testing.T) {
	db := storetest.NewDB(t)
	id := figuresFixture(t, db)
	c := store.NewFiguresCache(time.Second)
	clock := time.Unix(1_000_000, 0)
	c.SetClock(func() time.Time { return clock })
	c.SetListening(true)               // as Listen does once it has begun
	clock = clock.Add(time.Nanosecond) // reads begun when it began are not kept
	addViews(t, db, id, 2)
	if v := cachedViews(t, c, db, id); v != 2 {
		t.Fatalf("views %d, want 2", v)
	}
	addViews(t, db, id, 3)
	clock = clock.Add(time.Second - time.Nanosecond)
	if v := cachedViews(t, c, db, id); v != 2 {
		t.Fatalf("within the TTL: views %d, want the kept 2", v)
	}
	clock = clock.Add(time.Nanosecond)
	if v := cachedViews(t, c, db, id); v != 5 {
		t.Fatalf("at the TTL: views %d, want 5 read afresh", v)
	}
	if v := cachedWindowViews(t, c, db, id, store.WindowLastHour); v != 5 {
		t.Fatalf("last hour: views %d, want 5", v)
	}
	addViews(t, db, id, 1)
	c.Forget(id)
	if v := cachedViews(t, c, db, id); v != 6 {
		t.Fatalf("after Forget: views %d, want 6", v)
	}
	if v := cachedWindowViews(t, c, db, id, store.WindowLastHour); v != 6 {
		t.Fatalf("after Forget: last hour's views %d, want 6 (another window's figures kept)", v)
	}
	if store.NewFiguresCache(0) != nil {
		t.Fatal("a cache with TTL 0 keeps figures")
	}
}

// A statement that began before a Forget (here held by a lock until after
// it) may have read the figures as they were before the write that
// Forget announces: what it read is returned to its caller, not kept.
func TestFiguresCacheKeepsNothingReadAcrossAForget(t *testing.T) {
	db := storetest.NewDB(t)
	id := figuresFixture(t, db)
	c := store.NewFiguresCache(time.Hour)
	c.SetListening(true) // as Listen does once it has begun
	addViews(t, db, id, 2)
	ctx := context.Background()
	lock, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, `LOCK TABLE content_figure_totals IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var first int64
	wg.Go(func() { first = cachedViews(t, c, db, id) })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting bool
		if err := db.GetContext(ctx, &waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%content_event_counts%')`); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the figures statement never waited for the lock")
		}
	}
	c.Forget(id)
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	addViews(t, db, id, 5)
	if first != 2 {
		t.Fatalf("the held statement read %d views, want 2", first)
	}
	if v := cachedViews(t, c, db, id); v != 7 {
		t.Fatalf("after the held read: views %d, want 7 (it kept figures read across the Forget)", v)
	}
}

// TestFiguresCacheKeepsNothingWhileNotListening: while the listening
// connection is lost (a restarted PostgreSQL the pool reaches again before
// the listener's backoff lets it reconnect), figures read are not kept,
// since a like announced meanwhile through another process is not heard;
// once it is back they are kept again.
func TestFiguresCacheKeepsNothingWhileNotListening(t *testing.T) {
	db := storetest.NewDB(t)
	id := figuresFixture(t, db)
	c := store.NewFiguresCache(time.Hour)
	c.SetListening(true) // as Listen does once it has begun
	addViews(t, db, id, 2)
	c.SetListening(false)
	if v := cachedViews(t, c, db, id); v != 2 {
		t.Fatalf("views %d, want 2", v)
	}
	addViews(t, db, id, 3)
	if v := cachedViews(t, c, db, id); v != 5 {
		t.Fatalf("views %d, want 5: figures read while not listening were kept", v)
	}
	c.SetListening(true)
	if v := cachedViews(t, c, db, id); v != 5 {
		t.Fatalf("views %d, want 5", v)
	}
	addViews(t, db, id, 1)
	if v := cachedViews(t, c, db, id); v != 5 {
		t.Fatalf("views %d, want the 5 kept once listening again", v)
	}
}
