package store

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// benchScaleFeedIndex fills an index with n contents shaped like the
// benchmark's dataset at 2,000,000 videos: 1,000 creators, 100 shops (one
// content in ten without), three tags of one of 40 themes' 8 (320 tags,
// some 13,000 distinct lists), one to three card categories of 20,
// published over 60 days, views and likes growing with age, a campaign on
// one in five, a live session on air in 4,000. It is deterministic.
func benchScaleFeedIndex(n int, now time.Time) *FeedIndex {
	themes := make([][]string, 40)
	for i := range themes {
		for j := range 8 {
			themes[i] = append(themes[i], fmt.Sprintf("theme%dtag%d", i, j))
		}
	}
	cats := make([]string, 20)
	for i := range cats {
		cats[i] = fmt.Sprintf("category%d", i)
	}
	return buildSyntheticFeedIndex(n, now, 3, func(rng *rand.Rand, r *feedIndexRow, nowUs int64) {
		th := themes[rng.IntN(len(themes))]
		p := rng.Perm(len(th))
		r.Tags = []string{th[p[0]], th[p[1]], th[p[2]]}
		r.Shop = 1 + rng.Int64N(100)
		if rng.IntN(10) == 0 {
			r.Shop = 0
		}
		for range 1 + rng.IntN(3) {
			r.Cats = append(r.Cats, cats[rng.IntN(len(cats))])
		}
		if rng.IntN(5) == 0 {
			k := rng.Int64N(5)
			r.CampStarts, r.CampEnds = []int64{nowUs - (k+1)*3600e6}, []int64{nowUs + (k+1)*3600e6}
		}
	})
}

var benchScale struct {
	once sync.Once
	x    *FeedIndex
	now  time.Time
	heap float64 // the index's live heap, MB
}

// benchScaleIndex builds, once per process, the 2,000,000-content index
// of BenchmarkFeedIndexAtScale and measures its live heap.
func benchScaleIndex() (*FeedIndex, time.Time, float64) {
	benchScale.once.Do(func() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		benchScale.now = time.Now().UTC().Truncate(time.Microsecond)
		benchScale.x = benchScaleFeedIndex(2_000_000, benchScale.now)
		runtime.GC()
		runtime.ReadMemStats(&after)
		benchScale.heap = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	})
	return benchScale.x, benchScale.now, benchScale.heap
}

// BenchmarkFeedIndexAtScale measures what a 2,000,000-content feed index
// costs the process: "gc" is one forced collection with the index live
// (ns/op; gc-ms/op the same in ms, gc-cpu-ms/op the process's CPU time,
// every thread) and reports the index's live heap after a collection
// (live-MB); "rank" is one learned viewer's first-page ranking over it
// (ns/op, cpu-ns/op with the collector's work, allocs/op; candidates/op
// the mean over the 16 viewers, the same for every version of the index).
// Compare it across versions of the index in one run.
func BenchmarkFeedIndexAtScale(b *testing.B) {
	x, now, heap := benchScaleIndex()
	b.Run("gc", func(b *testing.B) {
		start, cpu := time.Now(), cpuTime()
		for b.Loop() {
			runtime.GC()
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1e3/float64(b.N), "gc-ms/op")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1e3/float64(b.N), "gc-cpu-ms/op")
		b.ReportMetric(heap, "live-MB")
		runtime.KeepAlive(x)
	})
	b.Run("rank", func(b *testing.B) {
		s := &DefaultForYouSettings
		viewers := make([]*forYouViewer, 16)
		for i := range viewers {
			viewers[i] = syntheticViewer(x, s, uint64(i))
		}
		n := 0 // over the viewers once (the top lists made first)
		for _, v := range viewers {
			n += len(x.rank(s, DefaultFeedWeights, v, now, false))
		}
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; b.Loop(); i++ {
			x.rank(s, DefaultFeedWeights, viewers[i%len(viewers)], now, false)
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n)/float64(len(viewers)), "candidates/op")
	})
}
