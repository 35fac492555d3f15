package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// DefaultFeedViewerTTL is how long an API process keeps a viewer's For You
// state (FEED_VIEWER_TTL): the bound on how late someone else's engagement
// moves that viewer's co-engaged candidates. The viewer's own writes drop
// it at once (FeedRankings.Forget).
const DefaultFeedViewerTTL = 30 * time.Second

// maxViewerStates and maxKeptWalks bound what a FeedRankings keeps of
// viewers' states and walk rows; past either, that part starts over. A
// state is a few kilobytes (at most 200 affinities, 100 co-engaged
// contents, 50 followed creators and shops, what the profile dismissed or
// watched to the end); a walk row is 8 bytes per item (about 1,100 on a
// first page).
const (
	maxViewerStates = 20_000
	maxKeptWalks    = 4_096
)

// keptViewerState is a viewer's state (forYouViewer without a walk's tail)
// as read at at, when the profile's write generation was gen.
type keptViewerState struct {
	v   *forYouViewer
	at  time.Time
	gen uint64
}

// keptWalk is a For You walk row this process stored: its viewer, its ids
// (the walk's positions after the row's offset) and when it was stored.
type keptWalk struct {
	viewer int64
	ids    []int64
	at     time.Time
}

// viewerStateKey names a viewer's state: whose it is and the settings it
// was read with (the affinity multipliers and candidate counts are in the
// statement).
func viewerStateKey(profile string, viewerID int64, s *ForYouSettings) string {
	return fmt.Sprintf("%d\x00%s\x00%p", viewerID, profile, s)
}

// state returns a kept viewer state for key, read less than the viewer TTL
// before now and since the profile's last write, or ok false and the
// profile's write generation to keep a fresh one with (putState).
func (f *FeedRankings) state(key, profile string, now time.Time) (v *forYouViewer, gen uint64, ok bool) {
	if f == nil || f.viewerTTL <= 0 {
		return nil, 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	gen = f.genLocked(profile)
	e, found := f.states[key]
	if found && e.gen == gen && now.Sub(e.at) < f.viewerTTL && !now.Before(e.at) {
		return e.v, gen, true
	}
	return nil, gen, false
}

// putState keeps v, read at at, unless the profile learned a write since
// gen was read (then v may not hold it).
func (f *FeedRankings) putState(key, profile string, gen uint64, v *forYouViewer, at time.Time) {
	if f == nil || f.viewerTTL <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deaf || f.genLocked(profile) != gen {
		return
	}
	if len(f.states) >= maxViewerStates {
		f.states = map[string]keptViewerState{}
	}
	f.states[key] = keptViewerState{v: v, at: at, gen: gen}
}

// keptWalkTTL is how long a kept walk row answers for the stored one: less
// than ListWalkTTL, so that a walk the database has pruned is never
// continued from memory (a minute allows for the clocks of this process and
// of PostgreSQL, which stamps the row).
const keptWalkTTL = ListWalkTTL - time.Minute

// putWalk keeps the walk row this process just stored.
func (f *FeedRankings) putWalk(walk, viewer int64, ids []int64, at time.Time) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deaf {
		return // a crash meanwhile would not be heard
	}
	if len(f.walks) >= maxKeptWalks {
		f.walks = map[int64]keptWalk{}
	}
	f.walks[walk] = keptWalk{viewer: viewer, ids: ids, at: at}
}

// walkTail returns the ids after the first skip of a kept walk row of
// viewer's, as the statement reads the stored row (ids[skip+1:]), or ok
// false when this process does not keep it.
func (f *FeedRankings) walkTail(walk, viewer, skip int64, now time.Time) (tail []int64, ok bool) {
	if f == nil {
		return nil, false
	}
	f.mu.Lock()
	w, found := f.walks[walk]
	f.mu.Unlock()
	if !found || w.viewer != viewer || now.Sub(w.at) >= keptWalkTTL || now.Before(w.at) {
		return nil, false
	}
	return w.ids[min(max(skip, 0), int64(len(w.ids))):], true
}

// forYouWalkTailSQL reads a walk row's ids after the first $2: a next page's
// items not served yet, when the viewer's state is known already.
const forYouWalkTailSQL = `SELECT ids[$2 + 1:] FROM list_walks WHERE id = $1 AND viewer_id = $3 AND kind = 'feed'`

// viewerState returns what ranking needs of the viewer besides the feed
// index (forYouViewerSQL's row) and, on a next page (walk not 0), the
// walk's items after skip in v.Tail; found is false when the walk is not
// there. It costs at most one statement, and none when f keeps both:
//   - a signed-out viewer without a device profile has no state (no
//     profile, follows or co-engagement): nothing is read;
//   - a viewer's state is kept for f's viewer TTL, unless the profile
//     learned a write since it was read (Forget, at each of the viewer's
//     own writes, on any process): so what the viewer does shows on their
//     next page, and someone else's engagement (co-engagement) within the
//     TTL;
//   - a walk row this process stored is kept (rows never change).
func (db *DB) viewerState(ctx context.Context, f *FeedRankings, s *ForYouSettings, profile string, viewerID int64, now time.Time, walk, skip int64) (v *forYouViewer, found bool, err error) {
	var (
		tail     []int64
		haveTail = walk == 0
	)
	if walk != 0 {
		tail, haveTail = f.walkTail(walk, viewerID, skip, now)
	}
	with := func(kept *forYouViewer) (*forYouViewer, bool, error) {
		if !haveTail {
			var t pq.Int64Array
			if err := db.GetContext(ctx, &t, forYouWalkTailSQL, walk, skip, viewerID); err != nil {
				if isNoRows(err) {
					return nil, false, nil
				}
				return nil, false, err
			}
			tail = t
			if tail == nil {
				tail = []int64{}
			}
		}
		out := *kept
		out.Tail = tail
		return &out, true, nil
	}
	if profile == "" && viewerID == 0 {
		return with(&forYouViewer{})
	}
	key := viewerStateKey(profile, viewerID, s)
	kept, gen, ok := f.state(key, profile, now)
	if ok {
		return with(kept)
	}
	var row forYouViewer
	w, k := walk, skip
	if haveTail {
		w, k = 0, 0 // the tail is known: the statement reads none
	}
	if err := db.GetContext(ctx, &row, s.sqlWith(forYouViewerSQL), profile, viewerID, now, w, k); err != nil {
		return nil, false, err
	}
	if w != 0 && row.Tail == nil {
		return nil, false, nil
	}
	if !haveTail {
		tail, haveTail = row.Tail, true
	}
	row.Tail = nil
	f.putState(key, profile, gen, &row, now)
	return with(&row)
}
