package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// forYouViewerSQL reads, in one statement, what ranking needs of the viewer
// besides the feed index: $1 the profile ("" for none), $2 the user id (0
// for none), $3 now, $4 the walk (0 on a first page), $5 the position in it
// of the last item served. It returns the profile's affinities (as
// "KIND:key" and what each adds to a matching candidate: its kind's
// multiplier × w/(1+|w|)), the interest sources' keys (the five strongest
// tags and categories, creators and shops), the followed creators and
// shops (newest 50 of each), the co-engaged contents and how many peers
// engaged with each, the contents marked not interested and the ones
// watched to the end, how much the profile has engaged with (the seed of
// discovery), and on a next page the walk's items not served yet.
var forYouViewerSQL = `WITH prof AS (` + profileSQL + `),
	aff AS (SELECT kind, key, weight AS w FROM prof WHERE abs(weight) >= 0.01 ORDER BY abs(weight) DESC, kind, key LIMIT 200),
	mine AS (SELECT content_id FROM profile_contents WHERE profile = $1 AND weight > 0 ORDER BY updated_at DESC, content_id DESC LIMIT 20),
	peers AS (
		SELECT DISTINCT p.profile FROM mine CROSS JOIN LATERAL (
			SELECT profile FROM profile_contents pc WHERE pc.content_id = mine.content_id AND pc.weight > 0 AND pc.profile <> $1
			ORDER BY pc.weight DESC LIMIT 20) p
	),
	-- each peer's rows by the primary key (OFFSET 0 keeps the lateral a
	-- nested loop: flattened, it was planned as a hash join over a scan of
	-- every profile's rows, even without peers)
	co AS (
		SELECT pc.content_id AS id, count(*) AS n FROM peers CROSS JOIN LATERAL (
			SELECT content_id FROM profile_contents WHERE profile = peers.profile AND weight > 0 OFFSET 0) pc
		WHERE pc.content_id NOT IN (SELECT content_id FROM mine)
		GROUP BY pc.content_id ORDER BY count(*) DESC, pc.content_id DESC LIMIT :co_engaged_candidates::bigint
	),
	affs AS (SELECT kind || ':' || key AS k, CASE kind WHEN 'TAG' THEN :tag_multiplier WHEN 'CREATOR' THEN :creator_multiplier
			WHEN 'SHOP' THEN :shop_multiplier ELSE :category_multiplier END * w / (1 + abs(w)) AS v FROM aff),
	done AS (SELECT content_id, dismissed FROM profile_contents WHERE profile = $1 AND (dismissed OR completed))
	SELECT ARRAY(SELECT k FROM affs ORDER BY k) AS aff_keys, ARRAY(SELECT v FROM affs ORDER BY k) AS aff_values,
		ARRAY(SELECT DISTINCT key FROM (SELECT key FROM aff WHERE kind IN ('TAG', 'CATEGORY') AND w > 0 ORDER BY w DESC, key LIMIT 5) t) AS src_tags,
		ARRAY(SELECT key::bigint FROM aff WHERE kind = 'CREATOR' AND w > 0 ORDER BY w DESC, key LIMIT 5) AS src_creators,
		ARRAY(SELECT key::bigint FROM aff WHERE kind = 'SHOP' AND w > 0 ORDER BY w DESC, key LIMIT 5) AS src_shops,
		ARRAY(SELECT creator_id FROM follows WHERE follower_id = $2 AND creator_id IS NOT NULL ORDER BY created_at DESC LIMIT 50) AS followed_creators,
		ARRAY(SELECT shop_id FROM follows WHERE follower_id = $2 AND shop_id IS NOT NULL ORDER BY created_at DESC LIMIT 50) AS followed_shops,
		ARRAY(SELECT id FROM co ORDER BY id) AS co_ids, ARRAY(SELECT n FROM co ORDER BY id) AS co_counts,
		ARRAY(SELECT content_id FROM done WHERE dismissed) AS dismissed,
		ARRAY(SELECT content_id FROM done WHERE NOT dismissed) AS completed,
		(SELECT count(*) FROM (SELECT 1 FROM profile_contents WHERE profile = $1 LIMIT 10000) n) AS seed,
		(SELECT ids[$5 + 1:] FROM list_walks WHERE $4::bigint <> 0 AND id = $4 AND viewer_id = $2 AND kind = 'feed') AS tail`

// forYouViewer is forYouViewerSQL's row.
type forYouViewer struct {
	AffKeys          pq.StringArray  `db:"aff_keys"`
	AffValues        pq.Float64Array `db:"aff_values"`
	SrcTags          pq.StringArray  `db:"src_tags"`
	SrcCreators      pq.Int64Array   `db:"src_creators"`
	SrcShops         pq.Int64Array   `db:"src_shops"`
	FollowedCreators pq.Int64Array   `db:"followed_creators"`
	FollowedShops    pq.Int64Array   `db:"followed_shops"`
	CoIDs            pq.Int64Array   `db:"co_ids"`
	CoCounts         pq.Int64Array   `db:"co_counts"`
	Dismissed        pq.Int64Array   `db:"dismissed"`
	Completed        pq.Int64Array   `db:"completed"`
	Seed             int64           `db:"seed"`
	Tail             pq.Int64Array   `db:"tail"`
}

// rankForYou ranks For You candidates for one viewer, best first: on a
// first page (walk 0) candidates from every source (see
// forYouCandidatesSQL), on a next page the walk's items after pos. It
// costs at most one statement (the viewer's state, see viewerState: none
// when f keeps it); candidates and scores come from the feed index,
// scored in Go by the formula of forYouRankSQL. ok is false when the walk
// was not found (a next page).
func (db *DB) rankForYou(ctx context.Context, f *FeedRankings, s *ForYouSettings, w FeedWeights, profile string, viewerID int64, now time.Time, walk int64, pos int64) (items []rankedItem, ok bool, err error) {
	x, err := db.currentFeedIndex()
	if err != nil {
		return nil, false, fmt.Errorf("feed: %w", err)
	}
	v, found, err := db.viewerState(ctx, f, s, profile, viewerID, now, walk, pos)
	if err != nil {
		return nil, false, fmt.Errorf("feed: %w", err)
	}
	if !found {
		return nil, false, nil
	}
	if walk != 0 {
		// The walk was ranked by a process whose index was ahead of this
		// one's (a content published within the lag): catch up, so that
		// the tail keeps every item (a walk never skips one); once only
		// for a content deleted since.
		if err := x.catchUpFor(db, v.Tail); err != nil {
			return nil, false, fmt.Errorf("feed: %w", err)
		}
	}
	return x.rank(s, w, v, now, walk != 0), true, nil
}

// viewerAffinities is a viewer's affinities (forYouViewer.AffKeys and
// AffValues) by kind, as rank looks them up: an entry's keys are its tags,
// its author, its shop and its cards' categories.
type viewerAffinities struct {
	tags, cats      map[string]float64
	creators, shops map[int64]float64
}

// affinitiesOf splits a viewer's "KIND:key" affinities by kind. A key that
// no entry's key can equal (another kind, or a creator or shop that is not
// an id written as FormatInt writes it) is left out: it never matched.
func affinitiesOf(v *forYouViewer) *viewerAffinities {
	if len(v.AffKeys) == 0 {
		return nil
	}
	a := &viewerAffinities{}
	id := func(k string) (int64, bool) {
		n, err := strconv.ParseInt(k, 10, 64)
		return n, err == nil && strconv.FormatInt(n, 10) == k
	}
	for i, k := range v.AffKeys {
		kind, key, ok := strings.Cut(k, ":")
		if !ok || i >= len(v.AffValues) {
			continue
		}
		w := v.AffValues[i]
		switch kind {
		case "TAG":
			if a.tags == nil {
				a.tags = map[string]float64{}
			}
			a.tags[key] = w
		case "CATEGORY":
			if a.cats == nil {
				a.cats = map[string]float64{}
			}
			a.cats[key] = w
		case "CREATOR":
			if n, ok := id(key); ok {
				if a.creators == nil {
					a.creators = map[int64]float64{}
				}
				a.creators[n] = w
			}
		case "SHOP":
			if n, ok := id(key); ok && n != 0 {
				if a.shops == nil {
					a.shops = map[int64]float64{}
				}
				a.shops[n] = w
			}
		}
	}
	return a
}

// affinityMatch is one of an entry's keys that the viewer has an affinity
// for: kind orders as the keys' text does (CATEGORY < CREATOR < SHOP <
// TAG), then key (a tag's or category's text).
type affinityMatch struct {
	kind uint8
	key  string
	w    float64
}

// of sums what the viewer's affinities add to e: each of e's keys counts
// once, summed in the order of the keys' text ("CATEGORY:…", "CREATOR:…",
// "SHOP:…", "TAG:…"), as the SQL ranking and its first Go version did
// (the order moves a float sum's last bit). tags and cats are e's (see
// FeedIndex.tagsOf); buf is scratch.
func (a *viewerAffinities) of(e *feedEntry, tags, cats []string, buf []affinityMatch) float64 {
	m := buf[:0]
	if a.cats != nil {
		for _, g := range cats {
			if w, ok := a.cats[g]; ok {
				m = append(m, affinityMatch{0, g, w})
			}
		}
	}
	if w, ok := a.creators[e.author]; ok {
		m = append(m, affinityMatch{1, "", w})
	}
	if e.shop != 0 {
		if w, ok := a.shops[e.shop]; ok {
			m = append(m, affinityMatch{2, "", w})
		}
	}
	if a.tags != nil {
		for _, t := range tags {
			if w, ok := a.tags[t]; ok {
				m = append(m, affinityMatch{3, t, w})
			}
		}
	}
	if len(m) == 0 {
		return 0
	}
	// a few matches: insertion sort, then each distinct key once
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && (m[j].kind < m[j-1].kind || (m[j].kind == m[j-1].kind && m[j].key < m[j-1].key)); j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
	sum := 0.0
	for i := range m {
		if i > 0 && m[i].kind == m[i-1].kind && m[i].key == m[i-1].key {
			continue
		}
		sum += m[i].w
	}
	return sum
}

// viewerContent is what a viewer's state says of one content.
type viewerContent struct {
	co                   int64 // peers who engaged with it (co-engagement)
	dismissed, completed bool
}

// rankScratch is a ranking's reusable memory: the bitset of the entries
// drawn (by slot) and the candidates' slots.
type rankScratch struct {
	drawn []uint64
	cands []int32
}

var rankScratchPool = sync.Pool{New: func() any { return &rankScratch{} }}

// rank scores the candidates for v (the walk's tail when tail) with the
// formula of forYouRankSQL, best first. All of them are put in order, not
// only those a page's arrangement reaches: a stored walk keeps the items
// after its arrangement in rank order, which a popular or tags page
// continuing it after a FEED_POLICY switch serves as they lie
// (continueFeed).
func (x *FeedIndex) rank(s *ForYouSettings, w FeedWeights, v *forYouViewer, now time.Time, tail bool) []rankedItem {
	nowUs := now.UnixMicro()
	affs := affinitiesOf(v)
	var mine map[int64]viewerContent
	if n := len(v.CoIDs) + len(v.Dismissed) + len(v.Completed); n > 0 {
		mine = make(map[int64]viewerContent, n)
		for i, id := range v.CoIDs {
			c := mine[id]
			c.co = v.CoCounts[i]
			mine[id] = c
		}
		for _, id := range v.Dismissed {
			c := mine[id]
			c.dismissed = true
			mine[id] = c
		}
		for _, id := range v.Completed {
			c := mine[id]
			// completed alone does not leave an item out (a live
			// session on air stays): see below
			c.completed = true
			mine[id] = c
		}
	}

	x.mu.RLock()
	defer x.mu.RUnlock()
	// The candidates, each once: a bit per entry slot says it was drawn.
	sc := rankScratchPool.Get().(*rankScratch)
	words := (int(x.slots) + 63) / 64
	if cap(sc.drawn) < words {
		sc.drawn = make([]uint64, words)
	}
	drawn := sc.drawn[:words]
	cands := sc.cands[:0]
	defer func() {
		for _, slot := range cands {
			drawn[slot>>6] = 0
		}
		sc.cands = cands[:0]
		rankScratchPool.Put(sc)
	}()
	es := x.entries
	// add draws the entry at slot (-1: none) once.
	add := func(slot int32) {
		if slot >= 0 {
			if bit := uint64(1) << (slot & 63); drawn[slot>>6]&bit == 0 {
				drawn[slot>>6] |= bit
				cands = append(cands, slot)
			}
		}
	}
	addFirst := func(l *sortedEntries, n int) {
		if l != nil {
			for _, slot := range l.list[:min(n, len(l.list))] {
				add(slot)
			}
		}
	}
	exploreAge := int64(math.Round(s.ExploreMaxAgeHours * 3600e6))
	if tail {
		for _, id := range v.Tail {
			add(x.slotOf(id))
		}
	} else {
		popular, gpm := x.tops(int(s.PopularCandidates), int(s.GPMCandidates))
		for _, t := range popular {
			add(x.slotOf(t.id)) // the current entry: views may have moved since
		}
		// everything new since the last score refresh
		for _, slot := range x.created.list {
			if es[slot].created < x.refreshed {
				break
			}
			add(slot)
		}
		for _, slot := range x.onAir {
			add(slot)
		}
		for _, id := range v.FollowedCreators {
			addFirst(x.byAuthor[id], 10)
		}
		for _, id := range v.FollowedShops {
			addFirst(x.byShop[id], 10)
		}
		interest := int(s.InterestCandidates)
		for _, t := range v.SrcTags {
			addFirst(x.byTag[t], interest)
		}
		for _, id := range v.SrcCreators {
			addFirst(x.byAuthor[id], interest)
		}
		for _, id := range v.SrcShops {
			addFirst(x.byShop[id], interest)
		}
		for _, id := range v.CoIDs {
			add(x.slotOf(id))
		}
		for _, t := range gpm {
			add(x.slotOf(t.id))
		}
		// fresh with little exposure: published within the age, newest first
		oldest := nowUs - exploreAge
		i, _ := slices.BinarySearchFunc(x.published.list, nowUs, func(slot int32, t int64) int {
			return cmp.Compare(t, es[slot].published) // descending
		})
		for n := 0; i < len(x.published.list) && n < int(s.FreshCandidates); i++ {
			slot := x.published.list[i]
			e := &es[slot]
			if e.published <= oldest {
				break
			}
			if float64(e.views) < s.ExploreMaxViews {
				add(slot)
				n++
			}
		}
	}

	items := make([]rankedItem, 0, len(cands))
	var buf [16]affinityMatch
	freshAfter := nowUs - exploreAge
	for _, slot := range cands {
		e := &es[slot]
		if e.published > nowUs || e.ended {
			continue
		}
		var vc viewerContent
		if mine != nil {
			vc = mine[e.id]
			if vc.dismissed || (vc.completed && !e.isLive) {
				continue
			}
		}
		score := 0.0
		if e.live {
			score += s.Live
		}
		campaign := 0.0
		for _, k := range x.campaignsOf(e) {
			if k.starts <= nowUs && nowUs < k.ends {
				campaign = s.Campaign
				break
			}
		}
		score += campaign
		// each of the profile's affinities counts once per candidate
		a := 0.0
		if affs != nil {
			a = affs.of(e, x.tagsOf(e), x.catsOf(e), buf[:])
		}
		score += s.Affinity * a
		score += s.CoEngagement * math.Min(float64(vc.co)/3.0, 1)
		age := math.Max(float64(nowUs-e.published)/1e6, 0)
		score += s.Freshness / (1 + age/86400.0)
		score += s.Popularity * math.Log(float64(1+e.views+5*e.likes))
		score += w.GPM * math.Log(1+e.gpm/100.0)
		score += w.Engagement * 100 * math.Min(e.eng, 1)
		fresh := e.published > freshAfter && float64(e.views) < s.ExploreMaxViews
		if fresh {
			bonus := s.Explore
			if a > 0 {
				bonus += s.ExploreMatch
			}
			score += bonus
		}
		items = append(items, rankedItem{ID: e.id, AuthorID: e.author, ShopID: e.shop, Fresh: fresh, Matches: a > 0, Avoided: a < 0,
			Score: roundNumeric6(score), Seed: v.Seed})
	}
	return sortRanked(items)
}

// rankKey is what sortRanked orders an item by (its score and id), a
// third of its size, and where the item is.
type rankKey struct {
	topItem
	i int
}

// better orders rank keys best first (score, then id, descending); ids are
// distinct, so no two keys tie.
func better(a, b rankKey) int { return byTopDesc(a.topItem, b.topItem) }

// sortRanked returns items best first (score, then id, descending): it
// sorts small keys and places the items once.
func sortRanked(items []rankedItem) []rankedItem {
	keys := make([]rankKey, len(items))
	for i, it := range items {
		keys[i] = rankKey{topItem{it.Score, it.ID}, i}
	}
	slices.SortFunc(keys, better)
	out := make([]rankedItem, len(items))
	for j, k := range keys {
		out[j] = items[k.i]
	}
	return out
}

// roundNumeric6 is PostgreSQL's round(x::numeric, 6)::float8: x to 15
// significant digits (float8 to numeric), rounded half away from zero to 6
// decimals. It allocates nothing (a ranking calls it per candidate).
func roundNumeric6(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	// Scores' magnitudes: the nearest integer to |x| × 10^6, unless that
	// product lies so near a half that rounding x to 15 significant digits
	// first (by at most 5e-15 of x) or the product's own rounding (2^-53)
	// could move it across; then the digits below decide.
	if ax := math.Abs(x); ax >= 1e-6 && ax < 1e8 {
		y := ax * 1e6
		n := math.Floor(y)
		if f := y - n; math.Abs(f-0.5) > y*1e-14+1e-9 {
			if f > 0.5 {
				n++
			}
			r := n / 1e6
			if x < 0 {
				r = -r
			}
			return r
		}
	}
	// d.dddddddddddddde±XX: 15 significant digits
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], math.Abs(x), 'e', 14, 64)
	exp := 0
	for _, c := range s[18:] {
		exp = exp*10 + int(c-'0')
	}
	if s[17] == '-' {
		exp = -exp
	}
	// the 15 digits: s[0], then s[2:16]; the first one's place is 10^exp
	digit := func(i int) byte {
		if i == 0 {
			return s[0]
		}
		return s[i+1]
	}
	// keep the digits down to 10^-6: how many that is
	keep := exp + 7
	if keep >= 15 {
		r, _ := strconv.ParseFloat(string(s), 64)
		return math.Copysign(r, x)
	}
	if keep < 0 {
		return 0
	}
	n := int64(0)
	for i := range keep {
		n = n*10 + int64(digit(i)-'0')
	}
	if digit(keep) >= '5' {
		n++
	}
	// n has at most 15 digits, below 2^53: float64(n) is exact and the
	// division rounds once, to the float nearest n × 10^-6, as parsing
	// "ne-6" does.
	r := float64(n) / 1e6
	if x < 0 {
		r = -r
	}
	return r
}
