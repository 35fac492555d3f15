package store

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// Rankings run while catch-ups change the index: contents added (the slab
// grows and moves), changed in place, moved in their lists, and deleted
// (their slots handed to new contents). Each ranking (run under the race
// detector in CI) names each content at most once, and only contents that
// exist: a deleted content's slot, reused, never serves it, and nothing
// reads the slab outside x.mu.
func TestFeedIndexRanksWhileChanging(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	nowUs := now.UnixMicro()
	x := syntheticFeedIndex(3_000, now)
	s := &DefaultForYouSettings
	w := FeedWeights{GPM: 8, Engagement: 2}
	viewers := []*forYouViewer{{}}
	for i := range 4 {
		viewers = append(viewers, syntheticViewer(x, s, uint64(200+i)))
	}
	// deleted[id]: deleted, never added again (ids are never reused)
	var deletedMu sync.Mutex
	deleted := map[int64]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(5, 6))
		next := int64(100_000)
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			x.mu.Lock()
			for range 50 {
				switch rng.IntN(4) {
				case 0: // a new content: takes a freed slot or grows the slab
					r := feedIndexRow{ID: next, Author: 1 + rng.Int64N(1000), Shop: rng.Int64N(101), Tags: []string{"beauty1", "tech2"},
						Published: nowUs - rng.Int64N(1e10), Created: nowUs - rng.Int64N(1e10), Views: rng.Int64N(200), Scored: true, Base: rng.Float64() * 1000}
					next++
					x.apply(&r, false)
				case 1: // gone
					if id := 1 + rng.Int64N(3_000); x.entry(id) != nil {
						x.apply(&feedIndexRow{ID: id, LiveStatus: "GONE"}, false)
						deletedMu.Lock()
						deleted[id] = true
						deletedMu.Unlock()
					}
				default: // a score or a place moved
					if e := x.entry(1 + rng.Int64N(3_000)); e != nil {
						r := feedIndexRow{ID: e.id, Author: e.author, Shop: e.shop, Tags: x.tagsOf(e), Cats: x.catsOf(e), Published: e.published,
							Created: e.created, Views: e.views + 1, Likes: e.likes, Scored: true, Base: rng.Float64() * 1000, GPM: e.gpm, Eng: e.eng}
						if rng.IntN(2) == 0 {
							r.Published -= 1e6
						}
						x.apply(&r, false)
					}
				}
			}
			x.mu.Unlock()
			x.mu.RLock()
			x.warmTops()
			x.mu.RUnlock()
		}
	})
	var bad sync.Once
	var rankers sync.WaitGroup
	for g := range 3 {
		rankers.Go(func() {
			for i := range 150 {
				v := viewers[(g+i)%len(viewers)]
				// deleted before this ranking began: not to be served
				deletedMu.Lock()
				gone := make(map[int64]bool, len(deleted))
				for id := range deleted {
					gone[id] = true
				}
				deletedMu.Unlock()
				items := x.rank(s, w, v, now, false)
				seen := make(map[int64]bool, len(items))
				for _, it := range items {
					if seen[it.ID] || gone[it.ID] {
						bad.Do(func() { t.Errorf("a ranking names content %d twice or after its deletion", it.ID) })
					}
					seen[it.ID] = true
				}
			}
		})
	}
	rankers.Wait()
	close(stop)
	wg.Wait()
}
