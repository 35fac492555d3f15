package store

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// diversifySlow is Diversify as it was (quadratic in the items: each pick
// moved the items left, each discovery slot looked at every item left),
// the oracle of TestDiversifyMatchesTheQuadraticOne.
func diversifySlow(items []rankedItem, pageSize int, s *ForYouSettings) []int64 {
	if pageSize <= 0 {
		pageSize = 1
	}
	shopCap := int(s.ShopCapPerPage)
	if shopCap <= 0 {
		shopCap = math.MaxInt
	}
	exploreCap := int(math.Floor(s.ExploreShare * float64(pageSize)))
	every := 0 // the reserved exploration slots: every such slot of a page
	if s.ExploreShare > 0 {
		every = int(math.Round(1 / s.ExploreShare))
	}
	left := append([]rankedItem(nil), items...)
	out := make([]int64, 0, len(items))
	shops := map[int64]int{}
	explored := 0
	prevAuthor := int64(-1)
	// A window bounds the search for a slot: past it, the rules give way.
	const window = 200
	for len(left) > 0 {
		if len(out)%pageSize == 0 {
			clear(shops)
			explored = 0
		}
		pick := -1
		if every > 0 && (len(out)%pageSize+1)%every == 0 && explored < exploreCap {
			for i := 0; i < len(left) && i < window; i++ {
				it := left[i]
				if it.Fresh && it.Matches && it.AuthorID != prevAuthor && (it.ShopID == 0 || shops[it.ShopID] < shopCap) {
					pick = i
					break
				}
			}
			if pick < 0 {
				pick = discover(left, prevAuthor, shops, shopCap)
			}
		}
		for pass := 0; pass < 4 && pick < 0; pass++ {
			for i := 0; i < len(left) && i < window; i++ {
				it := left[i]
				if pass < 3 && it.AuthorID == prevAuthor {
					continue
				}
				if pass < 2 && it.ShopID != 0 && shops[it.ShopID] >= shopCap {
					continue
				}
				if pass < 1 && it.Fresh && explored >= exploreCap {
					continue
				}
				pick = i
				break
			}
		}
		it := left[pick]
		left = append(left[:pick], left[pick+1:]...)
		out = append(out, it.ID)
		prevAuthor = it.AuthorID
		if it.ShopID != 0 {
			shops[it.ShopID]++
		}
		if it.Fresh {
			explored++
		}
	}
	return out
}

// discover returns the index in left of the discovery item: among the
// items the viewer has no affinity for either way (neither matching an
// interest nor resembling what they avoided) that meet the author and
// shop rules, the one with the lowest mix of the ranking's seed and its id
// (-1 when there is none). It looks at every item, not only the best
// ranked: content outside what the viewer is known to like ranks by
// popularity alone, and discovery is for what popularity does not show.
func discover(left []rankedItem, prevAuthor int64, shops map[int64]int, shopCap int) int {
	pick, best := -1, uint64(math.MaxUint64)
	for i, it := range left {
		if it.Matches || it.Avoided || it.AuthorID == prevAuthor || (it.ShopID != 0 && shops[it.ShopID] >= shopCap) {
			continue
		}
		if h := mix64(uint64(it.Seed)*0x9e3779b97f4a7c15 ^ uint64(it.ID)); h < best {
			pick, best = i, h
		}
	}
	return pick
}

// Diversify arranges exactly as the quadratic version did, for rankings of
// many sizes, authors, shops, fresh, matching, avoided and neutral items,
// page sizes and settings.
func TestDiversifyMatchesTheQuadraticOne(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		n := r.IntN(1500)
		if round%3 == 0 {
			n = r.IntN(40)
		}
		authors, shops := 1+r.IntN(60), 1+r.IntN(20)
		seed := r.Int64()
		items := make([]rankedItem, n)
		for i := range items {
			a := r.Float64()
			items[i] = rankedItem{ID: int64(n - i + r.IntN(3)*10000), AuthorID: int64(r.IntN(authors)), Fresh: r.IntN(4) == 0,
				Matches: a < 0.3, Avoided: a > 0.9, Seed: seed}
			if r.IntN(3) > 0 {
				items[i].ShopID = int64(1 + r.IntN(shops))
			}
		}
		s := DefaultForYouSettings
		switch round % 4 {
		case 1:
			s.ExploreShare = 0
		case 2:
			s.ShopCapPerPage = 1
		case 3:
			s.ExploreShare = 0.5
		}
		page := []int{1, 5, 20, 50}[r.IntN(4)]
		want := diversifySlow(items, page, &s)
		if got := Diversify(items, page, &s); !slices.Equal(got, want) {
			t.Fatalf("round %d (%d items, page %d): %v, want %v", round, n, page, got[:min(len(got), 40)], want[:min(len(want), 40)])
		}
		// Arranging only the head (what a page serves): the same head,
		// then the items left in rank order.
		k := r.IntN(n + 2)
		head := diversifyFirst(items, page, &s, k)
		if len(head) != n || !slices.Equal(head[:min(k, n)], want[:min(k, n)]) {
			t.Fatalf("round %d (%d items, page %d): the first %d of %v, want %v", round, n, page, k, head[:min(len(head), 40)], want[:min(len(want), 40)])
		}
		taken := map[int64]int{}
		for _, id := range head[:min(k, n)] {
			taken[id]++
		}
		var rest []int64
		for _, it := range items {
			if taken[it.ID] > 0 {
				taken[it.ID]--
				continue
			}
			rest = append(rest, it.ID)
		}
		if !slices.Equal(head[min(k, n):], rest) {
			t.Fatalf("round %d: after the first %d, %v, want the rest in rank order %v", round, k, head[min(k, n):], rest)
		}
	}
}
