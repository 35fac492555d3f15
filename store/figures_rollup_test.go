package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

// checkFiguresAgainstOracle compares every content's and product's all-time
// figures as MetricsFor reads them (the rollup's totals plus the raw rows
// from its boundary on) with a full recompute from every raw row, figure by
// figure, GMV to the minor unit in every currency.
func checkFiguresAgainstOracle(t *testing.T, db *store.DB, what string) {
	t.Helper()
	ctx := context.Background()
	for subject, table := range map[string]string{store.SubjectContent: "contents", store.SubjectProduct: "products"} {
		var ids []int64
		if err := db.SelectContext(ctx, &ids, `SELECT id FROM `+table+` ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		want, err := db.RawAllTimeFigures(ctx, subject, ids)
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]store.MetricsKey, len(ids))
		for i, id := range ids {
			keys[i] = store.MetricsKey{Subject: subject, ID: id, Window: store.WindowAllTime}
		}
		got, err := db.MetricsFor(ctx, time.Now(), keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if g, w := got[k], want[k.ID]; !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: %s %d all-time figures\n got %+v\nwant %+v (full recompute)", what, subject, k.ID, g, w)
			}
		}
		if subject == store.SubjectContent {
			checkPublicFigures(t, db, what, keys, want)
		}
	}
}

// checkPublicFigures: a feed page's figures as the FiguresCache reads them
// (its public statement, without the sales) are the full recompute's views,
// likes, comments, shares, impressions and clicks.
func checkPublicFigures(t *testing.T, db *store.DB, what string, keys []store.MetricsKey, want map[int64]*store.Metrics) {
	t.Helper()
	got, err := store.NewFiguresCache(time.Hour).MetricsFor(context.Background(), db, time.Now(), keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		g, w := got[k], want[k.ID]
		if g == nil || w == nil {
			t.Fatalf("%s: content %d public figures %+v, full recompute %+v", what, k.ID, g, w)
		}
		type public struct{ Views, Likes, Comments, Shares, Impressions, Clicks int64 }
		gp := public{g.Views, g.Likes, g.Comments, g.Shares, g.ProductImpressions, g.ProductClicks}
		wp := public{w.Views, w.Likes, w.Comments, w.Shares, w.ProductImpressions, w.ProductClicks}
		if gp != wp || g.EngagementRate() != w.EngagementRate() || g.Window != store.WindowAllTime || g.SubjectID != k.ID {
			t.Fatalf("%s: content %d public figures\n got %+v\nwant %+v (full recompute)", what, k.ID, g, w)
		}
	}
}

// figuresActivity writes raw rows timed in [around − 2 days, around + 1
// day): event flushes (new buckets and added to existing ones), likes and
// unlikes, comments written, moved and deleted, buckets changed and
// deleted, orders refunded, paid again at another time, moved in time and
// to another currency, lines added to a paid order (a content or product
// it already sold), removed and turned into self-purchases.
func figuresActivity(t *testing.T, db *store.DB, rng *rand.Rand, around time.Time) {
	t.Helper()
	ctx := context.Background()
	at := func() time.Time {
		return around.Add(time.Duration(rng.Int64N(int64(72*time.Hour))) - 48*time.Hour).Truncate(time.Second)
	}
	var contents, products, users []int64
	if err := db.SelectContext(ctx, &contents, `SELECT id FROM contents ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if err := db.SelectContext(ctx, &products, `SELECT id FROM products ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if err := db.SelectContext(ctx, &users, `SELECT id FROM users ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	pick := func(ids []int64) int64 { return ids[rng.IntN(len(ids))] }

	buf := store.NewEventBuffer(db)
	var evs []store.Event
	for range 30 {
		e := store.Event{ContentID: pick(contents), At: at()}
		switch rng.IntN(6) {
		case 0:
			e.Type, e.WatchMs = store.EventView, 3000
		case 1:
			e.Type = store.EventShare
		case 2:
			e.Type, e.ProductID = store.EventProductImpression, pick(products)
		default:
			e.Type, e.ProductID = store.EventProductClick, pick(products)
		}
		evs = append(evs, e)
	}
	buf.Add(evs)
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	for range 4 {
		exec(`INSERT INTO content_likes (content_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, pick(contents), pick(users), at())
		exec(`INSERT INTO comments (content_id, author_id, body, created_at) VALUES ($1, $2, 'so good', $3)`, pick(contents), pick(users), at())
	}
	// nth(cols, table) selects one row of table by $1, any number: its
	// row $1 modulo the table's size.
	nth := func(cols, table string) string {
		return `(SELECT ` + cols + ` FROM ` + table + ` ORDER BY ` + cols + ` OFFSET $1::int % greatest((SELECT count(*) FROM ` + table + `), 1) LIMIT 1)`
	}
	for range 3 {
		exec(`DELETE FROM content_likes WHERE (content_id, user_id) IN `+nth("content_id, user_id", "content_likes"), rng.IntN(1<<20))
		exec(`UPDATE content_likes SET created_at = $2 WHERE (content_id, user_id) IN `+nth("content_id, user_id", "content_likes"), rng.IntN(1<<20), at())
		exec(`DELETE FROM comments WHERE id = `+nth("id", "comments"), rng.IntN(1<<20))
		exec(`UPDATE comments SET created_at = $2 WHERE id = `+nth("id", "comments"), rng.IntN(1<<20), at())
		exec(`UPDATE content_event_counts SET views = views + 7, product_clicks = product_clicks + 1
			WHERE (content_id, bucket) IN `+nth("content_id, bucket", "content_event_counts"), rng.IntN(1<<20))
		exec(`DELETE FROM content_event_counts WHERE (content_id, bucket) IN `+nth("content_id, bucket", "content_event_counts"), rng.IntN(1<<20))
		exec(`UPDATE product_event_counts SET impressions = impressions + 3
			WHERE (product_id, bucket) IN `+nth("product_id, bucket", "product_event_counts"), rng.IntN(1<<20))
		exec(`DELETE FROM product_event_counts WHERE (product_id, bucket) IN `+nth("product_id, bucket", "product_event_counts"), rng.IntN(1<<20))
	}

	const counted = `(SELECT id FROM orders WHERE status IN ('PAID', 'FULFILLED', 'DELIVERED') ORDER BY id
		OFFSET $1::int % greatest((SELECT count(*) FROM orders WHERE status IN ('PAID', 'FULFILLED', 'DELIVERED')), 1) LIMIT 1)`
	exec(`UPDATE orders SET status = $2 WHERE id = `+counted, rng.IntN(1<<20), []string{store.OrderRefunded, store.OrderCancelled}[rng.IntN(2)])
	exec(`UPDATE orders SET status = 'PAID', paid_at = $2
		WHERE id = (SELECT id FROM orders WHERE status IN ('CANCELLED', 'REFUNDED') ORDER BY id
			OFFSET $1::int % greatest((SELECT count(*) FROM orders WHERE status IN ('CANCELLED', 'REFUNDED')), 1) LIMIT 1)`, rng.IntN(1<<20), at())
	exec(`UPDATE orders SET paid_at = $2 WHERE id = `+counted, rng.IntN(1<<20), at())
	exec(`UPDATE orders SET currency_code = CASE currency_code WHEN 'USD' THEN 'EUR' ELSE 'USD' END WHERE id = `+counted, rng.IntN(1<<20))
	exec(`UPDATE orders SET status = 'FULFILLED', carrier = 'UPS' WHERE id = `+counted, rng.IntN(1<<20))
	exec(`INSERT INTO order_lines (order_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price_amount, total_amount,
			position, source_content_id, self_purchase)
		SELECT `+counted+`, variant_id, product_id, title, variant_title, sku, 2, unit_price_amount, 2 * unit_price_amount, 9, source_content_id, false
		FROM order_lines ORDER BY id OFFSET $2 LIMIT 1`, rng.IntN(1<<20), rng.IntN(100))
	exec(`DELETE FROM order_lines WHERE id = (SELECT l.id FROM order_lines l JOIN orders o ON o.id = l.order_id
		WHERE o.status IN ('PAID', 'FULFILLED', 'DELIVERED') ORDER BY l.id OFFSET $1 LIMIT 1)`, rng.IntN(100))
	exec(`UPDATE order_lines SET self_purchase = NOT self_purchase WHERE id = (SELECT l.id FROM order_lines l JOIN orders o ON o.id = l.order_id
		WHERE o.status IN ('PAID', 'FULFILLED', 'DELIVERED') AND l.source_content_id IS NOT NULL ORDER BY l.id OFFSET $1 LIMIT 1)`, rng.IntN(100))
}

func seedForFigures(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := demo.Seed(context.Background(), db, demo.SeedOptions{Users: 30, Creators: 6, Shops: 3, Products: 20, Videos: 40,
		LiveSessions: 6, HistoryDays: 5, Seed: 19}); err != nil {
		t.Fatal(err)
	}
}

func figuresBoundary(t *testing.T, db *store.DB) time.Time {
	t.Helper()
	var b time.Time
	if err := db.GetContext(context.Background(), &b, `SELECT closed_until FROM figures_rollup`); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAllTimeFiguresMatchAFullRecompute: after seeding five days of history
// (inserted behind the boundary the migration set: every row a late one),
// then twelve rounds of random activity with explicit times on both sides
// of the boundary, each followed by a fold 7 hours further (so folds cross
// day boundaries) and more activity against the moved boundary, every
// content's and product's all-time figures equal a full recompute from the
// raw rows. The totals hold most of the history by the end.
func TestAllTimeFiguresMatchAFullRecompute(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	seedForFigures(t, db)
	checkFiguresAgainstOracle(t, db, "after seeding")
	rng := rand.New(rand.NewPCG(19, 28))
	b := figuresBoundary(t, db)
	for round := range 12 {
		figuresActivity(t, db, rng, b)
		checkFiguresAgainstOracle(t, db, fmt.Sprintf("round %d, before folding", round))
		b = b.Add(7 * time.Hour)
		f, err := db.FoldFiguresUntil(ctx, b)
		if err != nil || !f.Folded || !f.Until.Equal(b) {
			t.Fatalf("round %d: fold until %s: %+v %v", round, b, f, err)
		}
		checkFiguresAgainstOracle(t, db, fmt.Sprintf("round %d, after folding until %s", round, b))
		figuresActivity(t, db, rng, b)
		checkFiguresAgainstOracle(t, db, fmt.Sprintf("round %d, late rows after the fold", round))
	}
	if f, err := db.FoldFiguresUntil(ctx, b.Add(-time.Hour)); err != nil || f.Folded {
		t.Fatalf("fold to an earlier boundary: %+v %v, want nothing done", f, err)
	}
	var totals struct {
		Views, Likes, Orders int64
	}
	if err := db.GetContext(ctx, &totals, `SELECT (SELECT coalesce(sum(views), 0) FROM content_figure_totals) AS views,
		(SELECT coalesce(sum(likes), 0) FROM content_figure_totals) AS likes,
		(SELECT coalesce(sum(orders), 0) FROM content_sales_totals) AS orders`); err != nil {
		t.Fatal(err)
	}
	if totals.Views == 0 || totals.Likes == 0 || totals.Orders == 0 {
		t.Fatalf("totals %+v: the rollup holds nothing, so the test compared raw rows with raw rows", totals)
	}
}

// TestAllTimeFiguresExactUnderConcurrentWritesAndFolds: two processes
// (pools) flush events, like, unlike and refund and re-pay orders at times
// around a boundary that two folders keep moving an hour at a time; the
// figures then equal a full recompute. Then a fold that cannot get the
// rollup's lock (a writer's transaction holds it) gives up after its
// timeout and leaves everything as it was.
func TestAllTimeFiguresExactUnderConcurrentWritesAndFolds(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	var procs [2]*store.DB
	for i := range procs {
		db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 6})
		procs[i] = db
	}
	seedForFigures(t, procs[0])
	start := figuresBoundary(t, procs[0])
	var boundary atomic.Int64
	boundary.Store(start.UnixNano())
	var contents, products, users []int64
	if err := procs[0].SelectContext(ctx, &contents, `SELECT id FROM contents ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if err := procs[0].SelectContext(ctx, &products, `SELECT id FROM products ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if err := procs[0].SelectContext(ctx, &users, `SELECT id FROM users ORDER BY id`); err != nil {
		t.Fatal(err)
	}

	const folds = 12
	var wg sync.WaitGroup
	var done atomic.Bool
	var folded atomic.Int64
	for p := range 2 {
		db := procs[p]
		wg.Add(1)
		go func() { // a folder
			defer wg.Done()
			for step := 1; step <= folds; step++ {
				until := start.Add(time.Duration(step) * time.Hour)
				for {
					f, err := db.FoldFiguresUntil(ctx, until)
					if err == nil {
						if f.Folded {
							folded.Add(1)
							boundary.Store(until.UnixNano())
						}
						break
					}
					if ctx.Err() != nil {
						return
					}
					time.Sleep(10 * time.Millisecond) // the lock timed out: again
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		for w := range 2 {
			wg.Add(1)
			go func() { // a writer
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(p), uint64(w)))
				near := func() time.Time {
					return time.Unix(0, boundary.Load()).Add(time.Duration(rng.Int64N(int64(2*time.Hour))) - time.Hour)
				}
				pick := func(ids []int64) int64 { return ids[rng.IntN(len(ids))] }
				buf := store.NewEventBuffer(db)
				for !done.Load() {
					buf.Add([]store.Event{{Type: store.EventView, ContentID: pick(contents), At: near()},
						{Type: store.EventProductClick, ContentID: pick(contents), ProductID: pick(products), At: near()}})
					if err := buf.Flush(ctx); err != nil {
						t.Error(err)
						return
					}
					var err error
					switch rng.IntN(6) {
					case 3, 4, 5: // a writer whose transaction stays open a moment after its row
						err = func() error {
							tx, err := db.BeginTx(ctx, nil)
							if err != nil {
								return err
							}
							defer tx.Rollback() //nolint:errcheck
							if _, err := tx.ExecContext(ctx, `INSERT INTO comments (content_id, author_id, body, created_at) VALUES ($1, $2, 'wow', $3)`,
								pick(contents), pick(users), near()); err != nil {
								return err
							}
							if _, err := tx.ExecContext(ctx, `SELECT pg_sleep(0.05)`); err != nil {
								return err
							}
							return tx.Commit()
						}()
					case 0:
						_, err = db.ExecContext(ctx, `INSERT INTO content_likes (content_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
							pick(contents), pick(users), near())
					case 1:
						_, err = db.ExecContext(ctx, `DELETE FROM content_likes WHERE content_id = $1`, pick(contents))
					default:
						_, err = db.ExecContext(ctx, `UPDATE orders SET status = CASE WHEN status = 'REFUNDED' THEN 'PAID' ELSE 'REFUNDED' END, paid_at = $2
							WHERE id = (SELECT id FROM orders WHERE status IN ('PAID', 'REFUNDED') ORDER BY id OFFSET $1 LIMIT 1)`, rng.IntN(40), near())
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	go func() {
		for folded.Load() < folds && !t.Failed() {
			time.Sleep(10 * time.Millisecond)
		}
		done.Store(true)
	}()
	wg.Wait()
	if t.Failed() {
		return
	}
	if got := figuresBoundary(t, procs[1]); !got.Equal(start.Add(folds * time.Hour)) {
		t.Fatalf("boundary %s after %d folds of an hour from %s", got, folds, start)
	}
	checkFiguresAgainstOracle(t, procs[1], "after concurrent writes and folds")

	// A writer's open transaction holds the rollup's lock shared: the fold
	// waits for it no longer than its timeout, then changes nothing.
	tx, err := procs[0].BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO content_likes (content_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		contents[0], users[len(users)-1], start); err != nil {
		t.Fatal(err)
	}
	before := figuresBoundary(t, procs[1])
	if f, err := procs[1].FoldFiguresUntil(ctx, before.Add(time.Hour)); err == nil || f.Folded {
		t.Fatalf("fold while a writer holds the lock: %+v %v, want a lock timeout", f, err)
	}
	if got := figuresBoundary(t, procs[1]); !got.Equal(before) {
		t.Fatalf("boundary %s after a failed fold, want %s", got, before)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	checkFiguresAgainstOracle(t, procs[1], "after a fold that timed out")
	if f, err := procs[1].FoldFiguresUntil(ctx, before.Add(time.Hour)); err != nil || !f.Folded {
		t.Fatalf("fold after the writer committed: %+v %v", f, err)
	}
	checkFiguresAgainstOracle(t, procs[0], "after the retried fold")
}

// TestScoreSalesMatchOrderLines: the score refresh reads a content's 7-day
// sales from content_sales; after seeding and random activity on orders and
// their lines (refunds, re-payments at other times, currencies, lines added,
// removed and made self-purchases), every content's gpm_7d from a full
// recompute equals the one computed from the order lines themselves as of
// the same moment.
func TestScoreSalesMatchOrderLines(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	seedForFigures(t, db)
	rng := rand.New(rand.NewPCG(7, 19))
	for range 3 {
		figuresActivity(t, db, rng, time.Now())
	}
	if _, err := db.ExecContext(ctx, `TRUNCATE content_scores`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecomputeContentScores(ctx); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID   int64   `db:"id"`
		Got  float64 `db:"got"`
		Want float64 `db:"want"`
		GMV  int64   `db:"gmv"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT s.content_id AS id, s.gpm_7d AS got, coalesce(o.gmv, 0) AS gmv,
			CASE WHEN coalesce(e.views, 0) = 0 THEN 0 ELSE coalesce(o.gmv, 0) * 1000.0 / e.views END AS want
		FROM content_scores s
		LEFT JOIN LATERAL (SELECT sum(views) AS views FROM content_event_counts
			WHERE content_id = s.content_id AND bucket >= s.updated_at - interval '7 days') e ON true
		LEFT JOIN LATERAL (SELECT sum(l.total_amount) AS gmv FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE l.source_content_id = s.content_id AND NOT l.self_purchase AND o.status IN ('PAID', 'FULFILLED', 'DELIVERED')
			AND o.paid_at >= s.updated_at - interval '7 days') o ON true`); err != nil {
		t.Fatal(err)
	}
	var sold int
	for _, r := range rows {
		if r.Got != r.Want {
			t.Fatalf("content %d: gpm_7d %v, want %v from its order lines", r.ID, r.Got, r.Want)
		}
		if r.GMV > 0 {
			sold++
		}
	}
	if len(rows) == 0 || sold == 0 {
		t.Fatalf("%d scores, %d with 7-day sales: nothing compared", len(rows), sold)
	}
}

// TestFoldCatchesUpAnHourPerTransaction: a boundary left hours behind (the
// refresh loop stopped, folds timing out) is caught up by one FoldFigures
// call an hour at a time, each hour committed in a transaction of its own,
// never in one fold as long as the gap (which holds the rollup's lock, and
// so every writer of raw rows, for as long as the whole gap takes to sum,
// and past statement_timeout fails and starts over every minute). The
// figures are exact before and after.
func TestFoldCatchesUpAnHourPerTransaction(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	seedForFigures(t, db)
	// Every move of the boundary, with the transaction that made it.
	if _, err := db.ExecContext(ctx, `CREATE TABLE fold_log (xid xid8, from_ts timestamptz, until_ts timestamptz);
		CREATE FUNCTION log_fold() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO fold_log VALUES (pg_current_xact_id(), OLD.closed_until, NEW.closed_until);
			RETURN NULL;
		END $$;
		CREATE TRIGGER log_fold AFTER UPDATE ON figures_rollup FOR EACH ROW EXECUTE FUNCTION log_fold();`); err != nil {
		t.Fatal(err)
	}
	b := figuresBoundary(t, db)
	rng := rand.New(rand.NewPCG(19, 5))
	for h := range 5 {
		figuresActivity(t, db, rng, b.Add(time.Duration(h)*time.Hour+30*time.Minute))
	}
	checkFiguresAgainstOracle(t, db, "before catching up")

	now := b.Add(5*time.Hour + store.FiguresFoldLag + time.Minute)
	f, err := db.FoldFigures(ctx, now)
	if err != nil || !f.Folded || !f.From.Equal(b) || !f.Until.Equal(b.Add(5*time.Hour)) {
		t.Fatalf("catching up 5 hours from %s: %+v %v", b, f, err)
	}
	var moves []struct {
		XID   string    `db:"xid"`
		From  time.Time `db:"from_ts"`
		Until time.Time `db:"until_ts"`
	}
	if err := db.SelectContext(ctx, &moves, `SELECT xid::text AS xid, from_ts, until_ts FROM fold_log ORDER BY from_ts`); err != nil {
		t.Fatal(err)
	}
	xids := map[string]bool{}
	for _, m := range moves {
		if m.Until.Sub(m.From) > time.Hour {
			t.Errorf("one transaction folded %s to %s (%s): writers of raw rows wait behind all of it", m.From, m.Until, m.Until.Sub(m.From))
		}
		xids[m.XID] = true
	}
	if len(moves) != 5 || len(xids) != 5 || f.Steps != 5 {
		t.Errorf("the 5 hours were folded in %d moves, %d transactions (%d steps reported), want 5 of each", len(moves), len(xids), f.Steps)
	}
	checkFiguresAgainstOracle(t, db, "after catching up")
	if f, err := db.FoldFigures(ctx, now); err != nil || f.Folded || f.Steps != 0 {
		t.Fatalf("a second call with nothing to fold: %+v %v", f, err)
	}
}
