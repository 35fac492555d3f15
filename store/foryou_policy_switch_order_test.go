package store_test

import (
	"context"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// A For You walk continued by a popular page (a FEED_POLICY switch) serves
// the walk's items after the first page's arrangement in rank order, as
// the README promises ("then the rest in rank order ... a popular or tags
// page continuing the walk after a FEED_POLICY switch serves it in rank
// order"). Ranking only the best items a page's arrangement reaches (the
// page, its spare and the 200 its rules search) left the rest of the
// stored walk in slab order, which the popular page then served as it lay
// (review5).
func TestForYouWalkTailInRankOrderAfterAPolicySwitch(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	seedForYouCatalogue(t, db)
	for _, viewer := range []int64{4, 7} {
		first, err := db.Feed(ctx, store.FeedArgs{ViewerID: viewer, Policy: store.PolicyForYou, PageArgs: store.PageArgs{First: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if !first.HasNextPage {
			t.Fatal("one page only")
		}
		cursor := first.Edges[len(first.Edges)-1].Cursor
		walk, _, _, err := store.WalkCursorParts(cursor)
		if err != nil {
			t.Fatal(err)
		}
		// The page, one more and the spare (5) are arranged; what follows
		// them is in rank order. The oracle ranks that rest as a set, now.
		const arranged = 10 + 1 + 5
		ranked, err := db.ForYouRankedInGo(ctx, &store.DefaultForYouSettings, store.FeedWeights{}, store.UserProfile(viewer), viewer, time.Now().UTC(), walk, arranged)
		if err != nil {
			t.Fatal(err)
		}
		if len(ranked) < 400 {
			t.Fatalf("viewer %d: %d items after the arrangement: too few to tell", viewer, len(ranked))
		}
		score := map[int64]float64{}
		for _, it := range ranked {
			score[it.ID] = it.Score
		}
		next, err := db.Feed(ctx, store.FeedArgs{ViewerID: viewer, Policy: store.PolicyPopular, PageArgs: store.PageArgs{First: 600, After: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		var prev int64
		out := 0
		for i, e := range next.Edges {
			_, pos, _, err := store.WalkCursorParts(e.Cursor)
			if err != nil {
				t.Fatal(err)
			}
			if pos <= arranged {
				continue
			}
			id := e.Node.Base().ID
			s, ok := score[id]
			if !ok {
				t.Fatalf("viewer %d: item %d at %d is not in the walk's rest", viewer, id, pos)
			}
			// A millisecond's decay moves scores far less than 1e-4.
			if prev != 0 && s > score[prev]+1e-4 {
				out++
				if out <= 3 {
					t.Errorf("viewer %d: page item %d (position %d, score %.6f) follows one scoring %.6f", viewer, i, pos, s, score[prev])
				}
			}
			prev = id
		}
		if out > 0 {
			t.Fatalf("viewer %d: %d of %d items out of rank order", viewer, out, len(next.Edges))
		}
	}
}
