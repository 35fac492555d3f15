package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/lib/pq"
)

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

// rankedItem is a candidate with what the diversity rules look at.
type rankedItem struct {
	ID       int64   `db:"id"`
	AuthorID int64   `db:"author_id"`
	ShopID   int64   `db:"shop_id"`
	Fresh    bool    `db:"fresh"`
	Matches  bool    `db:"matches"` // a positive affinity for the viewer
	Avoided  bool    `db:"avoided"` // a negative one
	Score    float64 `db:"score"`
	// Seed varies the discovery slots (Diversify) from one page to the
	// next, deterministically: the same for every item of a ranking.
	Seed int64 `db:"seed"`
}

// forYou answers a page of the For You feed. The first page ranks every
// candidate for the viewer (or reuses the arrangement args.Rankings kept
// for the same viewer within its TTL) and stores the arrangement as a walk; each
// page after it re-ranks the items not served yet for the viewer's profile
// and scores as they are now (so a signal sent meanwhile shows on the next
// page) and stores that back: a walk still never repeats or skips an item.
// Either costs two statements (three at the end of a walk).
func (db *DB) forYou(ctx context.Context, args FeedArgs) (Page[Content], error) {
	s := args.ForYou
	if s == nil {
		s = &DefaultForYouSettings
	}
	profile := args.Profile
	if profile == "" && args.ViewerID != 0 {
		profile = UserProfile(args.ViewerID)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var (
		cur   walkCursor
		items []rankedItem
		err   error
	)
	var (
		order []int64
		ok    bool // the page was served: its arrangement may be reused
	)
	if args.After == "" {
		cur.Walk = newWalkID()
		key := ""
		var gen uint64
		reused := false
		if args.Rankings != nil {
			key = rankingKey(args, profile, s)
			var done func()
			order, gen, reused, done = args.Rankings.get(ctx, key, profile, now)
			defer done()
		}
		if reused {
			return db.forYouPage(ctx, args, cur, order, true)
		}
		err = db.SelectContext(ctx, &items, s.sqlWith(fmt.Sprintf(forYouRankSQL, forYouCandidatesSQL)),
			profile, args.ViewerID, now, args.Weights.GPM, args.Weights.Engagement)
		if err == nil && args.Rankings != nil {
			defer func() {
				if order != nil && ok {
					args.Rankings.put(key, profile, gen, order, now)
				}
			}()
		}
	} else {
		if cur, err = decodeWalkCursor(args.After); err != nil {
			return Page[Content]{}, err
		}
		err = db.SelectContext(ctx, &items, s.sqlWith(fmt.Sprintf(forYouRankSQL, forYouTailSQL)),
			profile, args.ViewerID, now, args.Weights.GPM, args.Weights.Engagement, cur.Walk, cur.Pos)
	}
	if err != nil {
		return Page[Content]{}, fmt.Errorf("feed: %w", err)
	}
	if args.After != "" && len(items) == 0 {
		if err := db.missingWalk(ctx, cur, args.ViewerID, "feed"); err != nil {
			return Page[Content]{}, err
		}
		return feedPage(nil, cur.Walk, args.PageArgs), nil
	}
	// Discovery's order: this profile's own (so that people discover
	// different things), moved by each signal that engaged and by the
	// position in the walk.
	h := fnv.New64a()
	_, _ = h.Write([]byte(profile))
	for i := range items {
		items[i].Seed = int64(h.Sum64()) ^ (items[i].Seed*1_000_003 + cur.Pos)
	}
	order = Diversify(items, args.First, s)
	p, err := db.forYouPage(ctx, args, cur, order, false)
	ok = err == nil
	return p, err
}

// forYouSpare is how many items past a page a first page served from a
// reused arrangement reads, so that live sessions that ended since it was
// ranked can be left out and the page still be full.
const forYouSpare = 5

// forYouPage stores order, the arrangement of the items after cur.Pos, as
// the walk's (a new walk on a first page, the walk's tail after it) and
// returns the page at its head, in one statement. From a reused
// arrangement (reused), live sessions that ended since are left out of
// the page (they stay in the walk, whose later pages leave them out too).
func (db *DB) forYouPage(ctx context.Context, args FeedArgs, cur walkCursor, order []int64, reused bool) (Page[Content], error) {
	n := args.First + 1
	if reused {
		n += forYouSpare
	}
	page := order[:min(len(order), n)]
	var (
		rows []contentRow
		err  error
	)
	if args.After == "" {
		err = db.SelectContext(ctx, &rows, `WITH walk AS (INSERT INTO list_walks (id, viewer_id, kind, ids) VALUES ($1, $2, 'feed', $3))
			SELECT `+contentColumns+` FROM contents c WHERE c.id = ANY($4) AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED' OR NOT $5)`,
			cur.Walk, args.ViewerID, pq.Array(order), pq.Array(page), reused)
	} else {
		err = db.SelectContext(ctx, &rows, `WITH walk AS (UPDATE list_walks SET ids = ids[1:$3] || $4::bigint[] WHERE id = $1 AND viewer_id = $2 AND kind = 'feed')
			SELECT `+contentColumns+` FROM contents c WHERE c.id = ANY($5)`, cur.Walk, args.ViewerID, cur.Pos, pq.Array(order), pq.Array(page))
	}
	if err != nil {
		return Page[Content]{}, fmt.Errorf("feed: %w", err)
	}
	byID := make(map[int64]*contentRow, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	out := make([]feedRow, 0, len(page))
	for i, id := range page {
		if r := byID[id]; r != nil && len(out) < args.First+1 {
			out = append(out, feedRow{Pos: cur.Pos + int64(i) + 1, contentRow: *r})
		}
	}
	return feedPage(out, cur.Walk, args.PageArgs), nil
}

// Diversify arranges ranked items (best first) into pages of pageSize:
// each slot takes the best item left whose author is not the previous
// item's, whose shop has fewer than ShopCapPerPage items on the page, and
// which, if fresh with little exposure, keeps such items within
// ExploreShare of the page. When no item left meets every rule, the rules
// are relaxed in that order (exploration cap, shop cap, author). The
// exploration share is also reserved: every 1/ExploreShare-th slot of a
// page goes to the best fresh item left that matches the viewer's
// interests, if one meets the rules, so new content reaches the people it
// suits even below established favourites; when there is none, the slot
// goes to discovery: an item the viewer has no affinity for either way, picked in an order that the items' Seed shuffles (so pages
// served after different signals or at different positions of a walk
// discover different things). Without discovery a feed only ever shows
// what the viewer already engaged with, and never learns an interest
// that the first pages happened not to show. It returns the items' ids in
// page order.
func Diversify(items []rankedItem, pageSize int, s *ForYouSettings) []int64 {
	if pageSize <= 0 {
		pageSize = 1
	}
	shopCap := int(s.ShopCapPerPage)
	if shopCap <= 0 {
		shopCap = math.MaxInt
	}
	exploreCap := int(math.Floor(s.ExploreShare * float64(pageSize)))
	every := 0 // the reserved exploration slots: every such slot of a page
	if s.ExploreShare > 0 {
		every = int(math.Round(1 / s.ExploreShare))
	}
	left := append([]rankedItem(nil), items...)
	out := make([]int64, 0, len(items))
	shops := map[int64]int{}
	explored := 0
	prevAuthor := int64(-1)
	// A window bounds the search for a slot: past it, the rules give way.
	const window = 200
	for len(left) > 0 {
		if len(out)%pageSize == 0 {
			clear(shops)
			explored = 0
		}
		pick := -1
		if every > 0 && (len(out)%pageSize+1)%every == 0 && explored < exploreCap {
			for i := 0; i < len(left) && i < window; i++ {
				it := left[i]
				if it.Fresh && it.Matches && it.AuthorID != prevAuthor && (it.ShopID == 0 || shops[it.ShopID] < shopCap) {
					pick = i
					break
				}
			}
			if pick < 0 {
				pick = discover(left, prevAuthor, shops, shopCap)
			}
		}
		for pass := 0; pass < 4 && pick < 0; pass++ {
			for i := 0; i < len(left) && i < window; i++ {
				it := left[i]
				if pass < 3 && it.AuthorID == prevAuthor {
					continue
				}
				if pass < 2 && it.ShopID != 0 && shops[it.ShopID] >= shopCap {
					continue
				}
				if pass < 1 && it.Fresh && explored >= exploreCap {
					continue
				}
				pick = i
				break
			}
		}
		it := left[pick]
		left = append(left[:pick], left[pick+1:]...)
		out = append(out, it.ID)
		prevAuthor = it.AuthorID
		if it.ShopID != 0 {
			shops[it.ShopID]++
		}
		if it.Fresh {
			explored++
		}
	}
	return out
}

// discover returns the index in left of the discovery item: among the
// items the viewer has no affinity for either way (neither matching an
// interest nor resembling what they avoided) that meet the author and
// shop rules, the one with the lowest mix of the ranking's seed and its id
// (-1 when there is none). It looks at every item, not only the best
// ranked: content outside what the viewer is known to like ranks by
// popularity alone, and discovery is for what popularity does not show.
func discover(left []rankedItem, prevAuthor int64, shops map[int64]int, shopCap int) int {
	pick, best := -1, uint64(math.MaxUint64)
	for i, it := range left {
		if it.Matches || it.Avoided || it.AuthorID == prevAuthor || (it.ShopID != 0 && shops[it.ShopID] >= shopCap) {
			continue
		}
		if h := mix64(uint64(it.Seed)*0x9e3779b97f4a7c15 ^ uint64(it.ID)); h < best {
			pick, best = i, h
		}
	}
	return pick
}

// mix64 is SplitMix64's finaliser: a well-spread deterministic hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
