package store

import (
	"slices"
	"testing"
)

func TestDiversify(t *testing.T) {
	s := DefaultForYouSettings
	s.ShopCapPerPage, s.ExploreShare = 2, 0.25
	// Best first: author 1 (shop 10) dominates the scores, two fresh items lead.
	items := []rankedItem{
		{ID: 1, AuthorID: 1, ShopID: 10, Fresh: true}, {ID: 2, AuthorID: 1, ShopID: 10, Fresh: true},
		{ID: 3, AuthorID: 1, ShopID: 10}, {ID: 4, AuthorID: 1, ShopID: 10},
		{ID: 5, AuthorID: 2, ShopID: 20}, {ID: 6, AuthorID: 3, ShopID: 30}, {ID: 7, AuthorID: 2, ShopID: 20},
		{ID: 8, AuthorID: 4, ShopID: 40},
	}
	got := Diversify(items, 4, &s)
	// Page 1: one fresh item (25% of 4), at most 2 of shop 10, authors alternate.
	want := []int64{1, 5, 3, 6, 2, 7, 4, 8}
	if !slices.Equal(got, want) {
		t.Fatalf("Diversify = %v, want %v", got, want)
	}
	// Every 4th slot (ExploreShare 0.25) is reserved for the best fresh item
	// matching the viewer, however low it ranks.
	reserved := []rankedItem{{ID: 1, AuthorID: 1}, {ID: 2, AuthorID: 2}, {ID: 3, AuthorID: 1}, {ID: 4, AuthorID: 2},
		{ID: 5, AuthorID: 1}, {ID: 6, AuthorID: 3, Fresh: true, Matches: true}}
	if got := Diversify(reserved, 4, &s); !slices.Equal(got, []int64{1, 2, 3, 6, 4, 5}) {
		t.Fatalf("reserved exploration slot: %v", got)
	}
	// With no fresh matching item, the reserved slot goes to discovery: an
	// item the viewer has no affinity for (not a matching one, not an
	// avoided one), however low it ranks; the seed varies which.
	discovery := func(seed int64) []rankedItem {
		return []rankedItem{{ID: 1, AuthorID: 1, Matches: true, Seed: seed}, {ID: 2, AuthorID: 2, Matches: true, Seed: seed},
			{ID: 3, AuthorID: 1, Matches: true, Seed: seed}, {ID: 4, AuthorID: 2, Matches: true, Seed: seed},
			{ID: 5, AuthorID: 3, Avoided: true, Seed: seed}, {ID: 6, AuthorID: 4, Seed: seed}, {ID: 7, AuthorID: 5, Seed: seed},
			{ID: 8, AuthorID: 6, Seed: seed}}
	}
	seen := map[int64]bool{}
	for seed := int64(0); seed < 20; seed++ {
		got := Diversify(discovery(seed), 4, &s)
		if !slices.Equal(got[:3], []int64{1, 2, 3}) || got[3] < 6 {
			t.Fatalf("discovery slot, seed %d: %v", seed, got)
		}
		if again := Diversify(discovery(seed), 4, &s); !slices.Equal(got, again) {
			t.Fatalf("discovery is not deterministic: %v then %v", got, again)
		}
		seen[got[3]] = true
	}
	if len(seen) < 2 {
		t.Fatalf("the seed does not vary the discovery slot: %v", seen)
	}
	// With one author only, the rules give way rather than drop items.
	one := []rankedItem{{ID: 1, AuthorID: 1, ShopID: 1}, {ID: 2, AuthorID: 1, ShopID: 1}, {ID: 3, AuthorID: 1, ShopID: 1}}
	if got := Diversify(one, 2, &s); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("one author: %v", got)
	}
}
