package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultFeedRankingTTL is how long a For You first page's arrangement is
// reused (FEED_RANKING_TTL): the bound on how late a change made by someone
// else (a new video, a live session going on air, a score refresh, a
// signal of another viewer) reaches a first page.
const DefaultFeedRankingTTL = 2 * time.Second

// maxFeedRankings bounds the arrangements kept; past it the cache starts
// over (the next first page of each viewer ranks again).
const maxFeedRankings = 20_000

// FeedRankings keeps, in this process, the arrangement (ranked and
// diversified, best first) that each For You first page computed, per
// viewer and profile, so that another first page for the same viewer within
// the TTL skips the ranking statement and writes nothing: it continues the
// walk row the ranking first page stored (walk rows are never changed; each
// next page stores its re-ranked tail as a row of its own), so pages stay
// exact however profiles and scores move.
//
// A viewer always sees their own writes: Forget(profile) drops the
// arrangements ranked for a profile, and it is called after every
// signed-in mutation (by the GraphQL layer) and after every flush of the
// event buffer for each profile the flush taught (a like, a view, not
// interested). Anything else (someone else's write, a score refresh, a
// write made through another API process) shows on a first page within
// the TTL. A nil *FeedRankings reuses nothing.
type FeedRankings struct {
	ttl time.Duration
	// viewerTTL is how long a viewer's state is kept (NewFeedCaches): 0
	// keeps none.
	viewerTTL time.Duration

	mu      sync.Mutex
	entries map[string]feedRanking
	// flights are the rankings under way, by key: a first page that finds
	// one waits for its arrangement instead of ranking the same again.
	flights map[string]chan struct{}
	gens    map[string]viewerWrite // per profile: moved by each write it learns
	next    atomic.Uint64
	// floor is the generation forgetAll last drew: every profile's write
	// generation is at least floor (genLocked), so nothing read before a
	// forgetAll is kept after it.
	floor uint64
	// deaf is set while the listening connection is lost (Listen): writes
	// made through other processes meanwhile are not heard, so nothing
	// read then is kept.
	deaf bool
	// states are viewers' states (foryou_viewers.go), by viewerStateKey.
	states map[string]keptViewerState
	// walks are the For You walk rows this process stored, by walk id
	// (rows are never changed: see foryou_viewers.go).
	walks map[int64]keptWalk

	hits, misses atomic.Int64
	// prunes counts Forget's scans of gens (tests).
	prunes int
}

// viewerWrite is a profile's last write: its generation and when.
type viewerWrite struct {
	gen uint64
	at  time.Time
}

// feedRanking is a kept arrangement: the order, the walk row that stores it
// (list_walks, written by the first page that ranked it), when it was
// ranked, and the profile's write generation it was ranked at.
type feedRanking struct {
	order []int64
	walk  int64
	at    time.Time
	gen   uint64
}

// NewFeedRankings returns a cache that reuses an arrangement for ttl; a
// ttl of zero or less returns nil (no reuse). It keeps no viewer state
// (NewFeedCaches does).
func NewFeedRankings(ttl time.Duration) *FeedRankings {
	return NewFeedCaches(ttl, 0)
}

// NewFeedCaches returns a cache that reuses an arrangement for ttl
// (FEED_RANKING_TTL) and keeps each viewer's state for viewerTTL
// (FEED_VIEWER_TTL; see viewerState), each forgotten for a profile at its
// writes (Forget). Either may be 0 (none kept); when both are, it returns
// nil. A non-nil cache also keeps the walk rows this process stored.
func NewFeedCaches(ttl, viewerTTL time.Duration) *FeedRankings {
	if ttl <= 0 && viewerTTL <= 0 {
		return nil
	}
	return &FeedRankings{ttl: max(ttl, 0), viewerTTL: max(viewerTTL, 0), entries: map[string]feedRanking{},
		flights: map[string]chan struct{}{}, gens: map[string]viewerWrite{}, states: map[string]keptViewerState{}, walks: map[int64]keptWalk{}}
}

// TTL returns how long an arrangement is reused (0 for a nil cache).
func (f *FeedRankings) TTL() time.Duration {
	if f == nil {
		return 0
	}
	return f.ttl
}

// ViewerTTL returns how long a viewer's state is kept (0 for a nil cache
// or none kept).
func (f *FeedRankings) ViewerTTL() time.Duration {
	if f == nil {
		return 0
	}
	return f.viewerTTL
}

// Stats returns how many first pages reused an arrangement and how many
// ranked.
func (f *FeedRankings) Stats() (hits, misses int64) {
	if f == nil {
		return 0, 0
	}
	return f.hits.Load(), f.misses.Load()
}

// Forget drops the arrangements ranked for profile (UserProfile(id) for a
// person), and its viewer states: its next page ranks again, with what
// was just written. It is safe on a nil cache.
func (f *FeedRankings) Forget(profile string) {
	if f == nil || profile == "" {
		return
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.gens) >= 4*maxFeedRankings {
		// A write older than the TTLs no longer matters: every
		// arrangement and viewer state read before it has expired.
		f.prunes++
		for id, w := range f.gens {
			if now.Sub(w.at) > max(f.ttl, f.viewerTTL) {
				delete(f.gens, id)
			}
		}
		if len(f.gens) > 2*maxFeedRankings {
			// More profiles wrote within the TTLs than the bookkeeping
			// keeps (a flood of device ids, say): forget everything
			// kept instead, which makes every write generation moot.
			// So the map stays bounded, and each scan above frees at
			// least half of it: a Forget costs O(1) amortized.
			f.forgetAllLocked()
			clear(f.gens)
		}
	}
	f.gens[profile] = viewerWrite{gen: f.next.Add(1), at: now}
}

// forgetAll drops every arrangement, viewer state and kept walk row, and
// keeps nothing read before it (the write generations stay). It runs when the process may have missed
// notifications or the database may have lost what it stored (the
// listening connection was lost: a restart or crash of PostgreSQL, which
// empties list_walks); a walk row no write changes is dropped all the same,
// so that a walk the database lost asks for a first page on every process
// alike (README, API conventions).
func (f *FeedRankings) forgetAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgetAllLocked()
}

func (f *FeedRankings) forgetAllLocked() {
	f.entries = map[string]feedRanking{}
	f.states = map[string]keptViewerState{}
	f.walks = map[int64]keptWalk{}
	f.floor = f.next.Add(1)
}

// genLocked is profile's write generation: its last write's, or the last
// forgetAll's if that came later.
func (f *FeedRankings) genLocked(profile string) uint64 {
	return max(f.gens[profile].gen, f.floor)
}

// listening records whether the listening connection is up (Listen's
// events). Losing it forgets everything and keeps nothing until it is back
// (the pool may reach a restarted PostgreSQL seconds before the listener's
// backoff lets it reconnect, and writes announced in between are not
// heard); getting it back forgets everything again, including what reads
// begun while it was lost would keep.
func (f *FeedRankings) listening(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deaf = !up
	f.forgetAllLocked()
}

// rankingKey names an arrangement: who it is for and what it was ranked with.
func rankingKey(args FeedArgs, profile string, s *ForYouSettings) string {
	return fmt.Sprintf("%d\x00%s\x00%p\x00%v\x00%d", args.ViewerID, profile, s, args.Weights, args.First)
}

// get returns a reusable arrangement for key, and the profile's write
// generation to store a new one with. On a miss, when another first page
// is already ranking for key, it waits for that arrangement (at most
// twice, and not past ctx); otherwise the caller ranks, and must call
// done when it has stored its arrangement or given up.
func (f *FeedRankings) get(ctx context.Context, key, profile string, now time.Time) (kept feedRanking, gen uint64, ok bool, done func()) {
	if f.ttl <= 0 { // only viewer states are kept
		return feedRanking{}, 0, false, func() {}
	}
	for waits := 0; ; waits++ {
		f.mu.Lock()
		gen = f.genLocked(profile)
		e, found := f.entries[key]
		// An arrangement ranked after now (while this page waited) is
		// fresher still.
		if found && e.gen == gen && now.Sub(e.at) < f.ttl {
			f.mu.Unlock()
			f.hits.Add(1)
			return e, gen, true, func() {}
		}
		flight, busy := f.flights[key]
		if !busy || waits == 2 {
			mine := make(chan struct{})
			if !busy {
				f.flights[key] = mine
			}
			f.mu.Unlock()
			f.misses.Add(1)
			return feedRanking{}, gen, false, func() {
				f.mu.Lock()
				if f.flights[key] == mine {
					delete(f.flights, key)
				}
				f.mu.Unlock()
				close(mine)
			}
		}
		f.mu.Unlock()
		select {
		case <-flight:
		case <-ctx.Done():
			f.misses.Add(1)
			return feedRanking{}, gen, false, func() {}
		}
	}
}

// put keeps an arrangement (r.order, stored as walk row r.walk, ranked at
// r.at) unless the profile learned a write since gen was read (then it may
// not show that write).
func (f *FeedRankings) put(key, profile string, gen uint64, r feedRanking) {
	if f.ttl <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deaf || f.genLocked(profile) != gen {
		return
	}
	if len(f.entries) >= maxFeedRankings {
		// Starting over drops every arrangement; the write generations
		// stay, so nothing computed before a write comes back.
		f.entries = map[string]feedRanking{}
	}
	r.gen = gen
	f.entries[key] = r
}
