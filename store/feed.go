package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// FeedArgs selects a page of the feed for a viewer (0 for anonymous).
type FeedArgs struct {
	ViewerID int64
	Weights  FeedWeights
	// Policy is PolicyForYou (also when empty), PolicyPopular or PolicyTags.
	Policy string
	// ForYou weighs the For You ranking (nil: DefaultForYouSettings).
	ForYou *ForYouSettings
	// Profile names the interest profile For You ranks by; empty means the
	// viewer's own (UserProfile), or none for an anonymous viewer.
	Profile string
	// Rankings, when set, reuses a For You first page's arrangement for the
	// same viewer within its TTL (see FeedRankings).
	Rankings *FeedRankings
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

// FeedRecentCandidates is how many of the newest published contents the
// PolicyPopular and PolicyTags feeds also rank per request. The base score
// the candidates are drawn by leaves recency out (so that time passing
// rewrites no score; the feed's formula adds it at read time), so the
// newest contents, which recency favours most, are drawn by age instead.
const FeedRecentCandidates = 100

// Feed returns a page of the ranked content feed: videos and live sessions
// that are scheduled or on air, mixed, ranked by args.Policy: For You (see
// forYou), or, as described below, the fixed formula over the viewer's
// declared tags (PolicyTags) or without them (PolicyPopular).
//
// The first page ranks every candidate as of that moment and stores the
// whole ranking as a walk (one statement either way); the pages after it
// read that ranking back by position, so however views, likes, sales and
// score refreshes move contents meanwhile, a walk never repeats or skips
// one. A live session that ended since the walk began is left out of the
// pages that follow (it is no longer in the feed); nothing else is.
func (db *DB) Feed(ctx context.Context, args FeedArgs) (Page[Content], error) {
	if args.Policy == "" || args.Policy == PolicyForYou {
		return db.forYou(ctx, args)
	}
	if args.After != "" {
		return db.continueFeed(ctx, args)
	}
	var rows []feedRow
	walk := newWalkID()
	err := db.SelectContext(ctx, &rows, `
		WITH v AS (SELECT CASE WHEN $8 THEN NULL ELSE (SELECT interest_tags FROM users WHERE id = $1) END AS tags),
		candidates AS (
			(SELECT content_id AS id FROM content_scores ORDER BY base_score DESC, content_id DESC LIMIT $4)
			UNION (SELECT c.id FROM contents c WHERE c.created_at >= coalesce(
				(SELECT at FROM content_scores_refreshed), '-infinity'::timestamptz))
			UNION (SELECT c.id FROM contents c WHERE c.kind = 'LIVE' AND c.live_status = 'LIVE')
			-- base_score has no recency term: the newest contents are candidates by age
			UNION (SELECT c.id FROM contents c WHERE c.published_at <= $2 ORDER BY c.published_at DESC, c.id DESC LIMIT `+strconv.Itoa(FeedRecentCandidates)+`)
		),
		ranked AS (
			SELECT `+contentColumns+`, `+feedScoreSQL+` AS score
			FROM contents c CROSS JOIN v
			LEFT JOIN LATERAL (SELECT gpm_7d, engagement_7d FROM content_scores WHERE content_id = c.id) cs ON true
			-- an id array makes the planner fetch candidates by primary key
			WHERE c.id = ANY(ARRAY(SELECT id FROM candidates)) AND c.published_at <= $2 AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED')
		),
		walk AS (
			INSERT INTO list_walks (id, viewer_id, kind, ids)
			SELECT $5, $1, 'feed', coalesce(array_agg(id ORDER BY score DESC, id DESC), '{}') FROM ranked
		)
		SELECT `+contentColumns+`, 0 AS pos FROM ranked c ORDER BY c.score DESC, c.id DESC LIMIT $3`,
		args.ViewerID, time.Now().UTC().Truncate(time.Microsecond), args.First+1, FeedCandidates, walk, args.Weights.GPM, args.Weights.Engagement, args.Policy == PolicyPopular)
	if err != nil {
		return Page[Content]{}, fmt.Errorf("feed: %w", err)
	}
	for i := range rows {
		rows[i].Pos = int64(i + 1) // the first page is the walk's head
	}
	return feedPage(rows, walk, args.PageArgs), nil
}

// continueFeed reads the next page of a walk's frozen ranking. The cursor
// may be one of a For You walk (FEED_POLICY changed between its pages, or
// differs between two processes): the row it names then holds the walk's
// positions after cur.Off (a For You next page stores the tail it
// re-ranked as a row of its own), so the page starts at cur.Pos - cur.Off
// in the row, and its cursors keep the offset.
func (db *DB) continueFeed(ctx context.Context, args FeedArgs) (Page[Content], error) {
	cur, err := decodeWalkCursor(args.After)
	if err != nil {
		return Page[Content]{}, err
	}
	var rows []feedRow
	err = db.SelectContext(ctx, &rows, `SELECT `+contentColumns+`, $3 + r.n AS pos
		FROM list_walks w
		CROSS JOIN LATERAL unnest(w.ids[$3::bigint - $5::bigint + 1:]) WITH ORDINALITY AS r(id, n)
		JOIN contents c ON c.id = r.id
		WHERE w.id = $1 AND w.viewer_id = $2 AND w.kind = 'feed' AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED')
		ORDER BY r.n LIMIT $4`, cur.Walk, args.ViewerID, cur.Pos, args.First+1, cur.Off)
	if err != nil {
		return Page[Content]{}, fmt.Errorf("feed: %w", err)
	}
	if len(rows) == 0 {
		if err := db.missingWalk(ctx, cur, args.ViewerID, "feed"); err != nil {
			return Page[Content]{}, err
		}
	}
	return walkPage(rows, walkCursor{Walk: cur.Walk, Off: cur.Off}, args.PageArgs), nil
}

// feedRow is a content with its position in a walk.
type feedRow struct {
	Pos int64 `db:"pos"`
	contentRow
}

// feedPage makes a page of a walk from up to First+1 rows in walk order.
func feedPage(rows []feedRow, walk int64, args PageArgs) Page[Content] {
	return walkPage(rows, walkCursor{Walk: walk}, args)
}

// walkPage makes a page of a walk from up to First+1 rows in walk order,
// whose cursors continue the stored row at.Walk, which holds the walk's
// positions after at.Off.
func walkPage(rows []feedRow, at walkCursor, args PageArgs) Page[Content] {
	items := make([]Content, len(rows))
	pos := make(map[int64]int64, len(rows))
	for i := range rows {
		items[i] = rows[i].content()
		pos[rows[i].ID] = rows[i].Pos
	}
	return newPage(items, args, func(c Content) string {
		return walkCursor{Walk: at.Walk, Pos: pos[c.Base().ID], Off: at.Off}.encode()
	})
}
