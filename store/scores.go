package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
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

// The score refresh goes through the contents scoreChunk ids at a time,
// and after each chunk rests scoreRefreshRest times as long as the chunk
// took: at 200,000 videos it is about five seconds of PostgreSQL CPU, which
// taken at once left a 2-core machine one core for a minute's busiest
// seconds; spread out it takes at most a quarter of a core.
const (
	scoreChunk       = 10000
	scoreRefreshRest = 3
)

// RefreshContentScores recomputes every content's 7-day GPM and engagement
// rate, which the feed ranks by, as of one moment, a chunk of contents at a
// time. Rows whose figures did not change are not rewritten: base scores
// are kept to two decimals, so an old video's slowly fading recency does
// not rewrite its row every minute.
func (db *DB) RefreshContentScores(ctx context.Context) error {
	return db.refreshContentScores(ctx, scoreChunk, scoreRefreshRest)
}

func (db *DB) refreshContentScores(ctx context.Context, chunk int64, rest time.Duration) error {
	var span struct {
		At    time.Time `db:"at"`
		MaxID int64     `db:"max_id"`
	}
	if err := db.GetContext(ctx, &span, `SELECT now() AS at, coalesce(max(id), 0) AS max_id FROM contents`); err != nil {
		return fmt.Errorf("refresh scores: %w", err)
	}
	for from := int64(0); from < span.MaxID; from += chunk {
		started := time.Now()
		if _, err := db.ExecContext(ctx, refreshScoresSQL, from, from+chunk, span.At, DefaultFeedWeights.GPM, DefaultFeedWeights.Engagement); err != nil {
			return fmt.Errorf("refresh scores of contents %d to %d: %w", from+1, from+chunk, err)
		}
		if from+chunk < span.MaxID {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(rest * time.Since(started)):
			}
		}
	}
	// Live sessions that ended since are no longer ranked; content created
	// since span.At is, without a score, until the next refresh.
	_, err := db.ExecContext(ctx, `WITH ended AS (
			DELETE FROM content_scores s USING contents c
			WHERE c.id = s.content_id AND c.kind = 'LIVE' AND c.live_status = 'ENDED'
		)
		INSERT INTO content_scores_refreshed (at) VALUES ($1)
		ON CONFLICT (only_row) DO UPDATE SET at = EXCLUDED.at`, span.At)
	if err != nil {
		return fmt.Errorf("refresh scores: %w", err)
	}
	return nil
}

// refreshScoresSQL scores the contents with ids in ($1, $2] as of $3, with
// the weights $4 (GPM) and $5 (engagement).
const refreshScoresSQL = `INSERT INTO content_scores AS t (content_id, gpm_7d, engagement_7d, base_score, updated_at)
	SELECT c.id, s.gpm, s.engagement, round((
			CASE WHEN c.kind = 'LIVE' AND c.live_status = 'LIVE' THEN 1000 ELSE 0 END
			+ 50 / (1 + greatest(extract(epoch FROM ($3::timestamptz - c.published_at)), 0) / 86400.0)
			+ 6 * ln(1 + c.view_count + 5 * c.like_count)
			+ $4 * ln(1 + s.gpm / 100.0) + $5 * 100 * least(s.engagement, 1))::numeric, 2)::float8, $3::timestamptz
	FROM contents c
	LEFT JOIN (SELECT content_id, sum(views) AS views, sum(shares) AS shares FROM content_event_counts
	      WHERE content_id > $1 AND content_id <= $2 AND bucket >= $3::timestamptz - interval '7 days' GROUP BY content_id) e ON e.content_id = c.id
	LEFT JOIN (SELECT l.source_content_id AS id, sum(l.total_amount) AS gmv FROM order_lines l JOIN orders o ON o.id = l.order_id
	      WHERE l.source_content_id > $1 AND l.source_content_id <= $2 AND NOT l.self_purchase AND o.status IN ` + paidStatuses + `
	        AND o.paid_at >= $3::timestamptz - interval '7 days' GROUP BY 1) o ON o.id = c.id
	LEFT JOIN (SELECT content_id AS id, count(*) AS n FROM content_likes
	      WHERE content_id > $1 AND content_id <= $2 AND created_at >= $3::timestamptz - interval '7 days' GROUP BY 1) l ON l.id = c.id
	LEFT JOIN (SELECT content_id AS id, count(*) AS n FROM comments
	      WHERE content_id > $1 AND content_id <= $2 AND created_at >= $3::timestamptz - interval '7 days' GROUP BY 1) cm ON cm.id = c.id
	CROSS JOIN LATERAL (SELECT
		CASE WHEN coalesce(e.views, 0) = 0 THEN 0 ELSE coalesce(o.gmv, 0) * 1000.0 / e.views END AS gpm,
		CASE WHEN coalesce(e.views, 0) = 0 THEN 0
		     ELSE (coalesce(l.n, 0) + coalesce(cm.n, 0) + e.shares)::float8 / e.views END AS engagement) s
	WHERE c.id > $1 AND c.id <= $2 AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED')
	ON CONFLICT (content_id) DO UPDATE SET gpm_7d = EXCLUDED.gpm_7d, engagement_7d = EXCLUDED.engagement_7d,
		base_score = EXCLUDED.base_score, updated_at = EXCLUDED.updated_at
	WHERE (t.gpm_7d, t.engagement_7d, t.base_score) IS DISTINCT FROM (EXCLUDED.gpm_7d, EXCLUDED.engagement_7d, EXCLUDED.base_score)`

// RunScoreRefresh refreshes the feed scores every interval until ctx ends,
// and prunes the walks (frozen rankings) older than ListWalkTTL.
func (db *DB) RunScoreRefresh(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		// The refresh is a batch over every content's last 7 days: its
		// duration is logged so that its cost can be watched as data grows.
		start := time.Now()
		if err := db.RefreshContentScores(ctx); err != nil && ctx.Err() == nil {
			slog.Error("refresh feed scores", "err", err)
		} else if err == nil {
			slog.Info("feed scores refreshed", "duration_ms", time.Since(start).Milliseconds())
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
