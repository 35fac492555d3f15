package store

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The top lists a ranking reads (tops: the most popular scored contents,
// the converting ones) against a full sort of the index after every round
// of random changes, on an index small enough that the reserves run out,
// fill up and hold every eligible entry (complete) by turns, with coarse
// scores (many ties, broken by id), and with every way a change reaches
// the index: a score moved in place (swap), a views-only change that
// notes no score move, a content re-tagged (unlinked and linked again)
// with or without a score, the reserve's last entry moved by a little,
// contents gone and new ones, more changes than the change list keeps,
// and full loads. Between rounds the lists are brought up to date either
// by a catch-up's warmTops or by a ranking's tops, sometimes asked for
// other sizes first. TestTopsFollowScoreChanges holds the same on a large
// index with few ties.
func TestTopsMatchAFullSortUnderRandomChanges(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		checkTopsUnderRandomChanges(t, seed)
	}
}

func checkTopsUnderRandomChanges(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 19))
	const popularN, gpmN = 40, 12
	x := newFeedIndex()
	nextID := int64(1)
	tags := [][]string{{"a"}, {"b"}, {"a", "b"}, nil}
	row := func(id int64) feedIndexRow {
		r := feedIndexRow{ID: id, Author: 1 + id%7, Shop: id % 5, Tags: tags[rng.IntN(len(tags))], Published: id, Created: id,
			Views: rng.Int64N(100), Scored: rng.IntN(8) != 0, Base: float64(rng.IntN(25))}
		if rng.IntN(3) == 0 {
			r.GPM = float64(1 + rng.IntN(6))
		}
		return r
	}
	rowOf := func(e *feedEntry) feedIndexRow {
		return feedIndexRow{ID: e.id, Author: e.author, Shop: e.shop, Tags: x.tagsOf(e), Cats: x.catsOf(e), Published: e.published, Created: e.created,
			Views: e.views, Likes: e.likes, Scored: e.scored, Base: e.base, GPM: e.gpm, Eng: e.eng}
	}
	var rows []feedIndexRow // what a full load reads
	load := func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		keep := rows[:0]
		for _, slot := range x.byID {
			keep = append(keep, rowOf(&x.entries[slot]))
		}
		if len(keep) == 0 {
			for range 40 + rng.IntN(220) {
				keep = append(keep, row(nextID))
				nextID++
			}
		}
		rows = keep
		x.reset()
		for i := range rows {
			x.apply(&rows[i], true)
		}
		x.sortAll()
		x.loaded = true
	}
	want := func(n int, less func(a, b *feedEntry) int, eligible func(*feedEntry) bool) []int64 {
		var all []*feedEntry
		for _, slot := range x.byID {
			if e := &x.entries[slot]; eligible(e) {
				all = append(all, e)
			}
		}
		slices.SortFunc(all, less)
		ids := []int64{}
		for _, e := range all[:min(n, len(all))] {
			ids = append(ids, e.id)
		}
		return ids
	}
	idsOf := func(es []topItem) []int64 {
		ids := []int64{}
		for _, e := range es {
			ids = append(ids, e.id)
		}
		return ids
	}
	ids := func() []int64 {
		var out []int64
		for id := range x.byID {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	load()
	completes := 0
	for round := range 300 {
		x.mu.Lock()
		all := ids()
		pick := func() *feedEntry { return x.entry(all[rng.IntN(len(all))]) }
		change := func(e *feedEntry, f func(r *feedIndexRow)) {
			if e == nil {
				return
			}
			r := rowOf(e)
			f(&r)
			x.apply(&r, false)
		}
		changes := 1 + rng.IntN(12)
		if rng.IntN(25) == 0 {
			changes = 1100 // more than the change list keeps
		}
		for range changes {
			if len(all) == 0 {
				break
			}
			kinds := 13
			if changes > 12 {
				kinds = 10 // no mass changes among many
			}
			switch k := rng.IntN(kinds); k {
			case 0: // a new content
				r := row(nextID)
				nextID++
				x.apply(&r, false)
			case 1: // gone
				x.apply(&feedIndexRow{ID: all[rng.IntN(len(all))], LiveStatus: "GONE"}, false)
			case 2: // views only: no score moved
				change(pick(), func(r *feedIndexRow) { r.Views++ })
			case 3: // re-tagged, the same scores
				change(pick(), func(r *feedIndexRow) { r.Tags = tags[rng.IntN(len(tags))] })
			case 4: // re-tagged with a new score
				change(pick(), func(r *feedIndexRow) {
					r.Tags, r.Base = tags[rng.IntN(len(tags))], float64(rng.IntN(25))
				})
			case 5: // scored or not
				change(pick(), func(r *feedIndexRow) { r.Scored = !r.Scored })
			case 6: // the reserves' last entries move by a little either way, or tie
				c := &x.topCache
				for _, l := range [][]topItem{c.popularAll, c.gpmAll} {
					if len(l) > 0 {
						last := l[len(l)-1]
						change(x.entry(last.id), func(r *feedIndexRow) {
							r.Base += float64(rng.IntN(3) - 1)
							r.GPM = max(r.GPM+float64(rng.IntN(3)-1), 0)
						})
					}
				}
			case 7: // the best lose their score
				if p := x.topCache.popularAll; len(p) > 0 {
					change(x.entry(p[rng.IntN(len(p))].id), func(r *feedIndexRow) { r.Base = 0 })
				}
			case 10: // many of the best lose their score or GPM at once: the reserves run out
				if rng.IntN(4) == 0 {
					c := &x.topCache
					for _, e := range c.popularAll[:min(len(c.popularAll), 50+rng.IntN(40))] {
						change(x.entry(e.id), func(r *feedIndexRow) { r.Base = 0 })
					}
					for _, e := range c.gpmAll[:min(len(c.gpmAll), 50+rng.IntN(40))] {
						change(x.entry(e.id), func(r *feedIndexRow) { r.GPM = 0 })
					}
				}
			case 11: // many new converting contents at once: a complete reserve overflows
				if rng.IntN(4) == 0 {
					for range 20 + rng.IntN(60) {
						r := row(nextID)
						nextID++
						r.Scored, r.GPM = true, float64(1+rng.IntN(6))
						x.apply(&r, false)
					}
				}
			case 8: // converting or not any more
				change(pick(), func(r *feedIndexRow) { r.GPM = float64(rng.IntN(2) * (1 + rng.IntN(6))) })
			default:
				change(pick(), func(r *feedIndexRow) { r.Base = float64(rng.IntN(25)) })
			}
		}
		x.mu.Unlock()
		if rng.IntN(40) == 0 {
			load()
		}
		x.mu.RLock()
		switch rng.IntN(4) {
		case 0: // a catch-up warms them, then a ranking reads them
			x.warmTops()
		case 1: // a ranking with other settings came in between
			x.tops(popularN/2, gpmN+3)
		}
		p, g := x.tops(popularN, gpmN)
		if x.topCache.gpmComplete {
			completes++
		}
		wp := want(popularN, byBaseDesc, func(e *feedEntry) bool { return e.scored })
		wg := want(gpmN, byGPMDesc, func(e *feedEntry) bool { return e.scored && e.gpm > 0 })
		x.mu.RUnlock()
		if !slices.Equal(idsOf(p), wp) {
			t.Fatalf("seed %d, round %d: popular %v, a full sort %v", seed, round, idsOf(p), wp)
		}
		if !slices.Equal(idsOf(g), wg) {
			t.Fatalf("seed %d, round %d: converting %v, a full sort %v", seed, round, idsOf(g), wg)
		}
	}
	if completes == 0 || completes == 300 {
		t.Fatalf("seed %d: the converting reserve held every eligible entry in %d rounds of 300: the test misses half of updateTop", seed, completes)
	}
}
