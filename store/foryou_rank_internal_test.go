package store

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// roundNumeric6ByStrings is roundNumeric6 as it was first written (through
// strings, allocating per call): the oracle of TestRoundNumeric6.
func roundNumeric6ByStrings(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	s := strconv.FormatFloat(math.Abs(x), 'e', 14, 64)
	exp, _ := strconv.Atoi(s[17:])
	digits := []byte(s[:1] + s[2:16])
	keep := exp + 7
	if keep >= len(digits) {
		r, _ := strconv.ParseFloat(s, 64)
		return math.Copysign(r, x)
	}
	if keep < 0 {
		return 0
	}
	up := digits[keep] >= '5'
	digits = digits[:keep]
	n := int64(0)
	for _, d := range digits {
		n = n*10 + int64(d-'0')
	}
	if up {
		n++
	}
	r, _ := strconv.ParseFloat(strconv.FormatInt(n, 10)+"e-6", 64)
	if x < 0 {
		r = -r
	}
	return r
}

// rank (a bitset of candidates by slot, affinities by kind, no allocation
// per candidate) ranks exactly as rankByMaps, its first version, on a
// synthetic index: for the anonymous viewer, learned viewers, a viewer
// whose keys no entry has ("CREATOR:007", "SHOP:0", another kind),
// contents with repeated tags and categories, on first pages and walk
// tails, and after changes that reuse entry slots (contents gone, new ones,
// moved ones).
func TestRankMatchesRankByMaps(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	nowUs := now.UnixMicro()
	x := syntheticFeedIndex(40_000, now)
	s := &DefaultForYouSettings
	w := FeedWeights{GPM: 8, Engagement: 2}
	x.mu.Lock()
	for i := range 300 {
		// repeated tags and categories; a category named as a tag
		id := int64(50_000 + i)
		r := feedIndexRow{ID: id, Author: 1 + int64(i%7), Shop: int64(i % 3), Tags: []string{"beauty1", "beauty1", "tech2"},
			Cats: []string{"beauty", "beauty1", "beauty"}, Published: nowUs - int64(i)*60e6, Created: nowUs - int64(i)*60e6,
			Views: int64(i % 150), Likes: 1, Scored: i%2 == 0, Base: float64(i), GPM: float64(i % 5), Eng: 0.05}
		x.apply(&r, false)
	}
	x.mu.Unlock()
	viewers := []*forYouViewer{{}, {Seed: 3}}
	for i := range 24 {
		viewers = append(viewers, syntheticViewer(x, s, uint64(100+i)))
	}
	odd := syntheticViewer(x, s, 999)
	odd.AffKeys = append(odd.AffKeys, "CREATOR:007", "SHOP:0", "FOO:beauty1", "TAG", "CATEGORY:beauty1", "TAG:beauty1", "CREATOR:3", "SHOP:1", "CREATOR:3")
	odd.AffValues = append(odd.AffValues, 5, 5, 5, 5, 0.25, 0.5, -0.75, 0.125, 0.3)
	odd.SrcTags = append(odd.SrcTags, "beauty1")
	viewers = append(viewers, odd)
	check := func(what string) {
		t.Helper()
		for i, v := range viewers {
			want := x.rankByMaps(s, w, v, now, false)
			got := x.rank(s, w, v, now, false)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, viewer %d: rank differs from rankByMaps (%d and %d candidates)", what, i, len(got), len(want))
			}
			arr := Diversify(got, 20, s)
			tv := *v
			tv.Tail = arr[min(20, len(arr)):]
			if want, got := x.rankByMaps(s, w, &tv, now, true), x.rank(s, w, &tv, now, true); !slices.Equal(got, want) {
				t.Fatalf("%s, viewer %d: the tail's rank differs from rankByMaps", what, i)
			}
		}
	}
	check("loaded")
	// Contents gone, new ones (taking the freed slots), moved ones.
	x.mu.Lock()
	for id := int64(1); id <= 2000; id += 7 {
		x.apply(&feedIndexRow{ID: id, LiveStatus: "GONE"}, false)
	}
	for i := range 500 {
		x.apply(&feedIndexRow{ID: int64(60_000 + i), Author: int64(1 + i%50), Shop: int64(i % 10), Tags: []string{"home2"}, Cats: []string{"home"},
			Published: nowUs - int64(i)*1e6, Created: nowUs - int64(i)*1e6, Views: int64(i), Scored: true, Base: float64(2000 + i)}, false)
	}
	for id := int64(3000); id < 3400; id++ {
		e := x.entry(id)
		x.apply(&feedIndexRow{ID: id, Author: e.author + 1, Shop: e.shop, Tags: x.tagsOf(e), Cats: x.catsOf(e), Published: e.published, Created: e.created,
			Views: e.views + 5, Likes: e.likes, Scored: true, Base: e.base * 2, GPM: e.gpm, Eng: e.eng}, false)
	}
	x.mu.Unlock()
	check("after changes")
	slots := map[int32]int64{}
	for id, slot := range x.byID {
		e := &x.entries[slot]
		if e.id != id || e.slot != slot {
			t.Fatalf("content %d: the entry at its slot %d is content %d's, of slot %d", id, slot, e.id, e.slot)
		}
		if e.slot < 0 || e.slot >= x.slots {
			t.Fatalf("content %d: slot %d out of [0, %d)", id, e.slot, x.slots)
		}
		if other, dup := slots[e.slot]; dup {
			t.Fatalf("contents %d and %d share slot %d", id, other, e.slot)
		}
		slots[e.slot] = id
	}
}

// roundNumeric6 (no allocation) rounds every value as the string version
// did: scores of every magnitude, halves at the 7th decimal, tiny and huge
// values, negatives.
func TestRoundNumeric6(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	values := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), 1, -1, 0.0000005, 0.0000004999, -0.0000005, 1.2345675,
		2.5e-7, 123456789.1234567, 1e15, 1e20, -3e30, 1e-300, 5e-324, math.MaxFloat64, 999.9999995, 0.1 + 0.2}
	for range 200_000 {
		v := (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(24)-10))
		values = append(values, v, math.Round(v*1e7)/1e7, float64(rng.Int64N(1e12))/1e7+5e-8)
	}
	for _, v := range values {
		got, want := roundNumeric6(v), roundNumeric6ByStrings(v)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("roundNumeric6(%v) = %v, want %v", v, got, want)
		}
	}
	if got := roundNumeric6(math.NaN()); !math.IsNaN(got) {
		t.Fatalf("roundNumeric6(NaN) = %v", got)
	}
	if n := testing.AllocsPerRun(100, func() { roundNumeric6(1234.5678915) }); n != 0 {
		t.Fatalf("roundNumeric6 allocates %v times", n)
	}
}

// rankByMaps is rank as it was first written (a map of candidates, a key
// string per affinity looked up, the string roundNumeric6): the oracle of
// TestRankMatchesRankByMaps. It scores the candidates for v (the walk's tail when tail) with the
// formula of forYouRankSQL, best first.
func (x *FeedIndex) rankByMaps(s *ForYouSettings, w FeedWeights, v *forYouViewer, now time.Time, tail bool) []rankedItem {
	nowUs := now.UnixMicro()
	affs := make(map[string]float64, len(v.AffKeys))
	for i, k := range v.AffKeys {
		affs[k] = v.AffValues[i]
	}
	co := make(map[int64]int64, len(v.CoIDs))
	for i, id := range v.CoIDs {
		co[id] = v.CoCounts[i]
	}
	dismissed := make(map[int64]bool, len(v.Dismissed)+len(v.Completed))
	completed := make(map[int64]bool, len(v.Completed))
	for _, id := range v.Dismissed {
		dismissed[id] = true
	}
	for _, id := range v.Completed {
		completed[id] = true
	}

	x.mu.RLock()
	defer x.mu.RUnlock()
	seen := make(map[int64]*feedEntry, 1500)
	add := func(e *feedEntry) {
		if e != nil {
			seen[e.id] = e
		}
	}
	addFirst := func(l *sortedEntries, n int) {
		if l != nil {
			for _, slot := range l.list[:min(n, len(l.list))] {
				add(&x.entries[slot])
			}
		}
	}
	if tail {
		for _, id := range v.Tail {
			add(x.entry(id))
		}
	} else {
		popular, gpm := x.tops(int(s.PopularCandidates), int(s.GPMCandidates))
		for _, e := range popular {
			add(x.entry(e.id)) // the current entry: views may have moved since
		}
		// everything new since the last score refresh
		for _, slot := range x.created.list {
			e := &x.entries[slot]
			if e.created < x.refreshed {
				break
			}
			add(e)
		}
		for _, slot := range x.onAir {
			add(&x.entries[slot])
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
			add(x.entry(id))
		}
		for _, e := range gpm {
			add(x.entry(e.id))
		}
		// fresh with little exposure: published within the age, newest first
		oldest := nowUs - int64(math.Round(s.ExploreMaxAgeHours*3600e6))
		i, _ := slices.BinarySearchFunc(x.published.list, nowUs, func(slot int32, t int64) int {
			return cmp.Compare(t, x.entries[slot].published) // descending
		})
		for n := 0; i < len(x.published.list) && n < int(s.FreshCandidates); i++ {
			e := &x.entries[x.published.list[i]]
			if e.published <= oldest {
				break
			}
			if float64(e.views) < s.ExploreMaxViews {
				add(e)
				n++
			}
		}
	}

	items := make([]rankedItem, 0, len(seen))
	keys := make([]string, 0, 16)
	for _, e := range seen {
		if e.published > nowUs || e.ended || dismissed[e.id] || (completed[e.id] && !e.isLive) {
			continue
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
		if len(affs) > 0 {
			keys = keys[:0]
			for _, t := range x.tagsOf(e) {
				keys = append(keys, "TAG:"+t)
			}
			keys = append(keys, "CREATOR:"+strconv.FormatInt(e.author, 10))
			if e.shop != 0 {
				keys = append(keys, "SHOP:"+strconv.FormatInt(e.shop, 10))
			}
			for _, g := range x.catsOf(e) {
				keys = append(keys, "CATEGORY:"+g)
			}
			slices.Sort(keys)
			keys = slices.Compact(keys)
			for _, k := range keys {
				a += affs[k]
			}
		}
		score += s.Affinity * a
		score += s.CoEngagement * math.Min(float64(co[e.id])/3.0, 1)
		age := math.Max(float64(nowUs-e.published)/1e6, 0)
		score += s.Freshness / (1 + age/86400.0)
		score += s.Popularity * math.Log(float64(1+e.views+5*e.likes))
		score += w.GPM * math.Log(1+e.gpm/100.0)
		score += w.Engagement * 100 * math.Min(e.eng, 1)
		fresh := e.published > nowUs-int64(math.Round(s.ExploreMaxAgeHours*3600e6)) && float64(e.views) < s.ExploreMaxViews
		if fresh {
			bonus := s.Explore
			if a > 0 {
				bonus += s.ExploreMatch
			}
			score += bonus
		}
		items = append(items, rankedItem{ID: e.id, AuthorID: e.author, ShopID: e.shop, Fresh: fresh, Matches: a > 0, Avoided: a < 0,
			Score: roundNumeric6ByStrings(score), Seed: v.Seed})
	}
	slices.SortFunc(items, func(a, b rankedItem) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return items
}

// The popular and converting lists that a ranking reads stay those of a
// full pass over the index while scores move a few at a time (updated
// from their reserves), many at a time, and while the best ones lose their
// score, their GPM or go (reserves used up: a full pass again).
func TestTopsFollowScoreChanges(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	x := syntheticFeedIndex(10_000, now)
	rng := rand.New(rand.NewPCG(5, 6))
	want := func(n int, less func(a, b *feedEntry) int, eligible func(*feedEntry) bool) []int64 {
		var all []*feedEntry
		for _, slot := range x.byID {
			if e := &x.entries[slot]; eligible(e) {
				all = append(all, e)
			}
		}
		slices.SortFunc(all, less)
		var ids []int64
		for _, e := range all[:min(n, len(all))] {
			ids = append(ids, e.id)
		}
		return ids
	}
	ids := func(es []topItem) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.id)
		}
		return out
	}
	check := func(round int) {
		t.Helper()
		x.mu.RLock()
		defer x.mu.RUnlock()
		for _, n := range []int{400, 400} {
			p, g := x.tops(n, n/8+1)
			if w := want(n, byBaseDesc, func(e *feedEntry) bool { return e.scored }); !slices.Equal(ids(p), w) {
				t.Fatalf("round %d, n %d: popular differs from a full pass (%d and %d)", round, n, len(p), len(w))
			}
			if w := want(n/8+1, byGPMDesc, func(e *feedEntry) bool { return e.scored && e.gpm > 0 }); !slices.Equal(ids(g), w) {
				t.Fatalf("round %d, n %d: converting differs from a full pass (%d and %d)", round, n, len(g), len(w))
			}
		}
	}
	check(0)
	change := func(e *feedEntry, f func(r *feedIndexRow)) {
		r := feedIndexRow{ID: e.id, Author: e.author, Shop: e.shop, Tags: x.tagsOf(e), Cats: x.catsOf(e), Published: e.published, Created: e.created,
			Views: e.views, Likes: e.likes, Scored: e.scored, Base: e.base, GPM: e.gpm, Eng: e.eng}
		f(&r)
		x.apply(&r, false)
	}
	for round := 1; round <= 60; round++ {
		x.mu.Lock()
		p, g := x.topCache.popular, x.topCache.gpm
		switch {
		case round%10 == 0:
			// the best lose their score: the reserve runs out
			for _, e := range p[:min(len(p), 350)] {
				change(x.entry(e.id), func(r *feedIndexRow) { r.Base = 0 })
			}
		case round%7 == 0:
			for _, e := range g {
				change(x.entry(e.id), func(r *feedIndexRow) { r.GPM = 0 })
			}
		case round%5 == 0:
			for _, e := range p[:min(len(p), 30)] {
				x.apply(&feedIndexRow{ID: e.id, LiveStatus: "GONE"}, false)
			}
		default:
			for range 1 + rng.IntN(300) {
				e := x.entry(1 + rng.Int64N(10_000))
				if e == nil {
					continue
				}
				change(e, func(r *feedIndexRow) {
					r.Base = rng.Float64() * 1200
					if rng.IntN(3) == 0 {
						r.GPM = rng.Float64() * 5000
					}
					r.Scored = rng.IntN(20) != 0
					if rng.IntN(10) == 0 {
						r.Tags = []string{"moved"} // not the same order: unlinked and linked again
					}
				})
			}
			id := int64(100_000 + round)
			x.apply(&feedIndexRow{ID: id, Author: 1, Tags: []string{"new"}, Published: now.UnixMicro(), Created: now.UnixMicro(),
				Scored: true, Base: 5000 + float64(round), GPM: 1}, false)
		}
		x.mu.Unlock()
		check(round)
	}
	// Most rounds changed a few hundred scores: updated from the reserves.
	if passes := x.topCache.passes; passes > 20 {
		t.Fatalf("%d full passes in 60 rounds", passes)
	}
	t.Logf("%d full passes in 60 rounds", x.topCache.passes)
	// Other sizes: a full pass.
	x.mu.RLock()
	passes := x.topCache.passes
	x.tops(3, 2)
	x.mu.RUnlock()
	if x.topCache.passes != passes+1 {
		t.Fatal("other sizes did not make a full pass")
	}
}
