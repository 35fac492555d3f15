package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
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

// RefreshContentScores recomputes every content's 7-day GPM and engagement
// rate, which the feed ranks by, in one transaction.
func (db *DB) RefreshContentScores(ctx context.Context) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM content_scores`); err != nil {
			return fmt.Errorf("clear scores: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO content_scores (content_id, gpm_7d, engagement_7d, base_score)
			SELECT c.id, s.gpm, s.engagement,
				CASE WHEN c.kind = 'LIVE' AND c.live_status = 'LIVE' THEN 1000 ELSE 0 END
				+ 50 / (1 + greatest(extract(epoch FROM (now() - c.published_at)), 0) / 86400.0)
				+ 6 * ln(1 + c.view_count + 5 * c.like_count)
				+ $1 * ln(1 + s.gpm / 100.0) + $2 * 100 * least(s.engagement, 1)
			FROM contents c
			LEFT JOIN (SELECT content_id, sum(views) AS views, sum(shares) AS shares FROM content_event_counts
			      WHERE bucket >= now() - interval '7 days' GROUP BY content_id) e ON e.content_id = c.id
			LEFT JOIN (SELECT source_content_id AS id, sum(total_amount) AS gmv FROM orders
			      WHERE status IN `+paidStatuses+` AND paid_at >= now() - interval '7 days' GROUP BY 1) o ON o.id = c.id
			LEFT JOIN (SELECT content_id AS id, count(*) AS n FROM content_likes
			      WHERE created_at >= now() - interval '7 days' GROUP BY 1) l ON l.id = c.id
			LEFT JOIN (SELECT content_id AS id, count(*) AS n FROM comments
			      WHERE created_at >= now() - interval '7 days' GROUP BY 1) cm ON cm.id = c.id
			CROSS JOIN LATERAL (SELECT
				CASE WHEN coalesce(e.views, 0) = 0 THEN 0 ELSE coalesce(o.gmv, 0) * 1000.0 / e.views END AS gpm,
				CASE WHEN coalesce(e.views, 0) = 0 THEN 0
				     ELSE (coalesce(l.n, 0) + coalesce(cm.n, 0) + e.shares)::float8 / e.views END AS engagement) s
			WHERE c.kind = 'VIDEO' OR c.live_status <> 'ENDED'`, DefaultFeedWeights.GPM, DefaultFeedWeights.Engagement)
		if err != nil {
			return fmt.Errorf("refresh scores: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO content_scores_refreshed (at) VALUES (now())
			ON CONFLICT (only_row) DO UPDATE SET at = EXCLUDED.at`)
		if err != nil {
			return fmt.Errorf("refresh scores: %w", err)
		}
		return nil
	})
}

// RunScoreRefresh refreshes the feed scores every interval until ctx ends.
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
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
