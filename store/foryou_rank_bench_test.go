package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's CPU time so far (user and system, every
// thread: the garbage collector's work counts): on a shared machine a
// benchmark's CPU per operation moves less than its wall time.
func cpuTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// syntheticFeedIndex fills an index with n contents shaped like the
// benchmark's dataset (server/bench at full scale): published over 60 days,
// 1,000 creators, 100 shops, two tags of 8 categories' 40, one or two card
// categories, views and likes growing with age (a few fresh ones with little
// exposure), a campaign on one in five, a few live sessions on air and
// contents created after the last score refresh. It is deterministic.
func syntheticFeedIndex(n int, now time.Time) *FeedIndex {
	cats := []string{"beauty", "fashion", "home", "tech", "fitness", "food", "kids", "pets"}
	tags := make([][]string, len(cats))
	for i, c := range cats {
		for j := range 5 {
			tags[i] = append(tags[i], fmt.Sprintf("%s%d", c, j))
		}
	}
	return buildSyntheticFeedIndex(n, now, 1, func(rng *rand.Rand, r *feedIndexRow, nowUs int64) {
		c := rng.IntN(len(cats))
		p := rng.Perm(5)
		r.Shop = rng.Int64N(101)
		r.Tags = []string{tags[c][p[0]], tags[c][p[1]]}
		r.Cats = []string{cats[c]}
		if rng.IntN(3) == 0 {
			r.Cats = append(r.Cats, cats[rng.IntN(len(cats))])
		}
		if rng.IntN(5) == 0 {
			r.CampStarts, r.CampEnds = []int64{nowUs - 3600e6}, []int64{nowUs + 3600e6}
		}
	})
}

// buildSyntheticFeedIndex fills an index with n deterministic contents
// (the random source seeded with seed): ids 1..n, 1,000 creators,
// published over 60 days with views and likes growing with age (one in ten
// with little exposure), a GPM on one in four, a live session on air in one
// in 4,000 and the last 30 created after the last score refresh (a minute
// before now). shape gives each content its shop, tags, card categories and
// campaign windows.
func buildSyntheticFeedIndex(n int, now time.Time, seed uint64, shape func(rng *rand.Rand, r *feedIndexRow, nowUs int64)) *FeedIndex {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	nowUs := now.UnixMicro()
	x := newFeedIndex()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.reset()
	for i := range n {
		age := rng.Int64N(60 * 24 * 3600e6)
		views := age / 3600e6 * int64(1+rng.IntN(40))
		if rng.IntN(10) == 0 {
			views = rng.Int64N(100)
		}
		r := feedIndexRow{ID: int64(i + 1), Author: 1 + rng.Int64N(1000), Published: nowUs - age, Created: nowUs - age - 1,
			Views: views, Likes: views / 20, Scored: true, Base: float64(views%997) + rng.Float64(), Eng: rng.Float64() * 0.15}
		shape(rng, &r, nowUs)
		if rng.IntN(4) == 0 {
			r.GPM = rng.Float64() * 5000
		}
		if i%4000 == 0 {
			r.IsLive, r.LiveStatus = true, "LIVE"
		}
		if i >= n-30 {
			// new since the last score refresh
			r.Created, r.Scored, r.Base = nowUs-1e6, false, 0
		}
		x.apply(&r, true)
	}
	x.sortAll()
	x.refreshed = nowUs - 60e6
	x.loaded = true
	return x
}

// syntheticViewer is a learned viewer of syntheticFeedIndex: affinities for
// tags, categories, creators and shops (a few negative), five interest
// sources of each kind, follows, co-engaged, dismissed and completed
// contents.
func syntheticViewer(x *FeedIndex, s *ForYouSettings, seed uint64) *forYouViewer {
	rng := rand.New(rand.NewPCG(seed, 7))
	v := &forYouViewer{Seed: 300}
	affs := map[string]float64{}
	var tagKeys []string
	for k := range x.byTag {
		tagKeys = append(tagKeys, k)
	}
	slices.Sort(tagKeys) // the same viewers every run
	for range 60 {
		w := rng.Float64()*20 - 3
		switch rng.IntN(4) {
		case 0:
			affs["TAG:"+tagKeys[rng.IntN(len(tagKeys))]] = s.TagMultiplier * w / (1 + abs(w))
		case 1:
			affs["CATEGORY:"+[]string{"beauty", "fashion", "home", "tech"}[rng.IntN(4)]] = s.CategoryMultiplier * w / (1 + abs(w))
		case 2:
			affs["CREATOR:"+strconv.Itoa(1+rng.IntN(1000))] = s.CreatorMultiplier * w / (1 + abs(w))
		default:
			affs["SHOP:"+strconv.Itoa(1+rng.IntN(100))] = s.ShopMultiplier * w / (1 + abs(w))
		}
	}
	for k, w := range affs {
		v.AffKeys = append(v.AffKeys, k)
		v.AffValues = append(v.AffValues, w)
	}
	for range 5 {
		v.SrcTags = append(v.SrcTags, tagKeys[rng.IntN(len(tagKeys))])
		v.SrcCreators = append(v.SrcCreators, 1+rng.Int64N(1000))
		v.SrcShops = append(v.SrcShops, 1+rng.Int64N(100))
	}
	for range 20 {
		v.FollowedCreators = append(v.FollowedCreators, 1+rng.Int64N(1000))
	}
	for range 3 {
		v.FollowedShops = append(v.FollowedShops, 1+rng.Int64N(100))
	}
	n := int64(len(x.byID))
	for range 100 {
		v.CoIDs = append(v.CoIDs, 1+rng.Int64N(n))
		v.CoCounts = append(v.CoCounts, 1+rng.Int64N(5))
	}
	for range 20 {
		v.Dismissed = append(v.Dismissed, 1+rng.Int64N(n))
		v.Completed = append(v.Completed, 1+rng.Int64N(n))
	}
	return v
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// BenchmarkForYouRank measures the CPU of one For You first page's
// ranking in Go (candidates from the feed index, scores, order) and its
// arrangement (the page's head, as forYou arranges it), over 200,000 synthetic contents, for the
// anonymous viewer and for learned ones; "after a score refresh" first
// changes the scores of 2,000 contents (1%, the catch-up after a score
// refresh, not measured), so that the ranking brings the popular and
// converting lists up to date. It reports the candidates ranked per
// ranking.
func BenchmarkForYouRank(b *testing.B) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	x := syntheticFeedIndex(200_000, now)
	s := &DefaultForYouSettings
	w := DefaultFeedWeights
	viewers := make([]*forYouViewer, 16)
	for i := range viewers {
		viewers[i] = syntheticViewer(x, s, uint64(i))
	}
	rng := rand.New(rand.NewPCG(9, 9))
	rescore := func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		for range 2000 {
			e := x.entry(1 + rng.Int64N(200_000))
			if e == nil {
				continue
			}
			r := feedIndexRow{ID: e.id, Author: e.author, Shop: e.shop, Tags: x.tagsOf(e), Cats: x.catsOf(e), Published: e.published, Created: e.created,
				Views: e.views, Likes: e.likes, Scored: true, Base: e.base*0.9 + rng.Float64()*100, GPM: e.gpm, Eng: e.eng}
			x.apply(&r, false)
		}
	}
	run := func(b *testing.B, v func(i int) *forYouViewer, refresh bool) {
		n := 0
		var cpu time.Duration
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if refresh {
				b.StopTimer()
				rescore()
				b.StartTimer()
			}
			start := cpuTime()
			items := x.rank(s, w, v(i), now, false)
			diversifyFirst(items, 20, s, arranged(20)) // as a first page arranges it
			cpu += cpuTime() - start
			n += len(items)
		}
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n)/float64(b.N), "candidates/op")
	}
	b.Run("anonymous", func(b *testing.B) {
		run(b, func(int) *forYouViewer { return &forYouViewer{} }, false)
	})
	b.Run("learned", func(b *testing.B) {
		run(b, func(i int) *forYouViewer { return viewers[i%len(viewers)] }, false)
	})
	b.Run("learned, after a score refresh", func(b *testing.B) {
		run(b, func(i int) *forYouViewer { return viewers[i%len(viewers)] }, true)
	})
}

// BenchmarkForYouDiversify measures Diversify alone over a learned
// viewer's ranking of 200,000 synthetic contents: the whole ranking, and
// the head a page serves (diversifyFirst, as the feed arranges it).
func BenchmarkForYouDiversify(b *testing.B) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	x := syntheticFeedIndex(200_000, now)
	s := &DefaultForYouSettings
	items := x.rank(s, DefaultFeedWeights, syntheticViewer(x, s, 1), now, false)
	for _, c := range []struct {
		name string
		n    int
	}{{"whole ranking", len(items)}, {"a page's head", 20 + 1 + forYouSpare}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				diversifyFirst(items, 20, s, c.n)
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
