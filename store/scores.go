package store

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// FeedWeights say how much conversion counts in the feed's ranking.
type FeedWeights struct {
	// GPM multiplies ln(1 + 7-day GPM in major currency units).
	GPM float64
	// Engagement multiplies the 7-day engagement rate in percent.
	Engagement float64
}

// DefaultFeedWeights make a video earning 50 per thousand views (ln 51 ≈ 3.9,
// × 10) worth about one and a half shared interest tags (25 each), and 5%
// engagement worth 10 points.
var DefaultFeedWeights = FeedWeights{GPM: 10, Engagement: 2}

// A full recompute goes through the contents scoreChunk ids at a time, and
// after each chunk rests scoreRefreshRest times as long as the chunk took:
// at 200,000 videos it is about five seconds of PostgreSQL CPU, which taken
// at once left a 2-core machine one core for a minute's busiest seconds.
// An incremental refresh re-scores the contents it has to scoreChunk at a
// time, in one transaction, without rests (its work is the minute's
// activity, not the catalogue).
const (
	scoreChunk       = 10000
	scoreRefreshRest = 3
)

// scoreRefreshStatementTimeout bounds each statement of an incremental
// refresh instead of the pool's timeout (DefaultStatementTimeout, 15 s): a
// refresh that has fallen behind (its window of 7-day leavers grows with
// every minute it fails) must still be able to finish, or it fails every
// minute from then on and the scores stop moving.
const scoreRefreshStatementTimeout = 5 * time.Minute

// scoreRefreshLockID is the advisory lock that lets one replica refresh
// the scores at a time; the others skip their turn.
const scoreRefreshLockID = 0x5c0e5

// ScoreRefresh is what one score refresh did.
type ScoreRefresh struct {
	// Full is true when every content was recomputed (the first refresh,
	// after a failed full one, or when asked for).
	Full bool
	// Skipped is true when another replica was refreshing.
	Skipped bool
	// Scored is how many contents were recomputed; Written how many of
	// their content_scores rows were inserted, rewritten or deleted (a
	// recomputed row whose figures did not change is not written).
	Scored, Written int64
	// DBTime is the time spent in the refresh's statements (rests between
	// a full recompute's chunks left out): its cost to the database.
	DBTime time.Duration
}

// RefreshContentScores recomputes every content's 7-day GPM, engagement
// rate and base score (a full recompute, as of one moment, a chunk of
// contents at a time), and clears the log of changes it covers. Rows whose
// figures did not change are not rewritten. It waits for a refresh running
// on another replica to end first. RefreshChangedContentScores is the
// background refresh; this one is for start-up, tests and benchmarks.
func (db *DB) RefreshContentScores(ctx context.Context) error {
	_, err := db.refreshScores(ctx, true, scoreChunk, scoreRefreshRest)
	return err
}

// RecomputeContentScores is RefreshContentScores reporting what it did:
// the rows it recomputed and wrote, and its statements' time.
func (db *DB) RecomputeContentScores(ctx context.Context) (ScoreRefresh, error) {
	return db.refreshScores(ctx, true, scoreChunk, scoreRefreshRest)
}

// RefreshChangedContentScores brings the scores up to date by recomputing
// only the contents whose inputs changed since the last refresh (logged by
// triggers: engagement counts, likes, comments, order lines, payments and
// refunds, contents' counters and live state, new contents) and those
// with an input that left the 7-day window since then. Its cost follows
// activity, not catalogue size; the scores it leaves are those a full
// recompute would (base_score holds no time-dependent term: recency is
// applied by the feed at read time). When no complete refresh was ever
// recorded it makes a full one. One replica refreshes at a time: when
// another holds the turn it returns at once with Skipped. A failure leaves
// the change log as it was, so the next refresh redoes the work.
func (db *DB) RefreshChangedContentScores(ctx context.Context) (ScoreRefresh, error) {
	return db.refreshScores(ctx, false, scoreChunk, scoreRefreshRest)
}

func (db *DB) refreshScores(ctx context.Context, full bool, chunk int64, rest time.Duration) (ScoreRefresh, error) {
	var out ScoreRefresh
	conn, err := db.Conn(ctx)
	if err != nil {
		return out, fmt.Errorf("refresh scores: %w", err)
	}
	defer conn.Close()
	if full {
		// An explicit full recompute waits for its turn.
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, scoreRefreshLockID); err != nil {
			return out, fmt.Errorf("refresh scores: %w", err)
		}
	} else {
		var locked bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, scoreRefreshLockID).Scan(&locked); err != nil {
			return out, fmt.Errorf("refresh scores: %w", err)
		}
		if !locked {
			out.Skipped = true
			return out, nil
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, scoreRefreshLockID) //nolint:errcheck

	if !full {
		var complete []bool
		if err := db.SelectContext(ctx, &complete, `SELECT complete FROM content_scores_refreshed`); err != nil {
			return out, fmt.Errorf("refresh scores: %w", err)
		}
		full = len(complete) == 0 || !complete[0]
	}
	if full {
		return db.refreshAllScores(ctx, chunk, rest)
	}
	return db.refreshChangedScores(ctx, chunk)
}

// refreshAllScores is the full recompute. It first empties the change log
// and marks the scores incomplete (in one transaction): every change logged
// so far committed before the chunks below read their inputs, and changes
// committed later stay logged for the next refresh. Should it fail midway,
// the scores stay marked incomplete and the next refresh is full again.
func (db *DB) refreshAllScores(ctx context.Context, chunk int64, rest time.Duration) (ScoreRefresh, error) {
	out := ScoreRefresh{Full: true}
	began := time.Now()
	// TRUNCATE (the log may hold millions of rows after a bulk load) waits
	// for the transactions writing to it, which therefore committed before
	// the chunks read; writers after it wait for this short transaction.
	if err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `TRUNCATE content_score_changes`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO content_scores_refreshed (at, complete) VALUES ('-infinity', false)
			ON CONFLICT (only_row) DO UPDATE SET complete = false`)
		return err
	}); err != nil {
		return out, fmt.Errorf("refresh scores: %w", err)
	}
	var span struct {
		At    time.Time `db:"at"`
		MaxID int64     `db:"max_id"`
		Count int64     `db:"n"`
	}
	if err := db.GetContext(ctx, &span, `SELECT now() AS at, coalesce(max(id), 0) AS max_id, count(*) AS n FROM contents`); err != nil {
		return out, fmt.Errorf("refresh scores: %w", err)
	}
	out.Scored = span.Count
	out.DBTime += time.Since(began)
	for from := int64(0); from < span.MaxID; from += chunk {
		started := time.Now()
		res, err := db.ExecContext(ctx, scoreRangeSQL, span.At, DefaultFeedWeights.GPM, DefaultFeedWeights.Engagement, from, from+chunk)
		if err != nil {
			return out, fmt.Errorf("refresh scores of contents %d to %d: %w", from+1, from+chunk, err)
		}
		n, _ := res.RowsAffected()
		out.Written += n
		out.DBTime += time.Since(started)
		if from+chunk < span.MaxID && rest > 0 {
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(rest * time.Since(started)):
			}
		}
	}
	// Live sessions that ended since are no longer ranked; content created
	// since span.At is, without a score, until the next refresh.
	var removed int64
	ended := time.Now()
	err := db.GetContext(ctx, &removed, `WITH ended AS (
			DELETE FROM content_scores s USING contents c
			WHERE c.id = s.content_id AND c.kind = 'LIVE' AND c.live_status = 'ENDED' RETURNING 1
		), done AS (
			UPDATE content_scores_refreshed SET at = $1, complete = true
		)
		SELECT count(*) FROM ended`, span.At)
	if err != nil {
		return out, fmt.Errorf("refresh scores: %w", err)
	}
	out.Written += removed
	out.DBTime += time.Since(ended)
	return out, nil
}

// refreshChangedScores is the incremental refresh, in one transaction: it
// takes (deletes) the change log's rows it sees, adds the contents with an
// input in [last refresh − 7 days, now − 7 days), re-scores those as of
// now, drops the scores of those that are ended live sessions and records
// now as the refresh time. A change committed after the log was read stays
// logged; one committed before it is visible to the re-scoring statements,
// which run later.
func (db *DB) refreshChangedScores(ctx context.Context, chunk int64) (ScoreRefresh, error) {
	var out ScoreRefresh
	began := time.Now()
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		out = ScoreRefresh{}
		// The re-scoring statements are estimated costly enough for JIT
		// compilation, which took 0.4 s of each 10,000-content statement at
		// 2,000,000 contents (a third of it): their work is index probes.
		if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		// Its statements get scoreRefreshStatementTimeout, not the pool's.
		if _, err := tx.ExecContext(ctx, `SELECT set_config('statement_timeout', $1, true)`,
			strconv.FormatInt(scoreRefreshStatementTimeout.Milliseconds(), 10)); err != nil {
			return err
		}
		var span struct {
			At   time.Time `db:"at"`
			Prev time.Time `db:"prev"`
		}
		if err := tx.GetContext(ctx, &span, `SELECT now() AS at, at AS prev FROM content_scores_refreshed FOR UPDATE`); err != nil {
			return err
		}
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, scoreChangesSQL, span.Prev, span.At); err != nil {
			return err
		}
		out.Scored = int64(len(ids))
		for part := range slices.Chunk(ids, int(chunk)) {
			res, err := tx.ExecContext(ctx, scoreIDsSQL, span.At, DefaultFeedWeights.GPM, DefaultFeedWeights.Engagement, pq.Array(part))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			out.Written += n
			res, err = tx.ExecContext(ctx, `DELETE FROM content_scores s USING contents c
				WHERE s.content_id = ANY($1::bigint[]) AND c.id = s.content_id AND c.kind = 'LIVE' AND c.live_status = 'ENDED'`, pq.Array(part))
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			out.Written += n
		}
		_, err := tx.ExecContext(ctx, `UPDATE content_scores_refreshed SET at = $1`, span.At)
		return err
	})
	if err != nil {
		return ScoreRefresh{}, fmt.Errorf("refresh changed scores: %w", err)
	}
	out.DBTime = time.Since(began)
	return out, nil
}

// scoreChangesSQL takes (deletes) the change log's rows and returns, once
// each and in order, their contents and those with an input in [$1 − 7
// days, $2 − 7 days): the last refresh's time and this one's. The four time
// indexes carry content_id (migration 0033), so finding the leavers reads
// no table row.
const scoreChangesSQL = `WITH taken AS (DELETE FROM content_score_changes RETURNING content_id)
			SELECT content_id FROM taken
			UNION SELECT content_id FROM content_event_counts WHERE bucket >= $1::timestamptz - interval '7 days' AND bucket < $2::timestamptz - interval '7 days'
			UNION SELECT content_id FROM content_likes WHERE created_at >= $1::timestamptz - interval '7 days' AND created_at < $2::timestamptz - interval '7 days'
			UNION SELECT content_id FROM comments WHERE created_at >= $1::timestamptz - interval '7 days' AND created_at < $2::timestamptz - interval '7 days'
			UNION SELECT content_id FROM content_sales WHERE paid_at >= $1::timestamptz - interval '7 days' AND paid_at < $2::timestamptz - interval '7 days'
			ORDER BY 1`

// scoreSQL scores the contents that in(column) selects as of $1, with the
// weights $2 (GPM) and $3 (engagement); in's own parameters start at $4.
// base_score is the anonymous ranking without its recency term (which the
// feed adds at read time from published_at): a live session on air, views
// and likes, 7-day GPM and engagement. It depends on the contents' inputs
// only, not on the time of the refresh, so a content nothing happened to
// keeps its row. Figures are kept to two decimals.
//
// A content's sales are its content_sales rows (migration 0031: one per
// counted order it sold through, self-purchases left out) paid within the
// 7 days, read by (content_id, paid_at): in proportion to the content's
// last week of orders, not to every order line it ever sold (the order
// lines by source content, then their orders by id, read each content's
// whole history on every refresh). The sum adds GMV across currencies as
// before.
func scoreSQL(in func(column string) string) string {
	sales := `LEFT JOIN (SELECT content_id AS id, sum(gmv) AS gmv FROM content_sales
	      WHERE ` + in("content_id") + ` AND paid_at >= $1::timestamptz - interval '7 days' GROUP BY 1) o ON o.id = c.id`
	return `INSERT INTO content_scores AS t (content_id, gpm_7d, engagement_7d, base_score, updated_at)
	SELECT c.id, s.gpm, s.engagement, round((
			CASE WHEN c.kind = 'LIVE' AND c.live_status = 'LIVE' THEN 1000 ELSE 0 END
			+ 6 * ln(1 + c.view_count + 5 * c.like_count)
			+ $2 * ln(1 + s.gpm / 100.0) + $3 * 100 * least(s.engagement, 1))::numeric, 2)::float8, $1::timestamptz
	FROM contents c
	LEFT JOIN (SELECT content_id, sum(views) AS views, sum(shares) AS shares FROM content_event_counts
	      WHERE ` + in("content_id") + ` AND bucket >= $1::timestamptz - interval '7 days' GROUP BY content_id) e ON e.content_id = c.id
	` + sales + `
	LEFT JOIN (SELECT content_id AS id, count(*) AS n FROM content_likes
	      WHERE ` + in("content_id") + ` AND created_at >= $1::timestamptz - interval '7 days' GROUP BY 1) l ON l.id = c.id
	LEFT JOIN (SELECT content_id AS id, count(*) AS n FROM comments
	      WHERE ` + in("content_id") + ` AND created_at >= $1::timestamptz - interval '7 days' GROUP BY 1) cm ON cm.id = c.id
	CROSS JOIN LATERAL (SELECT
		CASE WHEN coalesce(e.views, 0) = 0 THEN 0 ELSE coalesce(o.gmv, 0) * 1000.0 / e.views END AS gpm,
		CASE WHEN coalesce(e.views, 0) = 0 THEN 0
		     ELSE (coalesce(l.n, 0) + coalesce(cm.n, 0) + e.shares)::float8 / e.views END AS engagement) s
	WHERE ` + in("c.id") + ` AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED')
	ON CONFLICT (content_id) DO UPDATE SET gpm_7d = EXCLUDED.gpm_7d, engagement_7d = EXCLUDED.engagement_7d,
		base_score = EXCLUDED.base_score, updated_at = EXCLUDED.updated_at
	WHERE (t.gpm_7d, t.engagement_7d, t.base_score) IS DISTINCT FROM (EXCLUDED.gpm_7d, EXCLUDED.engagement_7d, EXCLUDED.base_score)`
}

// scoreRangeSQL scores the contents with ids in ($4, $5]; scoreIDsSQL
// those in the array $4.
var (
	scoreRangeSQL = scoreSQL(func(col string) string { return col + " > $4 AND " + col + " <= $5" })
	scoreIDsSQL   = scoreSQL(func(col string) string { return col + " = ANY($4::bigint[])" })
)

// RunScoreRefresh refreshes the feed scores every interval until ctx ends
// (RefreshChangedContentScores: one replica at a time, in proportion to
// activity), folds the hours that ended into the all-time figures' totals
// (FoldFigures: once an hour, FiguresFoldLag after it ends), and prunes the
// walks (frozen rankings) older than ListWalkTTL.
func (db *DB) RunScoreRefresh(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		// Each refresh logs its duration and the rows it re-scored and
		// wrote, so that its cost can be watched as data grows.
		start := time.Now()
		if r, err := db.RefreshChangedContentScores(ctx); err != nil && ctx.Err() == nil {
			slog.Error("refresh feed scores", "err", err)
		} else if err == nil && !r.Skipped {
			slog.Info("feed scores refreshed", "duration_ms", time.Since(start).Milliseconds(), "db_ms", r.DBTime.Milliseconds(),
				"full", r.Full, "scored", r.Scored, "written", r.Written)
		}
		if f, err := db.FoldFigures(ctx, time.Now()); err != nil && ctx.Err() == nil {
			slog.Warn("fold figures (retried next tick)", "err", err)
		} else if err == nil && f.Folded {
			slog.Info("figures folded", "from", f.From, "until", f.Until, "hours", f.Steps, "db_ms", f.DBTime.Milliseconds())
		}
		if _, err := db.PruneListWalks(ctx); err != nil && ctx.Err() == nil {
			slog.Error("prune list walks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
