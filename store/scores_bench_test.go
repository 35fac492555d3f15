package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

// BenchmarkScoreRefresh compares, at each catalogue size, a full score
// recompute (what every refresh cost before refreshes followed activity)
// with the incremental refresh after one minute's worth of activity: views
// on 2,000 contents (one event flush) and 200 likes. The catalogue is made
// with generate_series (two engagement buckets per content in the last
// three days), not the demo seed, so that 2,000,000 contents take minutes.
// Sizes come from SCORE_BENCH_CONTENTS (comma-separated, default 200000).
//
//	SCORE_BENCH_CONTENTS=200000,2000000 go test ./store -run '^$' -bench ScoreRefresh -benchtime 3x -timeout 60m
func BenchmarkScoreRefresh(b *testing.B) {
	sizes := os.Getenv("SCORE_BENCH_CONTENTS")
	if sizes == "" {
		sizes = "200000"
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatalf("SCORE_BENCH_CONTENTS: %v", err)
		}
		// The catalogue is made once (here, not in b.Run's function, which
		// runs more than once).
		db := scoreBenchCatalogue(b, n)
		b.Run(fmt.Sprintf("contents=%d", n), func(b *testing.B) { benchScoreRefresh(b, db) })
	}
}

func scoreBenchCatalogue(b *testing.B, n int) *store.DB {
	ctx := context.Background()
	db := storetest.NewDB(b)
	if _, err := demo.Seed(ctx, db, demo.SeedOptions{Users: 300, Creators: 2, Shops: 1, Products: 5, Videos: 5, LiveSessions: 0, HistoryDays: 1, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	for _, q := range []string{
		`SET LOCAL statement_timeout = 0`,
		`INSERT INTO contents (kind, author_id, shop_id, caption, playback_url, tags, published_at, view_count, like_count)
		 SELECT 'VIDEO', c.author_id, c.shop_id, 'video ' || g, c.playback_url, c.tags, now() - (g % 43200) * interval '1 minute', g % 5000, g % 50
		 FROM generate_series(1, $1::int) g, (SELECT * FROM contents ORDER BY id LIMIT 1) c`,
		`INSERT INTO content_event_counts (content_id, bucket, views, shares)
		 SELECT c.id, date_trunc('minute', now()) - ((c.id * 7 + d * 1440) % 4320) * interval '1 minute', 1 + c.id % 97, c.id % 3
		 FROM contents c, generate_series(0, 1) d WHERE c.id > (SELECT min(id) + 5 FROM contents)
		 ON CONFLICT DO NOTHING`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, n)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d contents generated in %s", n, time.Since(began).Round(time.Second))
	return db
}

func benchScoreRefresh(b *testing.B, db *store.DB) {
	ctx := context.Background()
	full, err := db.RecomputeContentScoresWithoutRests(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("full recompute: %d contents, %d rows written, %s of statements", full.Scored, full.Written, full.DBTime.Round(time.Millisecond))
	var ids []int64
	if err := db.SelectContext(ctx, &ids, `SELECT id FROM contents ORDER BY id`); err != nil {
		b.Fatal(err)
	}
	var users []int64
	if err := db.SelectContext(ctx, &users, `SELECT id FROM users ORDER BY id LIMIT 200`); err != nil {
		b.Fatal(err)
	}
	buf := store.NewEventBuffer(db)
	var scored, written int64
	var dbTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// One minute's activity: views on 2,000 contents, 200 likes.
		events := make([]store.Event, 0, 2000)
		for k := 0; k < 2000; k++ {
			events = append(events, store.Event{Type: store.EventView, ContentID: ids[(i*7919+k*104729)%len(ids)], WatchMs: 3000, At: time.Now()})
		}
		buf.Add(events)
		if err := buf.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		for k, u := range users {
			if _, err := db.LikeContent(ctx, u, ids[(i*31+k*7907)%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		r, err := db.RefreshChangedContentScores(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if r.Full || r.Skipped {
			b.Fatalf("refresh %+v, want an incremental one", r)
		}
		scored, written, dbTime = scored+r.Scored, written+r.Written, dbTime+r.DBTime
	}
	b.ReportMetric(float64(full.DBTime.Milliseconds()), "full-ms")
	b.ReportMetric(float64(full.Written), "full-rows")
	b.ReportMetric(float64(dbTime.Milliseconds())/float64(b.N), "incr-ms")
	b.ReportMetric(float64(scored)/float64(b.N), "incr-scored")
	b.ReportMetric(float64(written)/float64(b.N), "incr-rows")
}
