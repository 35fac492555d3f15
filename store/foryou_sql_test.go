package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"
)

// The For You ranking as one SQL statement, as it ran before ranking moved
// to Go (store/foryou_rank.go over the feed index): kept as the oracle of
// TestForYouRankingMatchesSQL.

// forYouRankSQL scores candidate contents for one viewer: $1 the profile
// ("" for none), $2 the user id (0 for none), $3 now, $4 and $5 the GPM and
// engagement weights (FeedWeights). It is completed with the candidates'
// CTE (named cand, one id column) and returns id, author_id, shop_id, fresh
// and score, best first. Videos the viewer watched to the end, contents they
// marked not interested, scheduled in the future or ended are left out (a
// live session on air has no end to watch to: it stays however long it was
// watched).
var forYouRankSQL = `WITH prof AS (` + profileSQL + `),
	aff AS (SELECT kind, key, weight AS w FROM prof WHERE abs(weight) >= 0.01 ORDER BY abs(weight) DESC, kind, key LIMIT 200),
	mine AS (SELECT content_id FROM profile_contents WHERE profile = $1 AND weight > 0 ORDER BY updated_at DESC, content_id DESC LIMIT 20),
	peers AS (
		SELECT DISTINCT p.profile FROM mine CROSS JOIN LATERAL (
			SELECT profile FROM profile_contents pc WHERE pc.content_id = mine.content_id AND pc.weight > 0 AND pc.profile <> $1
			ORDER BY pc.weight DESC LIMIT 20) p
	),
	-- each peer's rows by the primary key (profile, content_id), not a scan of every profile's
	co AS (
		SELECT pc.content_id AS id, count(*) AS n FROM peers CROSS JOIN LATERAL (
			SELECT content_id FROM profile_contents WHERE profile = peers.profile AND weight > 0) pc
		WHERE pc.content_id NOT IN (SELECT content_id FROM mine)
		GROUP BY pc.content_id ORDER BY count(*) DESC, pc.content_id DESC LIMIT :co_engaged_candidates::bigint
	),
	%s,
	-- the candidates that may be served, read once
	base AS (
		SELECT c.id, c.kind, c.live_status, c.author_id, c.shop_id, c.tags, c.card_categories, c.published_at, c.view_count, c.like_count FROM contents c
		-- an id array makes the planner fetch candidates by primary key
		WHERE c.id = ANY(ARRAY(SELECT DISTINCT id FROM cand)) AND c.published_at <= $3 AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED')
			AND NOT EXISTS (SELECT 1 FROM profile_contents pc WHERE pc.profile = $1 AND pc.content_id = c.id AND (pc.dismissed OR (pc.completed AND c.kind = 'VIDEO')))
	),
	-- co-engagement counts by content as one map, and the profile's affinities as
	-- one map from kind:key to what each adds (its weight w as multiplier × w /
	-- (1 + |w|)): scoring a candidate is a lookup per key of its own, whatever
	-- plan the statement gets (joins with these small sets were planned as a
	-- scan of the set per candidate)
	comap AS (SELECT coalesce(jsonb_object_agg(id::text, n), '{}') AS m FROM co),
	affmap AS (
		SELECT coalesce(jsonb_object_agg(kind || ':' || key, CASE kind WHEN 'TAG' THEN :tag_multiplier WHEN 'CREATOR' THEN :creator_multiplier
				WHEN 'SHOP' THEN :shop_multiplier ELSE :category_multiplier END * w / (1 + abs(w))), '{}') AS m FROM aff
	),
	ranked AS (
		SELECT c.id, c.author_id, coalesce(c.shop_id, 0) AS shop_id, x.fresh, af.a > 0 AS matches, af.a < 0 AS avoided, round((
			  CASE WHEN c.kind = 'LIVE' AND c.live_status = 'LIVE' THEN :live ELSE 0 END
			-- (the first test runs once per statement: no candidate looks at its cards while no campaign runs)
			+ CASE WHEN EXISTS (SELECT 1 FROM campaigns k WHERE k.starts_at <= $3 AND $3 < k.ends_at)
				AND EXISTS (SELECT 1 FROM content_products cp JOIN campaign_variants cv ON cv.product_id = cp.product_id
				JOIN campaigns k ON k.id = cv.campaign_id WHERE cp.content_id = c.id AND k.starts_at <= $3 AND $3 < k.ends_at) THEN :campaign ELSE 0 END
			+ :affinity * af.a
			+ :co_engagement * least(coalesce((comap.m ->> c.id::text)::bigint, 0) / 3.0, 1)
			+ :freshness / (1 + greatest(extract(epoch FROM ($3::timestamptz - c.published_at)), 0) / 86400.0)
			+ :popularity * ln(1 + c.view_count + 5 * c.like_count)
			+ $4 * ln(1 + coalesce(cs.gpm_7d, 0) / 100.0)
			+ $5 * 100 * least(coalesce(cs.engagement_7d, 0), 1)
			+ CASE WHEN x.fresh THEN :explore + CASE WHEN af.a > 0 THEN :explore_match ELSE 0 END ELSE 0 END)::numeric, 6)::float8 AS score
		FROM base c
		LEFT JOIN content_scores cs ON cs.content_id = c.id
		CROSS JOIN comap
		CROSS JOIN LATERAL (SELECT c.published_at > $3::timestamptz - :explore_max_age_hours * interval '1 hour'
			AND c.view_count < :explore_max_views AS fresh) x
		CROSS JOIN affmap
		-- each of the profile's affinities counts once per candidate: its tags, creator,
		-- shop and its cards' categories (contents.card_categories, kept current by
		-- triggers on content_products and products: migration 0024)
		CROSS JOIN LATERAL (SELECT coalesce(sum((affmap.m ->> k.key)::float8), 0) AS a FROM (
			SELECT 'TAG:' || t AS key FROM unnest(c.tags) t
			UNION SELECT 'CREATOR:' || c.author_id
			UNION SELECT 'SHOP:' || c.shop_id WHERE c.shop_id IS NOT NULL
			UNION SELECT 'CATEGORY:' || g FROM unnest(c.card_categories) g) k) af
	)
	SELECT id, author_id, shop_id, fresh, matches, avoided, score,
		-- what the viewer's profile has engaged with so far: it varies the discovery slots from page to page
		(SELECT count(*) FROM (SELECT 1 FROM profile_contents WHERE profile = $1 LIMIT 10000) n) AS seed
	FROM ranked ORDER BY score DESC, id DESC`

// forYouCandidatesSQL draws a first page's candidates from every source:
// the most popular, everything new since the last score refresh, live
// sessions on air, the newest of followed creators and shops, of the
// viewer's strongest tags and categories, creators and shops, co-engaged
// content, content converting now, and fresh content with little exposure.
const forYouCandidatesSQL = `cand AS (
		(SELECT content_id AS id FROM content_scores ORDER BY base_score DESC, content_id DESC LIMIT :popular_candidates::bigint)
		UNION ALL (SELECT id FROM contents WHERE created_at >= coalesce((SELECT at FROM content_scores_refreshed), '-infinity'::timestamptz))
		UNION ALL (SELECT id FROM contents WHERE kind = 'LIVE' AND live_status = 'LIVE')
		UNION ALL (SELECT x.id FROM (SELECT creator_id FROM follows WHERE follower_id = $2 AND creator_id IS NOT NULL ORDER BY created_at DESC LIMIT 50) f
			CROSS JOIN LATERAL (SELECT id FROM contents WHERE author_id = f.creator_id ORDER BY id DESC LIMIT 10) x)
		UNION ALL (SELECT x.id FROM (SELECT shop_id FROM follows WHERE follower_id = $2 AND shop_id IS NOT NULL ORDER BY created_at DESC LIMIT 50) f
			CROSS JOIN LATERAL (SELECT id FROM contents WHERE shop_id = f.shop_id ORDER BY id DESC LIMIT 10) x)
		UNION ALL (SELECT x.id FROM (SELECT DISTINCT key FROM (SELECT key FROM aff WHERE kind IN ('TAG', 'CATEGORY') AND w > 0 ORDER BY w DESC, key LIMIT 5) t0) t
			CROSS JOIN LATERAL (SELECT id FROM contents WHERE tags @> ARRAY[t.key] ORDER BY published_at DESC, id DESC LIMIT :interest_candidates::bigint) x)
		UNION ALL (SELECT x.id FROM (SELECT key::bigint AS author FROM aff WHERE kind = 'CREATOR' AND w > 0 ORDER BY w DESC, key LIMIT 5) t
			CROSS JOIN LATERAL (SELECT id FROM contents WHERE author_id = t.author ORDER BY id DESC LIMIT :interest_candidates::bigint) x)
		UNION ALL (SELECT x.id FROM (SELECT key::bigint AS shop FROM aff WHERE kind = 'SHOP' AND w > 0 ORDER BY w DESC, key LIMIT 5) t
			CROSS JOIN LATERAL (SELECT id FROM contents WHERE shop_id = t.shop ORDER BY id DESC LIMIT :interest_candidates::bigint) x)
		UNION ALL (SELECT id FROM co)
		UNION ALL (SELECT content_id FROM content_scores WHERE gpm_7d > 0 ORDER BY gpm_7d DESC, content_id DESC LIMIT :gpm_candidates::bigint)
		UNION ALL (SELECT id FROM contents WHERE published_at > $3::timestamptz - :explore_max_age_hours * interval '1 hour' AND published_at <= $3
			AND view_count < :explore_max_views ORDER BY published_at DESC, id DESC LIMIT :fresh_candidates::bigint)
	)`

// forYouTailSQL takes as candidates the items of a walk not served yet:
// $6 the walk, $7 the position of the last item served.
const forYouTailSQL = `cand AS (
		SELECT unnest(ids[$7 + 1:]) AS id FROM list_walks WHERE id = $6 AND viewer_id = $2 AND kind = 'feed'
	)`

// RankedItem is a ranked candidate, for tests.
type RankedItem = rankedItem

// ForYouRankedBySQL ranks a first page's candidates (walk 0) or a walk's
// tail with the SQL oracle, best first.
func (db *DB) ForYouRankedBySQL(ctx context.Context, s *ForYouSettings, w FeedWeights, profile string, viewerID int64, now time.Time, walk, pos int64) ([]RankedItem, error) {
	var items []rankedItem
	var err error
	if walk == 0 {
		err = db.SelectContext(ctx, &items, s.sqlWith(fmt.Sprintf(forYouRankSQL, forYouCandidatesSQL)),
			profile, viewerID, now, w.GPM, w.Engagement)
	} else {
		err = db.SelectContext(ctx, &items, s.sqlWith(fmt.Sprintf(forYouRankSQL, forYouTailSQL)),
			profile, viewerID, now, w.GPM, w.Engagement, walk, pos)
	}
	return items, err
}

// ForYouRankedInGo ranks as the feed does, from the feed index.
func (db *DB) ForYouRankedInGo(ctx context.Context, s *ForYouSettings, w FeedWeights, profile string, viewerID int64, now time.Time, walk, pos int64) ([]RankedItem, error) {
	items, _, err := db.rankForYou(ctx, nil, s, w, profile, viewerID, now, walk, pos)
	return items, err
}

// ForYouArrangement is the arrangement of ranked items as the feed makes it
// for a profile at walk position pos.
func ForYouArrangement(items []RankedItem, profile string, pos int64, pageSize int, s *ForYouSettings) []int64 {
	items = append([]rankedItem(nil), items...)
	h := fnv.New64a()
	_, _ = h.Write([]byte(profile))
	for i := range items {
		items[i].Seed = int64(h.Sum64()) ^ (items[i].Seed*1_000_003 + pos)
	}
	return Diversify(items, pageSize, s)
}

// FeedIndexLoads returns how many times the handle's feed index loaded in full.
func (db *DB) FeedIndexLoads() int {
	x := db.FeedIndex()
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.loads
}

// FeedIndexViews returns a content's view count as the handle's feed index
// holds it, and whether it holds the content, without catching up.
func (db *DB) FeedIndexViews(id int64) (int64, bool) {
	x := db.FeedIndex()
	x.mu.RLock()
	defer x.mu.RUnlock()
	e := x.entry(id)
	if e == nil {
		return 0, false
	}
	return e.views, true
}

// FeedIndexAt is when the snapshot the handle's feed index last caught up
// from began (its catch-up's start: the snapshot is taken after it).
func (db *DB) FeedIndexAt() time.Time {
	x := db.FeedIndex()
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.at
}

// HoldFeedIndexCatchUps keeps the handle's feed index from loading or
// catching up until the returned function is called.
func (db *DB) HoldFeedIndexCatchUps() (release func()) {
	x := db.FeedIndex()
	x.catchUp.Lock()
	return x.catchUp.Unlock
}

// CatchUpFeedIndex brings the handle's feed index up to date now.
func (db *DB) CatchUpFeedIndex() error {
	_, err := db.currentFeedIndex()
	return err
}

// FeedIndexApplySynthetic fills a fresh index with n synthetic contents
// (a few tags and categories from small vocabularies, a campaign on one in
// five), for the memory benchmark.
func FeedIndexApplySynthetic(n int) *FeedIndex {
	x := newFeedIndex()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.reset()
	tags := []string{"beauty", "home", "garden", "tech", "fashion", "food", "travel", "fitness", "gaming", "music"}
	for i := range n {
		r := feedIndexRow{ID: int64(i + 1), Author: int64(i % 5000), Shop: int64(i % 700), Tags: []string{tags[i%10], tags[(i/10)%10]},
			Cats: []string{tags[(i/3)%10]}, Published: int64(i) * 1e6, Created: int64(i) * 1e6, Views: int64(i % 9000), Likes: int64(i % 300),
			Scored: true, Base: float64(i % 1000), GPM: float64(i % 7)}
		if i%5 == 0 {
			r.CampStarts, r.CampEnds = []int64{1}, []int64{2}
		}
		x.apply(&r, true)
	}
	x.sortAll()
	return x
}
