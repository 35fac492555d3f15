package store_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

// rowVersions maps each content_scores row to its physical version (xmin):
// a row that was rewritten has a new one.
func rowVersions(t *testing.T, db *store.DB) map[int64]string {
	t.Helper()
	var rows []struct {
		ID   int64  `db:"content_id"`
		Xmin string `db:"xmin"`
	}
	if err := db.SelectContext(context.Background(), &rows, `SELECT content_id, xmin::text AS xmin FROM content_scores`); err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, r := range rows {
		out[r.ID] = r.Xmin
	}
	return out
}

// exactScores asserts that two sets of scores are equal to the last digit.
func exactScores(t *testing.T, what string, got, want map[int64]score) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d scores, want %d", what, len(got), len(want))
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			t.Fatalf("%s: content %d scored %+v, want %+v", what, id, g, w)
		}
	}
}

// popularFeed is the ids of the first page of the anonymous popularity feed.
func popularFeed(t *testing.T, db *store.DB) []int64 {
	t.Helper()
	page, err := db.Feed(context.Background(), store.FeedArgs{Policy: store.PolicyPopular, Weights: store.DefaultFeedWeights,
		PageArgs: store.PageArgs{First: 50}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range page.Edges {
		ids = append(ids, e.Node.Base().ID)
	}
	return ids
}

func seedForScores(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db := storetest.NewDB(t)
	// Three days of history: no input lies near the 7-day window's edge,
	// so only the changes this test makes move a score between refreshes.
	if _, err := demo.Seed(ctx, db, demo.SeedOptions{Users: 30, Creators: 6, Shops: 3, Products: 20, Videos: 40, LiveSessions: 6, HistoryDays: 3, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	var near int
	if err := db.GetContext(ctx, &near, `SELECT (SELECT count(*) FROM content_event_counts WHERE bucket < now() - interval '6 days')
		+ (SELECT count(*) FROM content_likes WHERE created_at < now() - interval '6 days')
		+ (SELECT count(*) FROM comments WHERE created_at < now() - interval '6 days')
		+ (SELECT count(*) FROM orders WHERE paid_at < now() - interval '6 days')`); err != nil || near != 0 {
		t.Fatalf("%d inputs near the 7-day edge (%v): the test needs none", near, err)
	}
	return db
}

// TestScoreRefreshIncremental: after a full recompute, the incremental
// refresh writes no row when nothing happened; after views, a share, a
// like, an unlike, a comment, a refund, a live session going on air and one
// ending, and new content, it re-scores exactly those contents (in chunks),
// writes their rows and no other, and leaves the scores (and the feed's
// ranking) a full recompute then confirms without writing a row.
func TestScoreRefreshIncremental(t *testing.T) {
	ctx := context.Background()
	db := seedForScores(t)
	if err := db.RefreshContentScores(ctx); err != nil {
		t.Fatal(err)
	}
	before, versions := scores(t, db), rowVersions(t, db)

	r, err := db.RefreshChangedContentScores(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Full || r.Skipped || r.Scored != 0 || r.Written != 0 {
		t.Fatalf("refresh with nothing changed: %+v, want nothing scored or written", r)
	}
	exactScores(t, "nothing changed", scores(t, db), before)

	// One content per kind of input.
	var videos []int64
	if err := db.SelectContext(ctx, &videos, `SELECT id FROM contents WHERE kind = 'VIDEO' ORDER BY id LIMIT 6`); err != nil {
		t.Fatal(err)
	}
	var user int64
	if err := db.GetContext(ctx, &user, `SELECT min(id) FROM users`); err != nil {
		t.Fatal(err)
	}
	changed := map[int64]bool{}
	buf := store.NewEventBuffer(db)
	buf.Add([]store.Event{{Type: store.EventView, ContentID: videos[0], WatchMs: 5000, At: time.Now()},
		{Type: store.EventShare, ContentID: videos[1], At: time.Now()}})
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	changed[videos[0]], changed[videos[1]] = true, true
	var liker int64
	if err := db.GetContext(ctx, &liker, `SELECT min(id) FROM users WHERE id NOT IN (SELECT user_id FROM content_likes WHERE content_id = $1)`, videos[2]); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.LikeContent(ctx, liker, videos[2]); err != nil || !ok {
		t.Fatalf("like: %v %v", ok, err)
	}
	changed[videos[2]] = true
	var unliked struct {
		Content int64 `db:"content_id"`
		User    int64 `db:"user_id"`
	}
	if err := db.GetContext(ctx, &unliked, `SELECT content_id, user_id FROM content_likes WHERE content_id <> ALL($1) ORDER BY content_id LIMIT 1`, pq.Array(videos)); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.UnlikeContent(ctx, unliked.User, unliked.Content); err != nil || !ok {
		t.Fatalf("unlike: %v %v", ok, err)
	}
	changed[unliked.Content] = true
	if _, err := db.AddComment(ctx, user, videos[3], "so good"); err != nil {
		t.Fatal(err)
	}
	changed[videos[3]] = true
	var refunded []int64
	if err := db.SelectContext(ctx, &refunded, `WITH o AS (
			SELECT o.id FROM orders o WHERE o.status = 'PAID' AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.source_content_id IS NOT NULL AND NOT l.self_purchase)
			ORDER BY o.id LIMIT 1
		), u AS (UPDATE orders SET status = 'REFUNDED' WHERE id IN (SELECT id FROM o))
		SELECT DISTINCT l.source_content_id FROM order_lines l WHERE l.order_id IN (SELECT id FROM o) AND l.source_content_id IS NOT NULL`); err != nil || len(refunded) == 0 {
		t.Fatalf("refund an order sold by a content: %v %v", refunded, err)
	}
	for _, id := range refunded {
		changed[id] = true
	}
	var ended, onAir int64
	if err := db.GetContext(ctx, &ended, `UPDATE contents SET live_status = 'ENDED', started_at = coalesce(started_at, now()), ended_at = now()
		WHERE id = (SELECT min(id) FROM contents WHERE kind = 'LIVE' AND live_status = 'LIVE') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &onAir, `UPDATE contents SET live_status = 'LIVE', started_at = now()
		WHERE id = (SELECT min(id) FROM contents WHERE kind = 'LIVE' AND live_status = 'SCHEDULED') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	changed[ended], changed[onAir] = true, true
	var created int64
	if err := db.GetContext(ctx, &created, `INSERT INTO contents (kind, author_id, shop_id, caption, playback_url, tags, published_at)
		SELECT kind, author_id, shop_id, 'new', playback_url, tags, now() FROM contents WHERE id = $1 RETURNING id`, videos[5]); err != nil {
		t.Fatal(err)
	}
	changed[created] = true
	// An edit the score does not read logs nothing.
	if _, err := db.ExecContext(ctx, `UPDATE contents SET caption = caption || '!' WHERE id = $1`, videos[4]); err != nil {
		t.Fatal(err)
	}

	r, err = db.RefreshChangedContentScoresInChunks(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.Full || int(r.Scored) != len(changed) {
		t.Fatalf("refresh after changes: %+v, want %d contents re-scored", r, len(changed))
	}
	after, newVersions := scores(t, db), rowVersions(t, db)
	var written int64
	for id, v := range versions {
		if nv, ok := newVersions[id]; !ok || nv != v {
			written++
			if !changed[id] {
				t.Errorf("content %d was rewritten though nothing it is scored by changed", id)
			}
		}
	}
	for id := range newVersions {
		if _, ok := versions[id]; !ok {
			written++
		}
	}
	if written != r.Written {
		t.Errorf("refresh reported %d rows written, %d were", r.Written, written)
	}
	if _, ok := after[ended]; ok {
		t.Errorf("live session %d ended and still has a score", ended)
	}
	if _, ok := after[created]; !ok {
		t.Errorf("new content %d has no score", created)
	}
	if after[onAir].Base < before[onAir].Base+999 {
		t.Errorf("live session %d on air scored %v, was %v off air", onAir, after[onAir].Base, before[onAir].Base)
	}
	for _, c := range []struct {
		what string
		id   int64
		up   bool
	}{{"a share", videos[1], true}, {"a like", videos[2], true}, {"a comment", videos[3], true}, {"an unlike", unliked.Content, false}} {
		if b, a := before[c.id].Engagement, after[c.id].Engagement; (a > b) != c.up || a == b {
			t.Errorf("%s moved content %d's engagement from %v to %v", c.what, c.id, b, a)
		}
	}
	if after[videos[0]] == before[videos[0]] {
		t.Errorf("a view left content %d's score as it was", videos[0])
	}
	feed := popularFeed(t, db)

	// A full recompute agrees to the last digit and writes nothing.
	if err := db.RefreshContentScoresInChunks(ctx, 7); err != nil {
		t.Fatal(err)
	}
	exactScores(t, "full recompute after the incremental one", scores(t, db), after)
	rewritten := 0
	for id, v := range rowVersions(t, db) {
		if newVersions[id] != v {
			rewritten++
		}
	}
	if rewritten != 0 {
		t.Errorf("the full recompute rewrote %d rows the incremental refresh had left", rewritten)
	}
	if got := popularFeed(t, db); !equalIDs(got, feed) {
		t.Errorf("feed after the full recompute %v, after the incremental one %v", got, feed)
	}
}

// TestScoreRefreshWindowExpiry: an input leaving the 7-day window re-scores
// its content at the next refresh though nothing was written since.
func TestScoreRefreshWindowExpiry(t *testing.T) {
	ctx := context.Background()
	db := seedForScores(t)
	var video, user int64
	if err := db.GetContext(ctx, &video, `SELECT min(c.id) FROM contents c WHERE kind = 'VIDEO'
		AND EXISTS (SELECT 1 FROM content_event_counts e WHERE e.content_id = c.id AND e.views > 0)`); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &user, `SELECT min(id) FROM users WHERE id NOT IN (SELECT user_id FROM content_likes WHERE content_id = $1)`, video); err != nil {
		t.Fatal(err)
	}
	// A like that leaves the window two seconds from now.
	if _, err := db.ExecContext(ctx, `INSERT INTO content_likes (content_id, user_id, created_at) VALUES ($1, $2, now() - interval '7 days' + interval '2 seconds')`, video, user); err != nil {
		t.Fatal(err)
	}
	if err := db.RefreshContentScores(ctx); err != nil {
		t.Fatal(err)
	}
	with := scores(t, db)[video]
	var left bool
	for !left {
		time.Sleep(500 * time.Millisecond)
		if err := db.GetContext(ctx, &left, `SELECT max(created_at) < now() - interval '7 days' FROM content_likes WHERE content_id = $1 AND user_id = $2`, video, user); err != nil {
			t.Fatal(err)
		}
	}
	r, err := db.RefreshChangedContentScores(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Scored != 1 || r.Written != 1 {
		t.Fatalf("refresh after the like left the window: %+v, want the one content re-scored and written", r)
	}
	if got := scores(t, db)[video]; got.Engagement >= with.Engagement {
		t.Fatalf("content %d engagement %v with the like, %v after it left the window", video, with.Engagement, got.Engagement)
	}
	incremental := scores(t, db)
	if err := db.RefreshContentScores(ctx); err != nil {
		t.Fatal(err)
	}
	exactScores(t, "full recompute after the window moved", scores(t, db), incremental)
}

// TestScoreRefreshReplicasAndRestarts: refreshes started at once on several
// connections (as by several replicas) re-score each change once and leave
// the scores a full recompute gives; a refresh that fails loses no change;
// a full recompute that did not finish makes the next refresh a full one.
func TestScoreRefreshReplicasAndRestarts(t *testing.T) {
	ctx := context.Background()
	db := seedForScores(t)
	if err := db.RefreshContentScores(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE contents SET view_count = view_count + 100 WHERE id IN (SELECT id FROM contents ORDER BY id LIMIT 5)`); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		scored int64
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := db.RefreshChangedContentScores(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			scored += r.Scored
			mu.Unlock()
		}()
	}
	wg.Wait()
	if scored != 5 {
		t.Fatalf("concurrent refreshes re-scored %d contents in all, want the 5 changed once", scored)
	}
	incremental := scores(t, db)
	if err := db.RefreshContentScores(ctx); err != nil {
		t.Fatal(err)
	}
	exactScores(t, "full recompute after concurrent refreshes", scores(t, db), incremental)

	// A refresh that fails leaves the change log as it was: the next one
	// re-scores what the failed one had taken.
	if _, err := db.ExecContext(ctx, `UPDATE contents SET like_count = like_count + 1 WHERE id IN (SELECT id FROM contents WHERE kind = 'VIDEO' ORDER BY id LIMIT 3)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE content_scores ADD CONSTRAINT refresh_fails CHECK (base_score < 0) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	if r, err := db.RefreshChangedContentScores(ctx); err == nil {
		t.Fatalf("refresh that cannot write: %+v, want an error", r)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE content_scores DROP CONSTRAINT refresh_fails`); err != nil {
		t.Fatal(err)
	}
	if r, err := db.RefreshChangedContentScores(ctx); err != nil || r.Scored != 3 || r.Written != 3 {
		t.Fatalf("refresh after a failed one: %+v %v, want the 3 changed contents re-scored and written", r, err)
	}
	incremental = scores(t, db)
	if err := db.RefreshContentScores(ctx); err != nil {
		t.Fatal(err)
	}
	exactScores(t, "full recompute after a failed refresh and its retry", scores(t, db), incremental)

	// A full recompute that stopped midway (as in a crash) leaves the
	// scores marked incomplete, and the next refresh is full.
	if _, err := db.ExecContext(ctx, `UPDATE content_scores_refreshed SET complete = false`); err != nil {
		t.Fatal(err)
	}
	r, err := db.RefreshChangedContentScores(ctx)
	if err != nil || !r.Full {
		t.Fatalf("refresh after an unfinished full one: %+v %v, want a full one", r, err)
	}
	if r, err := db.RefreshChangedContentScores(ctx); err != nil || r.Full || r.Scored != 0 {
		t.Fatalf("refresh after a full one: %+v %v, want an incremental one with nothing to do", r, err)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestScoreRefreshOutlastsThePoolTimeout: an incremental refresh whose
// statement takes longer than the pool's statement timeout (here one
// waiting 1.5 s for the refresh row, on a pool with a 300 ms timeout)
// still finishes: a refresh that has fallen behind at 2,000,000 contents
// took longer than the 15 s default and then failed every minute, its
// window growing.
func TestScoreRefreshOutlastsThePoolTimeout(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5})
	if _, err := demo.Seed(ctx, db, demo.SeedOptions{Users: 10, Creators: 3, Shops: 2, Products: 5, Videos: 10, HistoryDays: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if err := db.RefreshContentScores(ctx); err != nil {
		t.Fatal(err)
	}
	short := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 5, StatementTimeout: 300 * time.Millisecond})
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM content_scores_refreshed FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	released := time.AfterFunc(1500*time.Millisecond, func() { _ = tx.Rollback() })
	defer released.Stop()
	if _, err := short.RefreshChangedContentScores(ctx); err != nil {
		t.Fatalf("a refresh past the pool's statement timeout: %v", err)
	}
}

// TestScoreLeaversReadNoTableRow: the statement that finds the contents
// to re-score reads each of the four time indexes alone (an index-only
// scan: migration 0033 carries content_id in them), not a table row per
// input that left the window.
func TestScoreLeaversReadNoTableRow(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Neither a sequential nor a bitmap scan: an index scan, index-only
	// when the index covers the query.
	for _, q := range []string{`SET enable_seqscan = off`, `SET enable_bitmapscan = off`, `BEGIN`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer conn.ExecContext(ctx, `ROLLBACK`) //nolint:errcheck
	text := explain(t, conn, store.ScoreChangesSQL, time.Now().Add(-time.Minute), time.Now())
	for _, index := range []string{"content_event_counts_bucket_idx", "content_likes_created_idx", "comments_created_idx", "content_sales_paid_idx"} {
		if !strings.Contains(text, "Index Only Scan using "+index) {
			t.Errorf("no index-only scan of %s:\n%s", index, text)
		}
	}
}

// TestScoreRefreshTimeoutStaysInItsTransaction: the incremental refresh's
// 5-minute statement timeout (set_config(…, true)) ends with its
// transaction: every pooled connection it used is back on the pool's
// timeout, and a request's statement on them is cut at that timeout.
func TestScoreRefreshTimeoutStaysInItsTransaction(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 2, StatementTimeout: 300 * time.Millisecond})
	if _, err := db.ExecContext(ctx, `INSERT INTO content_scores_refreshed (at, complete) VALUES (now() - interval '1 minute', true)
		ON CONFLICT (only_row) DO UPDATE SET at = excluded.at, complete = true`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if res, err := db.RefreshChangedContentScores(ctx); err != nil || res.Full || res.Skipped {
			t.Fatalf("incremental refresh: %+v, %v", res, err)
		}
	}
	// Both of the pool's connections at once: the refresh used both (the
	// advisory lock's and the transaction's).
	var conns []*sql.Conn
	for range 2 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		var got string
		if err := c.QueryRowContext(ctx, `SHOW statement_timeout`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != "300ms" {
			t.Errorf("connection %d: statement_timeout %s after the refresh, want the pool's 300ms", i, got)
		}
		if _, err := c.ExecContext(ctx, `SELECT pg_sleep(2)`); err == nil || !strings.Contains(err.Error(), "statement timeout") {
			t.Errorf("connection %d: a 2 s statement: %v, want the pool's timeout", i, err)
		}
	}
}
