package store

import (
	"context"
	"fmt"
	"time"
)

// feedCursor pins the ranking to the moment the walk began (AsOf), so that
// recency scores do not drift between pages and keyset paging on
// (score, id) never repeats or skips an item.
type feedCursor struct {
	AsOf  time.Time `json:"t"`
	Score string    `json:"s"`
	ID    int64     `json:"i"`
}

// FeedArgs selects a page of the feed for a viewer (0 for anonymous).
type FeedArgs struct {
	ViewerID int64
	Weights  FeedWeights
	PageArgs
}

// Ranking weights. Content that converts (7-day GPM) and engages earns
// more reach, with the configurable FeedWeights. A live session on air outranks everything; each interest
// tag shared with a signed-in viewer is worth as much as a fresh video; views
// count logarithmically so a viral video does not bury the rest.
const feedScoreSQL = `round((
	  CASE WHEN c.kind = 'LIVE' AND c.live_status = 'LIVE' THEN 1000 ELSE 0 END
	+ CASE WHEN v.tags IS NULL THEN 0
	       ELSE 25 * cardinality(ARRAY(SELECT unnest(c.tags) INTERSECT SELECT unnest(v.tags))) END
	+ 50 / (1 + greatest(extract(epoch FROM ($2::timestamptz - c.published_at)), 0) / 86400.0)
	+ CASE WHEN v.tags IS NULL THEN 6 ELSE 2 END * ln(1 + c.view_count + 5 * c.like_count)
	+ $6 * ln(1 + coalesce(cs.gpm_7d, 0) / 100.0)
	+ $7 * 100 * least(coalesce(cs.engagement_7d, 0), 1)
	)::numeric, 6)`

// FeedCandidates is how many contents, by the precomputed base score, the
// feed ranks per request, with everything new since the last refresh and
// every live session on air. Ranking the whole catalogue per request grows
// with it; the best few hundred hold more than anyone scrolls (30 pages of 20).
const FeedCandidates = 600

// Feed returns a page of the ranked content feed: videos and live sessions
// that are scheduled or on air, mixed.
func (db *DB) Feed(ctx context.Context, args FeedArgs) (Page[Content], error) {
	cur := feedCursor{AsOf: time.Now().UTC().Truncate(time.Microsecond)}
	if args.After != "" {
		if err := decodeCursor(args.After, &cur); err != nil {
			return Page[Content]{}, err
		}
	}
	var rows []struct {
		Score string `db:"score"`
		contentRow
	}
	err := db.SelectContext(ctx, &rows, `
		WITH v AS (SELECT (SELECT interest_tags FROM users WHERE id = $1) AS tags),
		candidates AS (
			(SELECT content_id AS id FROM content_scores ORDER BY base_score DESC, content_id DESC LIMIT $8)
			UNION (SELECT c.id FROM contents c WHERE c.created_at >= coalesce(
				(SELECT at FROM content_scores_refreshed), '-infinity'::timestamptz))
			UNION (SELECT c.id FROM contents c WHERE c.kind = 'LIVE' AND c.live_status = 'LIVE')
		),
		ranked AS (
			SELECT `+contentColumns+`, `+feedScoreSQL+` AS score
			FROM contents c CROSS JOIN v
			LEFT JOIN LATERAL (SELECT gpm_7d, engagement_7d FROM content_scores WHERE content_id = c.id) cs ON true
			-- an id array makes the planner fetch candidates by primary key
			WHERE c.id = ANY(ARRAY(SELECT id FROM candidates)) AND c.published_at <= $2 AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED')
		)
		SELECT `+contentColumns+`, c.score::text AS score FROM ranked c
		WHERE $3 = '' OR (c.score, c.id) < ($3::numeric, $4::bigint)
		ORDER BY c.score DESC, c.id DESC
		LIMIT $5`,
		args.ViewerID, cur.AsOf, cur.Score, cur.ID, args.First+1, args.Weights.GPM, args.Weights.Engagement, FeedCandidates)
	if err != nil {
		return Page[Content]{}, fmt.Errorf("feed: %w", err)
	}
	items := make([]Content, len(rows))
	scores := make(map[int64]string, len(rows))
	for i := range rows {
		items[i] = rows[i].content()
		scores[rows[i].ID] = rows[i].Score
	}
	return newPage(items, args.PageArgs, func(c Content) string {
		id := c.Base().ID
		return encodeCursor(feedCursor{AsOf: cur.AsOf, Score: scores[id], ID: id})
	}), nil
}
