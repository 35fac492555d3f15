package store

import (
	"slices"
	"testing"
	"time"
)

// A content that lists a tag twice (publishVideo keeps tags as given)
// counts once in that tag's candidates, whether the index learnt it in a
// full load (bulk: appended per tag, then sorted) or in a catch-up
// (inserted, once): the tag's newest InterestCandidates contents are
// drawn, as the SQL ranking's `tags @> ARRAY[tag] … LIMIT` draws them,
// and two processes (one that loaded, one that caught up) rank alike.
func TestFeedIndexDuplicateTagCountsOnce(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	nowUs := now.UnixMicro()
	s := &DefaultForYouSettings
	n := int(s.InterestCandidates) + 1
	var rows []feedIndexRow
	for i := range n {
		// Old (not fresh), seen (not explore), unscored (not popular),
		// each by its own author: only the tag draws them.
		r := feedIndexRow{ID: int64(i + 1), Author: int64(1000 + i), Tags: []string{"knit"},
			Published: nowUs - int64(30*24*3600e6) + int64(i)*1e6, Created: nowUs - int64(30*24*3600e6), Views: 10_000}
		if i == n-1 {
			r.Tags = []string{"knit", "knit"} // the newest
		}
		rows = append(rows, r)
	}
	build := func(bulk bool) *FeedIndex {
		x := newFeedIndex()
		x.mu.Lock()
		defer x.mu.Unlock()
		x.reset()
		for i := range rows {
			r := rows[i]
			x.apply(&r, bulk)
		}
		if bulk {
			x.sortAll()
		}
		x.refreshed = nowUs
		x.loaded = true
		return x
	}
	loaded, caughtUp := build(true), build(false)
	v := &forYouViewer{SrcTags: []string{"knit"}}
	ids := func(x *FeedIndex) []int64 {
		var out []int64
		for _, it := range x.rank(s, FeedWeights{}, v, now, false) {
			out = append(out, it.ID)
		}
		slices.Sort(out)
		return out
	}
	got, want := ids(loaded), ids(caughtUp)
	if len(want) != int(s.InterestCandidates) {
		t.Fatalf("caught up: %d candidates, want %d", len(want), int(s.InterestCandidates))
	}
	if !slices.Equal(got, want) {
		t.Errorf("loaded in full: %d candidates %v,\ncaught up: %d %v", len(got), got, len(want), want)
	}
	loaded.mu.RLock()
	defer loaded.mu.RUnlock()
	if err := checkFeedIndexLists(loaded); err != nil {
		t.Errorf("loaded in full: %v", err)
	}
}
