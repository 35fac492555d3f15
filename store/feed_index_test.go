package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lib/pq"

	"showcase/store"
	"showcase/store/storetest"
)

// Two API processes (two handles on one database): what one writes reaches
// the other's feed index within FEED_INDEX_MAX_LAG, read through the change
// log whatever the order of commits (a transaction that began before a
// catch-up and commits after it is not skipped), deletions included; an
// index behind the log's retention reloads in full.
func TestFeedIndexCatchesUpWritesOfAnotherProcess(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx := context.Background()
	open := func() *store.DB {
		db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
		return db
	}
	a, b := open(), open()
	const lag = 300 * time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go b.RunFeedIndex(runCtx, lag)

	var author int64
	if err := a.GetContext(ctx, &author, `INSERT INTO users (email, password_hash, handle, display_name) VALUES ('a@x', '-', 'a', 'A') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	publish := func(q interface {
		GetContext(context.Context, any, string, ...any) error
	}, n int) int64 {
		t.Helper()
		var id int64
		if err := q.GetContext(ctx, &id, `INSERT INTO contents (kind, author_id, caption, playback_url, view_count) VALUES ('VIDEO', $1, 'c', 'u', $2) RETURNING id`, author, n); err != nil {
			t.Fatal(err)
		}
		return id
	}
	// A write through a shows in b's rankings within the bound: the lag,
	// plus, when catch-ups are slower than the lag (a loaded machine), the
	// catch-up in progress (README, For You: where ranking happens). So
	// each ranking after the lag either holds the write or was served by a
	// catch-up whose snapshot began before the write; never one that began
	// after it and misses it.
	await := func(written time.Time, what string, holds func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			time.Sleep(lag)
			if _, err := b.ForYouRankedInGo(ctx, &store.DefaultForYouSettings, store.FeedWeights{}, "", 0, time.Now().UTC(), 0, 0); err != nil {
				t.Fatal(err)
			}
			if holds() {
				return
			}
			if at := b.FeedIndexAt(); at.After(written) {
				t.Fatalf("b's index caught up from a snapshot begun %s after %s and misses it", at.Sub(written), what)
			}
			if time.Now().After(deadline) {
				t.Fatalf("b's index never caught up with %s", what)
			}
		}
	}
	v1 := publish(a, 7)
	await(time.Now(), "a video written through a", func() bool { _, ok := b.FeedIndexViews(v1); return ok })
	items, err := b.ForYouRankedInGo(ctx, &store.DefaultForYouSettings, store.FeedWeights{}, "", 0, time.Now().UTC(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID != v1 {
		t.Fatalf("b ranked %+v after the bound, want the video %d written through a", items, v1)
	}
	if _, err := a.ExecContext(ctx, `UPDATE contents SET view_count = 55 WHERE id = $1`, v1); err != nil {
		t.Fatal(err)
	}
	await(time.Now(), "a view count written through a", func() bool { views, ok := b.FeedIndexViews(v1); return ok && views == 55 })

	// A transaction that began before a catch-up and commits after it.
	c := open() // catches up before every ranking (max lag 0)
	if err := c.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	tx, err := a.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	late := publish(tx, 1)
	early := publish(a, 2)
	if err := c.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.FeedIndexViews(early); !ok {
		t.Fatal("the index misses a committed content")
	}
	if _, ok := c.FeedIndexViews(late); ok {
		t.Fatal("the index holds an uncommitted content")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := c.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.FeedIndexViews(late); !ok {
		t.Fatal("the index skipped a transaction that committed after a catch-up began")
	}
	// Deleted.
	if _, err := a.ExecContext(ctx, `DELETE FROM contents WHERE id = $1`, early); err != nil {
		t.Fatal(err)
	}
	if err := c.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.FeedIndexViews(early); ok {
		t.Fatal("the index still holds a deleted content")
	}
	// Behind the retention: a full reload.
	loads := c.FeedIndexLoads()
	if _, err := a.ExecContext(ctx, `UPDATE feed_changes_pruned SET below = (pg_current_xact_id()::text::bigint + 1)::text::xid8`); err != nil {
		t.Fatal(err)
	}
	if err := c.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	if c.FeedIndexLoads() != loads+1 {
		t.Fatalf("%d full loads, want %d", c.FeedIndexLoads(), loads+1)
	}
	if _, ok := c.FeedIndexViews(late); !ok {
		t.Fatal("the reloaded index misses a content")
	}
}

// A next page on a process whose index is behind the one that ranked the
// walk (a content published within FEED_INDEX_MAX_LAG) keeps every item of
// the walk's tail: the index catches up instead of dropping the one it has
// not seen.
func TestWalkTailKeepsAContentThisIndexHasNotSeen(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx := context.Background()
	b := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
	b.SetFeedIndexMaxLag(time.Hour) // b's index stays as it is unless it must catch up
	var author int64
	if err := b.GetContext(ctx, &author, `INSERT INTO users (email, password_hash, handle, display_name) VALUES ('a@x', '-', 'a', 'A') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	publish := func() int64 {
		t.Helper()
		var id int64
		if err := b.GetContext(ctx, &id, `INSERT INTO contents (kind, author_id, caption, playback_url) VALUES ('VIDEO', $1, 'c', 'u') RETURNING id`, author); err != nil {
			t.Fatal(err)
		}
		return id
	}
	first, second := publish(), publish()
	if err := b.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	late := publish() // published after b's catch-up: ranked into the walk elsewhere
	if _, ok := b.FeedIndexViews(late); ok {
		t.Fatal("b's index already holds the late content; the test needs it behind")
	}
	const walk = 42
	if _, err := b.ExecContext(ctx, `INSERT INTO list_walks (id, viewer_id, kind, ids) VALUES ($1, 0, 'feed', $2)`,
		walk, pq.Array([]int64{first, late, second})); err != nil {
		t.Fatal(err)
	}
	items, err := b.ForYouRankedInGo(ctx, &store.DefaultForYouSettings, store.FeedWeights{}, "", 0, time.Now().UTC(), walk, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, it := range items {
		got[it.ID] = true
	}
	if len(items) != 3 || !got[first] || !got[late] || !got[second] {
		t.Fatalf("the walk's tail [%d %d %d] re-ranked to %+v: an item left out", first, late, second, items)
	}
}

// RunFeedIndex's handle is not ready (the server's /readyz answers 503)
// until its first load has finished; a handle that does not run the index
// (another FEED_POLICY) is.
func TestFeedIndexReadyOnlyOnceLoaded(t *testing.T) {
	ctx := context.Background()
	db := openPool(t, storetest.DSN(t), store.PoolOptions{MaxOpenConns: 5})
	if !db.FeedIndexReady() {
		t.Fatal("a handle that does not run the feed index is not ready")
	}
	release := db.HoldFeedIndexCatchUps()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go db.RunFeedIndex(runCtx, time.Second)
	time.Sleep(200 * time.Millisecond)
	if db.FeedIndexReady() {
		t.Fatal("ready before the feed index's first load")
	}
	release()
	for deadline := time.Now().Add(30 * time.Second); !db.FeedIndexReady(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not ready 30 s after the first load was let through")
		}
	}
	if db.FeedIndexLoads() != 1 {
		t.Fatalf("ready after %d loads, want 1", db.FeedIndexLoads())
	}
}

// The change log is pruned by RunFeedChangesPrune, which every API process
// runs whatever its FEED_POLICY (with none holding an index, nothing else
// deleted the rows: the log grew by every view count and score change for
// ever): below the xmin of a snapshot at least the retention old, a backlog
// in statements of bounded size; an index caught up before the horizon
// reloads in full, one caught up after it keeps catching up from the log.
func TestFeedChangesPrunedWithoutAnIndex(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	open := func() *store.DB {
		h := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
		return h
	}
	db := open()
	var author int64
	if err := db.GetContext(ctx, &author, `INSERT INTO users (email, password_hash, handle, display_name) VALUES ('p@x', '-', 'p', 'P') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	publish := func() int64 {
		t.Helper()
		var id int64
		if err := db.GetContext(ctx, &id, `INSERT INTO contents (kind, author_id, caption, playback_url) VALUES ('VIDEO', $1, 'c', 'u') RETURNING id`, author); err != nil {
			t.Fatal(err)
		}
		return id
	}
	count := func() (n int64) {
		t.Helper()
		if err := db.GetContext(ctx, &n, `SELECT count(*) FROM feed_changes`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	old := publish()
	// A backlog: more rows than one statement deletes.
	if _, err := db.ExecContext(ctx, `INSERT INTO feed_changes (content_id) SELECT $1 FROM generate_series(1, 25000)`, old); err != nil {
		t.Fatal(err)
	}
	early := open() // an index caught up before the horizon
	if err := early.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	between := publish() // after early's catch-up, before the horizon
	awaitHorizonPast(t, db, between)
	var p store.FeedChangesPruner
	t0 := time.Now()
	if err := p.Step(ctx, db, t0); err != nil {
		t.Fatal(err)
	}
	late := open() // an index caught up after it
	if err := late.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	recent := publish()
	before := count()
	if err := p.Step(ctx, db, t0.Add(store.FeedChangesRetention-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != before {
		t.Fatalf("pruned within the retention: %d rows, had %d", n, before)
	}
	if err := p.Step(ctx, db, t0.Add(store.FeedChangesRetention+time.Minute)); err != nil {
		t.Fatal(err)
	}
	var left []int64
	if err := db.SelectContext(ctx, &left, `SELECT DISTINCT content_id FROM feed_changes ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != recent {
		t.Fatalf("after the retention the log holds changes of %v, want only the one after the horizon (%d)", left, recent)
	}
	loads := late.FeedIndexLoads()
	if err := late.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	if _, ok := late.FeedIndexViews(recent); !ok || late.FeedIndexLoads() != loads {
		t.Fatalf("an index caught up after the horizon: holds the new content %v, loads %d → %d (want a catch-up)", ok, loads, late.FeedIndexLoads())
	}
	loads = early.FeedIndexLoads()
	if err := early.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	_, hasBetween := early.FeedIndexViews(between)
	if _, ok := early.FeedIndexViews(recent); !ok || !hasBetween || early.FeedIndexLoads() != loads+1 {
		t.Fatalf("an index caught up before the horizon: holds the contents published since %v %v, loads %d → %d (want a full load)",
			hasBetween, ok, loads, early.FeedIndexLoads())
	}
}

// A walk holding a content deleted since it was ranked (a takedown) costs
// its next pages one catch-up, not one each: after a catch-up that began
// after the walk was read, a content of the walk the index still lacks is
// gone, and the index remembers it (a popular video taken down sat in
// thousands of walks, each next page of which forced a catch-up for an
// hour).
func TestWalkWithADeletedContentCatchesUpOnce(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx := context.Background()
	b := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
	var author int64
	if err := b.GetContext(ctx, &author, `INSERT INTO users (email, password_hash, handle, display_name) VALUES ('a@x', '-', 'a', 'A') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	publish := func() int64 {
		t.Helper()
		var id int64
		if err := b.GetContext(ctx, &id, `INSERT INTO contents (kind, author_id, caption, playback_url) VALUES ('VIDEO', $1, 'c', 'u') RETURNING id`, author); err != nil {
			t.Fatal(err)
		}
		return id
	}
	first, doomed, second := publish(), publish(), publish()
	if err := b.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	const walk = 43
	if _, err := b.ExecContext(ctx, `INSERT INTO list_walks (id, viewer_id, kind, ids) VALUES ($1, 0, 'feed', $2)`,
		walk, pq.Array([]int64{first, doomed, second})); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecContext(ctx, `DELETE FROM contents WHERE id = $1`, doomed); err != nil {
		t.Fatal(err)
	}
	if err := b.CatchUpFeedIndex(); err != nil { // the index has seen it go
		t.Fatal(err)
	}
	b.SetFeedIndexMaxLag(time.Hour) // no catch-up but the ones a walk forces
	for page := 1; page <= 3; page++ {
		before := store.StatementsExecuted()
		items, err := b.ForYouRankedInGo(ctx, &store.DefaultForYouSettings, store.FeedWeights{}, "", 0, time.Now().UTC(), walk, 0)
		if err != nil {
			t.Fatal(err)
		}
		ran := store.StatementsExecuted() - before
		if len(items) != 2 {
			t.Fatalf("page %d: the tail re-ranked to %+v, want %d and %d", page, items, first, second)
		}
		if ran != 1 {
			t.Fatalf("page %d of a walk holding a deleted content ran %d statements, want 1 (no catch-up)", page, ran)
		}
	}
	// A process loaded after the deletion never saw it go: its first next
	// page catches up once, the following ones not.
	c := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
	if err := c.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	c.SetFeedIndexMaxLag(time.Hour)
	for page := 1; page <= 3; page++ {
		before := store.StatementsExecuted()
		items, err := c.ForYouRankedInGo(ctx, &store.DefaultForYouSettings, store.FeedWeights{}, "", 0, time.Now().UTC(), walk, 0)
		if err != nil {
			t.Fatal(err)
		}
		ran := store.StatementsExecuted() - before
		if len(items) != 2 || (page == 1) != (ran > 1) {
			t.Fatalf("another process, page %d: %d items, %d statements (want 2 items; a catch-up on page 1 only)", page, len(items), ran)
		}
	}
}

// A full load reads the campaigns' windows by one grouped join, a catch-up
// by subqueries per content: both give every content the same entry, the
// windows in the same order (by campaign, then variant), duplicates kept
// (a content carrying two enrolled variants of one product, or two
// enrolled products, holds the window once per enrolled variant).
func TestFeedIndexFullLoadReadsWhatCatchUpsRead(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	open := func() *store.DB {
		h := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
		return h
	}
	seed, caughtUp, loaded := open(), open(), open()
	// caughtUp loads the empty database: everything below reaches it by
	// catch-ups (the change log), loaded's first load reads it all.
	if err := caughtUp.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	seedForYouCatalogue(t, seed)
	// A second variant of each product enrolled in the running campaign,
	// enrolled in the ended one: such a product carries both campaigns, and
	// a content with two of them four windows, in campaign order.
	if _, err := seed.ExecContext(ctx, `
		WITH v AS (
			INSERT INTO product_variants (product_id, sku, title, price_amount, currency_code)
			SELECT product_id, 'w' || product_id, 'w', 1000, 'USD' FROM campaign_variants WHERE campaign_id = 1
			RETURNING id, product_id)
		INSERT INTO campaign_variants (campaign_id, variant_id, product_id, shop_id, price_amount, list_price_amount, currency_code)
		SELECT 2, v.id, v.product_id, p.shop_id, 500, 1000, 'USD' FROM v JOIN products p ON p.id = v.product_id`); err != nil {
		t.Fatal(err)
	}
	if err := caughtUp.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	if err := loaded.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	if n := caughtUp.FeedIndexLoads(); n != 1 {
		t.Fatalf("the caught-up index loaded in full %d times, want once (empty)", n)
	}
	want, got := caughtUp.FeedIndexEntries(), loaded.FeedIndexEntries()
	if len(want) < 3000 || len(got) != len(want) {
		t.Fatalf("the full load holds %d entries, the caught-up index %d (want at least 3000)", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("content %d: full load\n%s\ncatch-up\n%s", id, got[id], w)
		}
	}
	// The comparison covers contents with several windows in both orders.
	var starts []time.Time
	if err := seed.SelectContext(ctx, &starts, `SELECT starts_at FROM campaigns ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	var several int
	var multi []int64
	if err := seed.SelectContext(ctx, &multi, `SELECT cp.content_id FROM content_products cp JOIN campaign_variants cv ON cv.product_id = cp.product_id
		GROUP BY 1 HAVING count(*) >= 4 ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	for _, id := range multi {
		ws := loaded.FeedIndexCampaigns(id)
		if len(ws) < 4 {
			t.Fatalf("content %d holds %d campaign windows, want at least 4", id, len(ws))
		}
		for i := 1; i < len(ws); i++ {
			if ws[i-1][0] == starts[1].UnixMicro() && ws[i][0] == starts[0].UnixMicro() {
				t.Fatalf("content %d: windows %v not in campaign order", id, ws)
			}
		}
		several++
	}
	if several == 0 {
		t.Fatal("no content carries two enrolled products with two campaigns each: the comparison proves little")
	}
}

// awaitHorizonPast waits, for at most 30 s, until no transaction older than
// the newest change logged for content (0: any content) still runs. A prune's
// horizon is the cluster's oldest running transaction, and other tests'
// databases share the cluster: one of their transactions still running
// holds the horizon below changes a test expects pruned (kept, rightly).
func awaitHorizonPast(t *testing.T, db *store.DB, content int64) {
	t.Helper()
	for i := 0; ; i++ {
		var passed bool
		if err := db.GetContext(context.Background(), &passed, `SELECT pg_snapshot_xmin(pg_current_snapshot()) > max(txid)
			FROM feed_changes WHERE content_id = $1 OR $1 = 0`, content); err != nil {
			t.Fatal(err)
		}
		if passed {
			return
		}
		if i == 3000 {
			t.Fatal("a transaction older than the logged change has run for 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
