package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
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

// learnedContent is what a content a flush learned about teaches: its
// duration (for the share of a view) and its features.
type learnedContent struct {
	ID       int64          `db:"id"`
	Duration sql.NullInt64  `db:"duration_seconds"`
	Tags     pq.StringArray `db:"tags"`
	AuthorID int64          `db:"author_id"`
	ShopID   sql.NullInt64  `db:"shop_id"`
	// Categories are its carded products' categories (first tags), distinct.
	Categories pq.StringArray `db:"categories"`
	// keys are its features as affinity keys ("TAG:skincare", "CREATOR:7").
	keys []string
}

// learnedProduct is what a signal without content teaches: its product's
// shop and category, by product id (Variant 0) or by variant id.
type learnedProduct struct {
	Variant  int64          `db:"variant_id"`
	ID       int64          `db:"id"`
	ShopID   int64          `db:"shop_id"`
	Category sql.NullString `db:"category"`
}

// learnSQL adds a flush's learning to the profiles' affinities (decaying
// the old weights first) and to what each profile did with each content:
// $1 the profiles, $2 each one's new weights (a JSON object of "KIND:key"
// to weight), $3..$7 the profile_contents rows (profile, content, weight,
// completed, dismissed), $8 the moment. Both in the order given.
var learnSQL = `WITH learned AS (
		INSERT INTO interests AS t (profile, weights, updated_at)
		SELECT p, w::jsonb, $8 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(p, w, i) ORDER BY i
		ON CONFLICT (profile) DO UPDATE SET weights = ` + mergeWeightsSQL + `, updated_at = greatest(t.updated_at, EXCLUDED.updated_at)
	)
	INSERT INTO profile_contents AS t (profile, content_id, weight, completed, dismissed, updated_at)
	SELECT p, c, w, co, d, $8 FROM unnest($3::text[], $4::bigint[], $5::float8[], $6::bool[], $7::bool[]) WITH ORDINALITY AS x(p, c, w, co, d, i)
	-- profile_contents has no foreign key (migration 0019): only contents that exist are written
	WHERE EXISTS (SELECT 1 FROM contents WHERE contents.id = x.c) ORDER BY i
	ON CONFLICT (profile, content_id) DO UPDATE SET weight = t.weight + EXCLUDED.weight,
		completed = t.completed OR EXCLUDED.completed, dismissed = t.dismissed OR EXCLUDED.dismissed, updated_at = EXCLUDED.updated_at`

// learn writes a flush's signals in the flush's transaction: one statement
// reads the features of the contents (and products) the signals are about,
// the weights are summed here per profile and feature, and one statement
// writes every profile's row and every profile_contents row, in key order
// so that replicas flushing at once cannot deadlock. A view under
// MinViewShare teaches nothing and writes nothing; a signal about a
// content or product that no longer exists is dropped. It returns the
// profiles it wrote (sorted, each once): only their For You arrangements
// changed.
func (s *ForYouSettings) learn(ctx context.Context, tx *sqlx.Tx, m map[signalKey]*signalSum, at time.Time) ([]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	var contentIDs, productIDs, variantIDs []int64
	seen := map[int64]bool{}
	for k := range m {
		switch {
		case k.contentID != 0:
			if !seen[k.contentID] {
				seen[k.contentID] = true
				contentIDs = append(contentIDs, k.contentID)
			}
		case k.productID != 0:
			productIDs = append(productIDs, k.productID)
		case k.variant != 0:
			variantIDs = append(variantIDs, k.variant)
		}
	}
	contents := map[int64]*learnedContent{}
	if len(contentIDs) > 0 {
		var rows []learnedContent
		if err := tx.SelectContext(ctx, &rows, `SELECT c.id, c.duration_seconds, c.tags, c.author_id, c.shop_id,
				ARRAY(SELECT DISTINCT p.tags[1] FROM content_products cp JOIN products p ON p.id = cp.product_id
					WHERE cp.content_id = c.id AND cardinality(p.tags) > 0) AS categories
			FROM contents c WHERE c.id = ANY($1)`, pq.Array(contentIDs)); err != nil {
			return nil, fmt.Errorf("flush interests: %w", err)
		}
		for i := range rows {
			c := &rows[i]
			c.keys = make([]string, 0, len(c.Tags)+len(c.Categories)+2)
			for _, t := range c.Tags {
				c.keys = append(c.keys, InterestTag+":"+t)
			}
			c.keys = append(c.keys, InterestCreator+":"+strconv.FormatInt(c.AuthorID, 10))
			if c.ShopID.Valid {
				c.keys = append(c.keys, InterestShop+":"+strconv.FormatInt(c.ShopID.Int64, 10))
			}
			for _, cat := range c.Categories {
				c.keys = append(c.keys, InterestCategory+":"+cat)
			}
			contents[c.ID] = c
		}
	}
	products, variants := map[int64]*learnedProduct{}, map[int64]*learnedProduct{}
	if len(productIDs)+len(variantIDs) > 0 {
		var rows []learnedProduct
		if err := tx.SelectContext(ctx, &rows, `SELECT 0::bigint AS variant_id, p.id, p.shop_id, p.tags[1] AS category FROM products p WHERE p.id = ANY($1)
			UNION ALL SELECT v.id, p.id, p.shop_id, p.tags[1] FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = ANY($2)`,
			pq.Array(productIDs), pq.Array(variantIDs)); err != nil {
			return nil, fmt.Errorf("flush interests: %w", err)
		}
		for i := range rows {
			if rows[i].Variant == 0 {
				products[rows[i].ID] = &rows[i]
			} else {
				variants[rows[i].Variant] = &rows[i]
			}
		}
	}

	type pcKey struct {
		profile string
		content int64
	}
	type pcSum struct {
		weight               float64
		completed, dismissed bool
	}
	deltas := map[string]map[string]float64{} // profile -> "KIND:key" -> weight
	pcs := map[pcKey]*pcSum{}
	add := func(profile, key string, w float64) {
		d := deltas[profile]
		if d == nil {
			d = map[string]float64{}
			deltas[profile] = d
		}
		d[key] += w
	}
	for k, v := range m {
		if k.contentID == 0 {
			p := products[k.productID]
			if k.productID == 0 {
				p = variants[k.variant]
			}
			if p == nil || v.weight == 0 {
				continue
			}
			add(k.profile, InterestShop+":"+strconv.FormatInt(p.ShopID, 10), v.weight)
			if p.Category.Valid {
				add(k.profile, InterestCategory+":"+p.Category.String, v.weight)
			}
			continue
		}
		c := contents[k.contentID]
		if c == nil {
			continue // deleted since
		}
		// The share of the content watched: of its duration, of a minute
		// for a live session (or a video without one), at most 1.
		share := 0.0
		if v.watchMs >= 0 {
			d := int64(60)
			if c.Duration.Valid {
				d = c.Duration.Int64
			}
			share = min(float64(v.watchMs)/(float64(max(d, 1))*1000), 1)
		}
		w := v.weight
		if share >= s.MinViewShare {
			w += s.View * share
		}
		completed := share >= s.CompleteShare
		if w != 0 {
			for _, key := range c.keys {
				add(k.profile, key, w)
			}
		}
		pk := pcKey{k.profile, k.contentID}
		pc := pcs[pk]
		if pc == nil {
			pc = &pcSum{}
			pcs[pk] = pc
		}
		pc.weight += w
		pc.completed = pc.completed || completed
		pc.dismissed = pc.dismissed || v.dismissed
	}

	profiles := make([]string, 0, len(deltas))
	for p, d := range deltas {
		for key, w := range d {
			if w == 0 {
				delete(d, key)
			}
		}
		if len(d) > 0 {
			profiles = append(profiles, p)
		}
	}
	slices.Sort(profiles)
	weights := make([]string, len(profiles))
	for i, p := range profiles {
		b, err := json.Marshal(deltas[p])
		if err != nil {
			return nil, fmt.Errorf("flush interests: %w", err)
		}
		weights[i] = string(b)
	}
	keys := make([]pcKey, 0, len(pcs))
	for k, v := range pcs {
		if v.weight >= 1 || v.completed || v.dismissed {
			keys = append(keys, k)
		}
	}
	if len(profiles) == 0 && len(keys) == 0 {
		return nil, nil
	}
	slices.SortFunc(keys, func(a, b pcKey) int {
		return cmp.Or(cmp.Compare(a.profile, b.profile), cmp.Compare(a.content, b.content))
	})
	n := len(keys)
	pcProfiles, pcContents, pcWeights, pcCompleted, pcDismissed := make([]string, n), make([]int64, n), make([]float64, n), make([]bool, n), make([]bool, n)
	for i, k := range keys {
		v := pcs[k]
		pcProfiles[i], pcContents[i], pcWeights[i], pcCompleted[i], pcDismissed[i] = k.profile, k.content, v.weight, v.completed, v.dismissed
	}
	_, err := tx.ExecContext(ctx, s.sqlWith(learnSQL), pq.Array(profiles), pq.Array(weights),
		pq.Array(pcProfiles), pq.Array(pcContents), pq.Array(pcWeights), pq.Array(pcCompleted), pq.Array(pcDismissed), at)
	if err != nil {
		return nil, fmt.Errorf("flush interests: %w", err)
	}
	taught := slices.Clone(profiles)
	for _, k := range keys {
		taught = append(taught, k.profile)
	}
	slices.Sort(taught)
	return slices.Compact(taught), nil
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
	db.profiles.forget('u', userID)
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
