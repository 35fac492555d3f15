package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"showcase/store"
	"showcase/store/storetest"
)

// A walk begun under one FEED_POLICY and continued under another (a server
// restarted with another policy, or two processes of a rolling deployment
// with different ones) continues the walk: the For You cursors of a page
// after the first (whose walk row holds the walk's tail from the cursor's
// offset) and the popular and tags cursors (whose row holds the walk from
// its start) are read by every policy at the walk's position, so that a
// walk whose pages alternate policies at random never repeats an item and
// serves every item its first page ranked. Before, the popular and tags
// policies read a For You cursor's row from its start, ignoring the offset:
// the page after it skipped as many items as the walk had served and could
// repeat ones it had.
func TestFeedCursorsSurviveAPolicySwitch(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	seedForYouCatalogue(t, db)
	policies := []string{store.PolicyForYou, store.PolicyPopular, store.PolicyTags}
	rng := rand.New(rand.NewPCG(19, 2))
	// The ids a walk's first page stored (its whole arrangement).
	firstRow := func(cursor string) []int64 {
		t.Helper()
		walk, _, _, err := store.WalkCursorParts(cursor)
		if err != nil {
			t.Fatal(err)
		}
		var ids pq.Int64Array
		if err := db.GetContext(ctx, &ids, `SELECT ids FROM list_walks WHERE id = $1`, walk); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	for trial := 0; trial < 12; trial++ {
		viewer := int64(1 + trial*3)
		first := policies[trial%3]
		var (
			after  string
			served []int64
			seen   = map[int64]bool{}
			want   []int64
			path   []string
		)
		for page := 0; ; page++ {
			if page > 200 {
				t.Fatalf("trial %d: the walk did not end within 200 pages", trial)
			}
			policy := first
			if page > 0 {
				policy = policies[rng.IntN(3)]
			}
			path = append(path, policy)
			p, err := db.Feed(ctx, store.FeedArgs{ViewerID: viewer, Policy: policy, PageArgs: store.PageArgs{First: 7 + rng.IntN(20), After: after}})
			if err != nil {
				t.Fatalf("trial %d, page %d (%v): %v", trial, page, path, err)
			}
			for _, e := range p.Edges {
				id := e.Node.Base().ID
				if seen[id] {
					t.Fatalf("trial %d (%v): item %d served twice", trial, path, id)
				}
				seen[id] = true
				served = append(served, id)
			}
			if page == 0 {
				if len(p.Edges) == 0 {
					t.Fatalf("trial %d: an empty first page", trial)
				}
				want = firstRow(p.Edges[0].Cursor)
			}
			if !p.HasNextPage {
				break
			}
			after = p.Edges[len(p.Edges)-1].Cursor
		}
		// A For You page leaves out what the viewer marked not interested
		// or watched to the end (videos), which a popular or tags first
		// page ranked: those may be missing, nothing else.
		var done []int64
		if err := db.SelectContext(ctx, &done, `SELECT pc.content_id FROM profile_contents pc JOIN contents c ON c.id = pc.content_id
			WHERE pc.profile = $1 AND (pc.dismissed OR (pc.completed AND c.kind = 'VIDEO'))`, store.UserProfile(viewer)); err != nil {
			t.Fatal(err)
		}
		got, w := slices.Clone(served), slices.DeleteFunc(slices.Clone(want), func(id int64) bool {
			return first != store.PolicyForYou && slices.Contains(done, id) && !seen[id]
		})
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Fatalf("trial %d (%v): served %d items, the first page ranked %d: the walk skipped or added some (%s)",
				trial, path, len(got), len(w), diffIDs(got, w))
		}
	}
}

// diffIDs describes how two sorted id lists differ.
func diffIDs(got, want []int64) string {
	var extra, missing []int64
	for _, id := range got {
		if _, ok := slices.BinarySearch(want, id); !ok {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if _, ok := slices.BinarySearch(got, id); !ok {
			missing = append(missing, id)
		}
	}
	return fmt.Sprintf("extra %v, missing %v", extra[:min(len(extra), 10)], missing[:min(len(missing), 10)])
}

// Three API processes prune the change log at once (RunFeedChangesPrune
// runs in every process, whatever its FEED_POLICY) while a fourth writes
// contents, view counts and deletions, and every process's feed index
// catches up every 50 ms: no prune fails (a deadlock between the deletions
// of two processes would, and was never logged), the log is pruned, and
// every index ends holding exactly the contents and view counts of the
// database, whether it caught up from the log all along or fell behind the
// pruning and reloaded in full (as README says, For You: where ranking
// happens). Each process is a handle with its own pool; the pruners step a
// clock of their own, half a retention per step, so that they prune below
// snapshots a few milliseconds old and their horizons interleave.
func TestFeedChangesPrunedByThreeProcessesAtOnce(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx := context.Background()
	open := func() *store.DB {
		h := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 4})
		return h
	}
	writer := open()
	var author int64
	if err := writer.GetContext(ctx, &author, `INSERT INTO users (email, password_hash, handle, display_name) VALUES ('w@x', '-', 'w', 'W') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.ExecContext(ctx, `INSERT INTO contents (kind, author_id, caption, playback_url, view_count)
		SELECT 'VIDEO', $1, 'c', 'u' || i, i FROM generate_series(1, 500) i`, author); err != nil {
		t.Fatal(err)
	}
	// A backlog of several statements' worth for the first prunes, which
	// all three run over the same rows.
	if _, err := writer.ExecContext(ctx, `INSERT INTO feed_changes (content_id) SELECT (SELECT min(id) FROM contents) + i % 500 FROM generate_series(1, 35000) i`); err != nil {
		t.Fatal(err)
	}
	procs := []*store.DB{open(), open(), open()}
	slow := open() // caught up once now and once at the end: behind every horizon
	if err := slow.CatchUpFeedIndex(); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.RunFeedIndex(runCtx, 100*time.Millisecond) })
	}
	var writes sync.WaitGroup
	writing, stopWriting := context.WithCancel(ctx)
	writes.Go(func() {
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; writing.Err() == nil && i < 5000; i++ {
			var err error
			switch k := rng.IntN(10); {
			case k < 3:
				_, err = writer.ExecContext(ctx, `INSERT INTO contents (kind, author_id, caption, playback_url, view_count) VALUES ('VIDEO', $1, 'n', 'n', $2)`, author, rng.IntN(1000))
			case k < 9:
				_, err = writer.ExecContext(ctx, `UPDATE contents SET view_count = view_count + 1 + $1 WHERE id = (SELECT id FROM contents ORDER BY random() LIMIT 1)`, rng.IntN(50))
			default:
				_, err = writer.ExecContext(ctx, `DELETE FROM contents WHERE id = (SELECT id FROM contents ORDER BY random() LIMIT 1)`)
			}
			if err != nil {
				t.Errorf("write: %v", err)
				return
			}
		}
	})
	t0 := time.Now()
	errs := make(chan error, 3*40)
	var pruners sync.WaitGroup
	for range procs {
		pruners.Go(func() {
			var p store.FeedChangesPruner
			for step := range 40 {
				if err := p.Step(ctx, writer, t0.Add(time.Duration(step)*store.FeedChangesRetention/2)); err != nil {
					errs <- err
				}
				time.Sleep(15 * time.Millisecond)
			}
		})
	}
	pruners.Wait()
	stopWriting()
	writes.Wait()
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a concurrent prune failed: %v", err)
	}
	var left, below int64
	if err := writer.GetContext(ctx, &left, `SELECT count(*) FROM feed_changes`); err != nil {
		t.Fatal(err)
	}
	if err := writer.GetContext(ctx, &below, `SELECT count(*) FROM feed_changes WHERE txid < (SELECT below FROM feed_changes_pruned)`); err != nil {
		t.Fatal(err)
	}
	if below != 0 || left >= 35000 {
		t.Fatalf("the log keeps %d rows, %d of them below the pruned mark", left, below)
	}
	type row struct {
		ID    int64 `db:"id"`
		Views int64 `db:"view_count"`
	}
	var want []row
	if err := writer.SelectContext(ctx, &want, `SELECT id, view_count FROM contents`); err != nil {
		t.Fatal(err)
	}
	loads := slow.FeedIndexLoads()
	for i, p := range append(procs, slow) {
		// RunFeedIndex set a max lag: within it a catch-up is skipped as
		// recent enough (README's bound). Now that nothing writes, ask
		// for one that sees every commit.
		p.SetFeedIndexMaxLag(0)
		if err := p.CatchUpFeedIndex(); err != nil {
			t.Fatal(err)
		}
		if n := p.FeedIndex().Len(); n != len(want) {
			t.Errorf("process %d: the index holds %d contents, the database %d", i, n, len(want))
		}
		for _, r := range want {
			if v, ok := p.FeedIndexViews(r.ID); !ok || v != r.Views {
				t.Fatalf("process %d: content %d in the index %v with %d views, the database has %d", i, r.ID, ok, v, r.Views)
			}
		}
		t.Logf("process %d: %d full loads", i, p.FeedIndexLoads())
	}
	if slow.FeedIndexLoads() != loads+1 {
		t.Fatalf("the index behind the pruning caught up without a full load (%d → %d loads)", loads, slow.FeedIndexLoads())
	}
}

// A prune whose batch meets rows another process deletes at the same time
// (three processes prune the same log) goes on until every row below its
// horizon is gone. It stopped when a statement deleted fewer rows than a
// batch, which is also what happens when another process's prune took some
// of the batch's rows first: two processes pruning at once could both stop
// with most of a backlog left for a minute. Here a transaction holding the
// first half of the first batch commits its deletion while the prune waits
// for it.
func TestFeedChangesPruneGoesOnPastRowsPrunedByAnother(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO feed_changes (content_id) SELECT i FROM generate_series(1, 30000) i`); err != nil {
		t.Fatal(err)
	}
	awaitHorizonPast(t, db, 0)
	var p store.FeedChangesPruner
	t0 := time.Now()
	if err := p.Step(ctx, db, t0); err != nil {
		t.Fatal(err)
	}
	var horizon string
	if err := db.GetContext(ctx, &horizon, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`); err != nil {
		t.Fatal(err)
	}
	other, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback() //nolint:errcheck
	if _, err := other.ExecContext(ctx, `DELETE FROM feed_changes WHERE ctid = ANY(ARRAY(SELECT ctid FROM feed_changes ORDER BY ctid LIMIT 5000))`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Step(ctx, db, t0.Add(store.FeedChangesRetention+time.Second)) }()
	// The prune waits for the other deletion's rows.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var waiting int
		if err := db.GetContext(ctx, &waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM feed_changes%'`); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the prune ended (%v) without waiting for the rows another transaction deletes", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the prune never waited for the rows another transaction deletes")
		}
	}
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.GetContext(ctx, &left, `SELECT count(*) FROM feed_changes WHERE txid < $1::xid8`, horizon); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("the prune stopped with %d rows below its horizon left", left)
	}
}
