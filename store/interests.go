package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Interest kinds: what an affinity is to.
const (
	InterestTag      = "TAG"      // a content hashtag
	InterestCreator  = "CREATOR"  // a content's author (a user id)
	InterestShop     = "SHOP"     // a content's or product's shop (a shop id)
	InterestCategory = "CATEGORY" // a carded product's category (its first tag)
)

// EventNotInterested is an engagement event type: the viewer marked the
// content "not interested". It lowers the viewer's affinity to what the
// content is about and keeps the content out of their For You feed; it adds
// to no counter.
const EventNotInterested = "NOT_INTERESTED"

// Feed policies (FEED_POLICY): how the feed ranks.
const (
	// PolicyForYou ranks candidates from several sources by the viewer's
	// learned interests, quality, freshness and conversion, then
	// diversifies (the default).
	PolicyForYou = "foryou"
	// PolicyPopular ranks by popularity, freshness and conversion only,
	// the same for everyone.
	PolicyPopular = "popular"
	// PolicyTags is the fixed formula over the interest tags a user
	// declared (users.interest_tags), as before learning existed.
	PolicyTags = "tags"
)

// FeedPolicies lists the valid FEED_POLICY values.
var FeedPolicies = []string{PolicyForYou, PolicyPopular, PolicyTags}

// ForYouSettings are the weights of learning and of the For You ranking.
// Every field is a setting (see Settings); scores are in the feed's points,
// where a fresh video is worth 50 and a live session on air 1000.
type ForYouSettings struct {
	// HalfLifeHours is how long an affinity takes to lose half its weight.
	HalfLifeHours float64
	// What each signal adds to the affinity of every feature of the
	// content (tags, author, shop, categories), or of the product (shop,
	// category) for a purchase or cart line without content.
	View, Like, Comment, Share, ProductClick, AddToCart, Purchase, Follow, NotInterested float64
	// MinViewShare is the share of a video that a view must watch to
	// teach anything: a swipe past is no interest.
	MinViewShare float64
	// CompleteShare is the share of a video's duration (live sessions: of
	// a minute) watched that counts as watched to the end; such content is
	// not shown to that viewer again.
	CompleteShare float64
	// DeclaredTag is the affinity of a tag the user declared
	// (users.interest_tags), which does not decay.
	DeclaredTag float64
	// MaxAffinity bounds one affinity's weight, in both directions.
	MaxAffinity float64

	// Affinity is the score of a content per unit of affinity to it: each
	// matching feature adds Affinity × kind multiplier × w/(1+|w|).
	Affinity float64
	// Kind multipliers of Affinity.
	TagMultiplier, CreatorMultiplier, ShopMultiplier, CategoryMultiplier float64
	// CoEngagement is the score of a content that people who engaged with
	// what the viewer engaged with engaged with, at full strength (three
	// such people or more).
	CoEngagement float64
	// Freshness is the score of content published now; it falls as
	// Freshness / (1 + age in days).
	Freshness float64
	// Popularity multiplies ln(1 + views + 5 × likes).
	Popularity float64
	// Live is the score of a live session on air.
	Live float64
	// Campaign is the score of content carrying a product enrolled in a
	// campaign that runs (see Campaigns): small by default, a nudge below
	// freshness, so a campaign never buys a viewer's feed.
	Campaign float64
	// Explore is the score of fresh content with little exposure
	// (published within ExploreMaxAgeHours, fewer than ExploreMaxViews
	// views): cold start for content.
	Explore float64
	// ExploreMatch is added to Explore when the fresh content matches the
	// viewer's interests (a positive affinity): new content reaches first
	// the people it suits.
	ExploreMatch float64
	// ExploreShare bounds the share of each page that such content may
	// take.
	ExploreShare                        float64
	ExploreMaxAgeHours, ExploreMaxViews float64
	// ShopCapPerPage is how many contents of one shop a page may hold
	// (when other shops' content is left to fill it).
	ShopCapPerPage float64
	// Candidate sources' sizes: the most popular, the newest of each of the
	// viewer's strongest tags and categories, of their strongest or
	// followed creators and shops, co-engaged, converting now (GPM) and fresh.
	PopularCandidates, InterestCandidates, CoEngagedCandidates, GPMCandidates, FreshCandidates float64
}

// DefaultForYouSettings are the settings' defaults.
var DefaultForYouSettings = ForYouSettings{
	HalfLifeHours: 7 * 24,
	View:          1, Like: 2, Comment: 2, Share: 3, ProductClick: 2, AddToCart: 3, Purchase: 5, Follow: 4, NotInterested: -6,
	MinViewShare: 0.2, CompleteShare: 0.95, DeclaredTag: 3, MaxAffinity: 100,
	Affinity: 40, TagMultiplier: 1, CreatorMultiplier: 1, ShopMultiplier: 0.5, CategoryMultiplier: 0.5,
	CoEngagement: 20, Freshness: 50, Popularity: 3, Live: 1000, Campaign: 10,
	Explore: 30, ExploreMatch: 60, ExploreShare: 0.2, ExploreMaxAgeHours: 48, ExploreMaxViews: 100,
	ShopCapPerPage:    4,
	PopularCandidates: 400, InterestCandidates: 60, CoEngagedCandidates: 100, GPMCandidates: 50, FreshCandidates: 100,
}

// Setting is one named weight of ForYouSettings, for configuration.
type Setting struct {
	// Env is its environment variable, e.g. FORYOU_LIKE.
	Env string
	// Value points into the settings.
	Value *float64
	// Doc says what it is.
	Doc string
	// Signed settings may be negative.
	Signed bool
}

// Settings lists every weight with its environment variable, for the
// server's configuration and the README's settings table.
func (s *ForYouSettings) Settings() []Setting {
	return []Setting{
		{"FORYOU_HALF_LIFE_HOURS", &s.HalfLifeHours, "hours for an affinity to lose half its weight", false},
		{"FORYOU_VIEW", &s.View, "affinity a view adds, times the share watched", false},
		{"FORYOU_LIKE", &s.Like, "affinity a like adds", false},
		{"FORYOU_COMMENT", &s.Comment, "affinity a comment adds", false},
		{"FORYOU_SHARE", &s.Share, "affinity a share adds", false},
		{"FORYOU_PRODUCT_CLICK", &s.ProductClick, "affinity a product click adds", false},
		{"FORYOU_ADD_TO_CART", &s.AddToCart, "affinity an add to cart adds", false},
		{"FORYOU_PURCHASE", &s.Purchase, "affinity a purchase adds", false},
		{"FORYOU_FOLLOW", &s.Follow, "affinity to a followed creator or shop", false},
		{"FORYOU_NOT_INTERESTED", &s.NotInterested, "affinity NOT_INTERESTED adds (negative lowers)", true},
		{"FORYOU_MIN_VIEW_SHARE", &s.MinViewShare, "share of a video a view must watch to teach anything", false},
		{"FORYOU_COMPLETE_SHARE", &s.CompleteShare, "share of a video watched that counts as watched to the end", false},
		{"FORYOU_DECLARED_TAG", &s.DeclaredTag, "affinity of a declared interest tag", false},
		{"FORYOU_MAX_AFFINITY", &s.MaxAffinity, "bound of one affinity's weight", false},
		{"FORYOU_AFFINITY", &s.Affinity, "score per unit of affinity, w/(1+|w|) per matching feature", false},
		{"FORYOU_TAG_MULTIPLIER", &s.TagMultiplier, "affinity multiplier of tags", false},
		{"FORYOU_CREATOR_MULTIPLIER", &s.CreatorMultiplier, "affinity multiplier of creators", false},
		{"FORYOU_SHOP_MULTIPLIER", &s.ShopMultiplier, "affinity multiplier of shops", false},
		{"FORYOU_CATEGORY_MULTIPLIER", &s.CategoryMultiplier, "affinity multiplier of categories", false},
		{"FORYOU_CO_ENGAGEMENT", &s.CoEngagement, "score of co-engaged content (3 or more people)", false},
		{"FORYOU_FRESHNESS", &s.Freshness, "score of content published now, / (1 + age in days)", false},
		{"FORYOU_POPULARITY", &s.Popularity, "score per ln(1 + views + 5 likes)", false},
		{"FORYOU_LIVE", &s.Live, "score of a live session on air", false},
		{"FORYOU_CAMPAIGN", &s.Campaign, "score of content carrying a product enrolled in a running campaign", false},
		{"FORYOU_EXPLORE", &s.Explore, "score of fresh content with little exposure", false},
		{"FORYOU_EXPLORE_MATCH", &s.ExploreMatch, "more score of such content matching the viewer's interests", false},
		{"FORYOU_EXPLORE_SHARE", &s.ExploreShare, "share of a page fresh low-exposure content may take", false},
		{"FORYOU_EXPLORE_MAX_AGE_HOURS", &s.ExploreMaxAgeHours, "age under which content is fresh, hours", false},
		{"FORYOU_EXPLORE_MAX_VIEWS", &s.ExploreMaxViews, "views under which fresh content has little exposure", false},
		{"FORYOU_SHOP_CAP_PER_PAGE", &s.ShopCapPerPage, "contents of one shop per page", false},
		{"FORYOU_POPULAR_CANDIDATES", &s.PopularCandidates, "candidates from the most popular", false},
		{"FORYOU_INTEREST_CANDIDATES", &s.InterestCandidates, "candidates per strongest tag, category, creator or shop", false},
		{"FORYOU_CO_ENGAGED_CANDIDATES", &s.CoEngagedCandidates, "candidates from co-engagement", false},
		{"FORYOU_GPM_CANDIDATES", &s.GPMCandidates, "candidates converting now (7-day GPM)", false},
		{"FORYOU_FRESH_CANDIDATES", &s.FreshCandidates, "candidates from fresh low-exposure content", false},
	}
}

// Validate reports the first setting out of range.
func (s *ForYouSettings) Validate() error {
	for _, st := range s.Settings() {
		if math.IsNaN(*st.Value) || math.IsInf(*st.Value, 0) || (!st.Signed && *st.Value < 0) {
			return fmt.Errorf("%s must be a finite non-negative number", st.Env)
		}
	}
	if s.HalfLifeHours <= 0 {
		return fmt.Errorf("FORYOU_HALF_LIFE_HOURS must be positive")
	}
	if s.ExploreShare > 1 || s.CompleteShare > 1 || s.MinViewShare > 1 {
		return fmt.Errorf("FORYOU_EXPLORE_SHARE, FORYOU_MIN_VIEW_SHARE and FORYOU_COMPLETE_SHARE are at most 1")
	}
	return nil
}

// sqlWith replaces each :name in query by the setting's value as a
// float8 literal. Settings are numbers fixed at start, so the statement
// text stays one per process (and stays prepared).
func (s *ForYouSettings) sqlWith(query string) string {
	pairs := []string{}
	for _, st := range s.Settings() {
		name := ":" + strings.ToLower(strings.TrimPrefix(st.Env, "FORYOU_"))
		pairs = append(pairs, name, "("+strconv.FormatFloat(*st.Value, 'g', -1, 64)+")::float8")
	}
	// Longer names first, so that :explore does not eat :explore_share.
	type pair struct{ from, to string }
	ps := make([]pair, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		ps = append(ps, pair{pairs[i], pairs[i+1]})
	}
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(len(b.from), len(a.from)) })
	flat := make([]string, 0, len(pairs))
	for _, p := range ps {
		flat = append(flat, p.from, p.to)
	}
	return strings.NewReplacer(flat...).Replace(query)
}

// UserProfile names a person's interest profile.
func UserProfile(userID int64) string { return "user:" + strconv.FormatInt(userID, 10) }

// DeviceProfile names a signed-out device's interest profile.
func DeviceProfile(deviceID string) string { return "device:" + deviceID }

// learns reports whether events of this viewer teach a profile: people's
// and devices' do, apps' and untracked ones do not.
func learns(viewer string) bool {
	return strings.HasPrefix(viewer, "user:") || strings.HasPrefix(viewer, "device:")
}

// Signal is something a viewer did that teaches their profile, besides
// engagement events: a like, a comment, an add to cart, a purchase.
type Signal struct {
	// Profile is UserProfile or DeviceProfile.
	Profile string
	// ContentID is the content it was about (0: none).
	ContentID int64
	// ProductID or VariantID name the product when there is no content.
	ProductID, VariantID int64
	// Weight is what it adds to each affinity (ForYouSettings' Like etc.).
	Weight float64
}

// signalKey aggregates a flush's signals: one row per profile and object.
type signalKey struct {
	profile                       string
	contentID, productID, variant int64
}

// signalSum is what a flush learns about one profile and object.
type signalSum struct {
	weight    float64
	watchMs   int64 // the longest view, -1 without one
	dismissed bool
}

func addSignal(m map[signalKey]*signalSum, k signalKey, weight float64, watchMs int64, dismissed bool) {
	s := m[k]
	if s == nil {
		s = &signalSum{watchMs: -1}
		m[k] = s
	}
	s.weight += weight
	s.watchMs = max(s.watchMs, watchMs)
	s.dismissed = s.dismissed || dismissed
}

// signalOfEvent adds what a counted event teaches.
func (s *ForYouSettings) signalOfEvent(m map[signalKey]*signalSum, e Event) {
	if !learns(e.Viewer) {
		return
	}
	k := signalKey{profile: e.Viewer, contentID: e.ContentID}
	switch e.Type {
	case EventView:
		addSignal(m, k, 0, e.WatchMs, false)
	case EventShare:
		addSignal(m, k, s.Share, -1, false)
	case EventProductClick:
		addSignal(m, k, s.ProductClick, -1, false)
	case EventNotInterested:
		addSignal(m, k, s.NotInterested, -1, true)
	}
}

// decaySQL is the factor by which a weight written at the moment named by
// %[1]s has decayed at the moment named by %[2]s (1 if that is earlier).
func decaySQL(from, to string) string {
	return fmt.Sprintf(`power(2::float8, -least(greatest(extract(epoch FROM %[2]s - %[1]s), 0) / 3600.0 / :half_life_hours, 500))`, from, to)
}

// mergeWeightsSQL is an existing profile's weights (t) decayed to the new
// row's moment (EXCLUDED) plus the new row's weights: each bounded by
// MaxAffinity, the 200 strongest kept, the negligible dropped.
var mergeWeightsSQL = `(SELECT coalesce(jsonb_object_agg(k, w), '{}') FROM (
		SELECT k, least(greatest(sum(w), -:max_affinity), :max_affinity) AS w FROM (
			SELECT key AS k, value::float8 * ` + decaySQL("t.updated_at", "EXCLUDED.updated_at") + ` AS w FROM jsonb_each_text(t.weights)
			UNION ALL SELECT key, value::float8 FROM jsonb_each_text(EXCLUDED.weights)
		) a GROUP BY k HAVING abs(sum(w)) >= 0.001 ORDER BY abs(sum(w)) DESC, k LIMIT 200
	) b)`

// learnSQL adds a flush's signals to the profiles' affinities (decaying
// the old weight first) and to what each profile did with each content.
// $1..$7 are the signals' columns, $8 the moment.
var learnSQL = `WITH s AS (
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::bigint[], $7::bool[])
			AS s(profile, content_id, product_id, variant_id, w, watch_ms, dismissed)
	),
	sc AS (
		SELECT s.profile, c.id AS content_id, c.tags, c.author_id, c.shop_id,
			s.w + CASE WHEN v.share >= :min_view_share THEN :view * v.share ELSE 0 END AS w,
			v.share >= :complete_share AS completed, s.dismissed
		FROM s JOIN contents c ON c.id = s.content_id
		CROSS JOIN LATERAL (SELECT CASE WHEN s.watch_ms < 0 THEN 0
			ELSE least(s.watch_ms / (greatest(coalesce(c.duration_seconds, 60), 1) * 1000.0), 1) END AS share) v
	),
	sp AS (
		SELECT s.profile, p.shop_id, p.tags[1] AS category, s.w
		FROM s JOIN products p ON p.id = coalesce(nullif(s.product_id, 0), (SELECT product_id FROM product_variants WHERE id = s.variant_id))
		WHERE s.content_id = 0
	),
	f AS (
		SELECT profile, 'TAG' AS kind, t AS key, w FROM sc CROSS JOIN LATERAL unnest(sc.tags) t WHERE w <> 0
		UNION ALL SELECT profile, 'CREATOR', author_id::text, w FROM sc WHERE w <> 0
		UNION ALL SELECT profile, 'SHOP', shop_id::text, w FROM sc WHERE shop_id IS NOT NULL AND w <> 0
		UNION ALL SELECT sc.profile, 'CATEGORY', k.cat, sc.w FROM sc CROSS JOIN LATERAL (
			SELECT DISTINCT p.tags[1] AS cat FROM content_products cp JOIN products p ON p.id = cp.product_id
			WHERE cp.content_id = sc.content_id AND cardinality(p.tags) > 0) k WHERE sc.w <> 0
		UNION ALL SELECT profile, 'SHOP', shop_id::text, w FROM sp
		UNION ALL SELECT profile, 'CATEGORY', category, w FROM sp WHERE category IS NOT NULL
	),
	deltas AS (SELECT profile, kind || ':' || key AS k, sum(w) AS w FROM f GROUP BY 1, 2 HAVING sum(w) <> 0),
	learned AS (
		INSERT INTO interests AS t (profile, weights, updated_at)
		SELECT profile, jsonb_object_agg(k, w), $8 FROM deltas GROUP BY profile ORDER BY profile
		ON CONFLICT (profile) DO UPDATE SET weights = ` + mergeWeightsSQL + `, updated_at = greatest(t.updated_at, EXCLUDED.updated_at)
	)
	INSERT INTO profile_contents AS t (profile, content_id, weight, completed, dismissed, updated_at)
	SELECT profile, content_id, sum(w), bool_or(completed), bool_or(dismissed), $8 FROM sc GROUP BY 1, 2
	HAVING sum(w) >= 1 OR bool_or(completed) OR bool_or(dismissed) ORDER BY 1, 2
	ON CONFLICT (profile, content_id) DO UPDATE SET weight = t.weight + EXCLUDED.weight,
		completed = t.completed OR EXCLUDED.completed, dismissed = t.dismissed OR EXCLUDED.dismissed, updated_at = EXCLUDED.updated_at`

// learn writes a flush's signals in the flush's transaction, in key order
// so that replicas flushing at once cannot deadlock.
func (s *ForYouSettings) learn(ctx context.Context, tx *sqlx.Tx, m map[signalKey]*signalSum, at time.Time) error {
	if len(m) == 0 {
		return nil
	}
	keys := make([]signalKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b signalKey) int {
		return cmp.Or(cmp.Compare(a.profile, b.profile), cmp.Compare(a.contentID, b.contentID),
			cmp.Compare(a.productID, b.productID), cmp.Compare(a.variant, b.variant))
	})
	n := len(keys)
	profiles, contents, products, variants := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	weights, watch, dismissed := make([]float64, n), make([]int64, n), make([]bool, n)
	for i, k := range keys {
		v := m[k]
		profiles[i], contents[i], products[i], variants[i] = k.profile, k.contentID, k.productID, k.variant
		weights[i], watch[i], dismissed[i] = v.weight, v.watchMs, v.dismissed
	}
	// The planner overestimates the statement (a lateral per signal) and
	// compiles it with JIT, which took ten times as long as running it.
	if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
		return fmt.Errorf("flush interests: %w", err)
	}
	_, err := tx.ExecContext(ctx, s.sqlWith(learnSQL), pq.Array(profiles), pq.Array(contents), pq.Array(products),
		pq.Array(variants), pq.Array(weights), pq.Array(watch), pq.Array(dismissed), at)
	if err != nil {
		return fmt.Errorf("flush interests: %w", err)
	}
	return nil
}

// Interest is one of a viewer's affinities as of now.
type Interest struct {
	// Kind is InterestTag, InterestCreator, InterestShop or InterestCategory.
	Kind string `db:"kind"`
	// Key is the tag or category, or the creator's user id or the shop's id.
	Key string `db:"key"`
	// Weight is the affinity now, after decay; negative means avoided.
	Weight float64 `db:"weight"`
}

// profileSQL is a profile's affinities as of $3, decayed, with the user's
// declared tags and follows: $1 the profile, $2 the user id (0: none).
var profileSQL = `SELECT kind, key, sum(w) AS weight FROM (
		SELECT split_part(e.key, ':', 1) AS kind, substr(e.key, strpos(e.key, ':') + 1) AS key,
			e.value::float8 * ` + decaySQL("i.updated_at", "$3::timestamptz") + ` AS w
		FROM interests i CROSS JOIN LATERAL jsonb_each_text(i.weights) e WHERE i.profile = $1
		UNION ALL SELECT 'TAG', t, :declared_tag FROM users CROSS JOIN LATERAL unnest(interest_tags) t WHERE id = $2
		UNION ALL SELECT 'CREATOR', creator_id::text, :follow FROM follows WHERE follower_id = $2 AND creator_id IS NOT NULL
		UNION ALL SELECT 'SHOP', shop_id::text, :follow FROM follows WHERE follower_id = $2 AND shop_id IS NOT NULL
	) a GROUP BY kind, key`

// Interests returns the user's strongest affinities now (at most first,
// strongest first; ties by kind and key), learned, declared and followed.
func (db *DB) Interests(ctx context.Context, s *ForYouSettings, userID int64, first int) ([]Interest, error) {
	var out []Interest
	err := db.SelectContext(ctx, &out, s.sqlWith(`SELECT * FROM (`+profileSQL+`) p WHERE abs(weight) >= 0.001
		ORDER BY weight DESC, kind, key LIMIT $4`), UserProfile(userID), userID, time.Now().UTC(), first)
	if err != nil {
		return nil, fmt.Errorf("interests: %w", err)
	}
	return out, nil
}

// ResetInterests forgets what the user's profile learned and the tags
// they declared; follows stay (unfollow changes those), and so do the
// contents they watched to the end or marked not interested.
func (db *DB) ResetInterests(ctx context.Context, userID int64) error {
	_, err := db.ExecContext(ctx, `WITH a AS (DELETE FROM interests WHERE profile = $1),
		b AS (UPDATE profile_contents SET weight = 0 WHERE profile = $1 AND weight <> 0)
		UPDATE users SET interest_tags = '{}' WHERE id = $2 AND interest_tags <> '{}'`, UserProfile(userID), userID)
	if err != nil {
		return fmt.Errorf("reset interests: %w", err)
	}
	return nil
}

// MergeDeviceProfile moves what a signed-out device learned into the
// user's profile (adding weights, each decayed to now) and empties the
// device's; merging an unknown or already merged device changes nothing.
func (db *DB) MergeDeviceProfile(ctx context.Context, s *ForYouSettings, deviceID string, userID int64) error {
	_, err := db.ExecContext(ctx, s.sqlWith(`WITH moved AS (DELETE FROM interests WHERE profile = $1 RETURNING weights, updated_at),
		merged AS (
			INSERT INTO interests AS t (profile, weights, updated_at)
			SELECT $2, (SELECT coalesce(jsonb_object_agg(key, value::float8 * `+decaySQL("moved.updated_at", "$3::timestamptz")+`), '{}')
				FROM jsonb_each_text(moved.weights)), $3 FROM moved
			ON CONFLICT (profile) DO UPDATE SET weights = `+mergeWeightsSQL+`, updated_at = greatest(t.updated_at, EXCLUDED.updated_at)
		),
		done AS (DELETE FROM profile_contents WHERE profile = $1 RETURNING content_id, weight, completed, dismissed)
		INSERT INTO profile_contents AS t (profile, content_id, weight, completed, dismissed, updated_at)
		SELECT $2, content_id, weight, completed, dismissed, $3 FROM done ORDER BY content_id
		ON CONFLICT (profile, content_id) DO UPDATE SET weight = t.weight + EXCLUDED.weight,
			completed = t.completed OR EXCLUDED.completed, dismissed = t.dismissed OR EXCLUDED.dismissed, updated_at = EXCLUDED.updated_at`),
		DeviceProfile(deviceID), UserProfile(userID), time.Now().UTC())
	if err != nil {
		return fmt.Errorf("merge device profile: %w", err)
	}
	return nil
}
