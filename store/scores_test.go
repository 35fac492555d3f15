package store_test

import (
	"context"
	"math"
	"testing"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

type score struct {
	ContentID  int64   `db:"content_id"`
	GPM        float64 `db:"gpm_7d"`
	Engagement float64 `db:"engagement_7d"`
	Base       float64 `db:"base_score"`
}

func scores(t *testing.T, db *store.DB) map[int64]score {
	t.Helper()
	var rows []score
	if err := db.SelectContext(context.Background(), &rows, `SELECT content_id, gpm_7d, engagement_7d, base_score FROM content_scores`); err != nil {
		t.Fatal(err)
	}
	out := map[int64]score{}
	for _, r := range rows {
		out[r.ContentID] = r
	}
	return out
}

// sameScores compares two refreshes a moment apart: the 7-day figures are
// equal, and base scores (kept to two decimals) differ by their rounding at
// most, as recency moved on between them.
func sameScores(t *testing.T, what string, got, want map[int64]score) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d scores, want %d", what, len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok || g.GPM != w.GPM || g.Engagement != w.Engagement || math.Abs(g.Base-w.Base) > 0.0101 {
			t.Fatalf("%s: content %d scored %+v, want %+v", what, id, g, w)
		}
	}
}

// TestScoreRefreshInChunks: the refresh scores chunk by chunk what it would
// score at once, rewrites rows whose figures changed, and drops the scores
// of live sessions that ended.
func TestScoreRefreshInChunks(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	if _, err := demo.Seed(ctx, db, demo.SeedOptions{Users: 30, Creators: 6, Shops: 3, Products: 20, Videos: 40, LiveSessions: 6, HistoryDays: 8, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if err := db.RefreshContentScoresInChunks(ctx, 1<<40); err != nil {
		t.Fatal(err)
	}
	whole := scores(t, db)
	converting, engaging := 0, 0
	for _, s := range whole {
		if s.GPM > 0 {
			converting++
		}
		if s.Engagement > 0 {
			engaging++
		}
	}
	if len(whole) < 40 || converting == 0 || engaging == 0 {
		t.Fatalf("%d scores, %d with GPM, %d with engagement: the dataset scores nothing worth comparing", len(whole), converting, engaging)
	}

	var ended int64
	if err := db.GetContext(ctx, &ended, `UPDATE contents SET live_status = 'ENDED', started_at = coalesce(started_at, now()), ended_at = now()
		WHERE id = (SELECT min(id) FROM contents WHERE kind = 'LIVE' AND live_status <> 'ENDED') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, ok := whole[ended]; !ok {
		t.Fatalf("live session %d had no score before it ended", ended)
	}
	delete(whole, ended)
	if err := db.RefreshContentScoresInChunks(ctx, 7); err != nil {
		t.Fatal(err)
	}
	sameScores(t, "in chunks of 7 over earlier scores", scores(t, db), whole)
	var kept int
	if err := db.GetContext(ctx, &kept, `SELECT count(*) FROM content_scores WHERE updated_at < (SELECT at FROM content_scores_refreshed)`); err != nil {
		t.Fatal(err)
	}
	if kept < len(whole)/2 {
		t.Errorf("%d of %d unchanged scores were left as they were", kept, len(whole))
	}

	if _, err := db.ExecContext(ctx, `DELETE FROM content_scores`); err != nil {
		t.Fatal(err)
	}
	if err := db.RefreshContentScoresInChunks(ctx, 7); err != nil {
		t.Fatal(err)
	}
	sameScores(t, "in chunks of 7 from none", scores(t, db), whole)
	var fresh bool
	if err := db.GetContext(ctx, &fresh, `SELECT at > now() - interval '1 minute' FROM content_scores_refreshed`); err != nil || !fresh {
		t.Fatalf("refresh time not recorded: %v", err)
	}
}
