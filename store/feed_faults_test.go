package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lib/pq"

	"showcase/store"
	"showcase/store/storetest"
)

// A walk begun under one FEED_POLICY and continued under another (a server
// restarted with another policy, or two processes of a rolling deployment
// with different ones) continues the walk: the For You cursors of a page
// after the first (whose walk row holds the walk's tail from the cursor's
// offset) and the popular and tags cursors (whose row holds the walk from
// its start) are read by every policy at the walk's position, so that a
// walk whose pages alternate policies at random never repeats an item and
// serves every item its first page ranked. Before, the popular and tags
// policies read a For You cursor's row from its start, ignoring the offset:
// the page after it skipped as many items as the walk had served and could
// repeat ones it had.
func TestFeedCursorsSurviveAPolicySwitch(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	seedForYouCatalogue(t, db)
	policies := []string{store.PolicyForYou, store.PolicyPopular, store.PolicyTags}
	rng := rand.New(rand.NewPCG(19, 2))
	// The ids a walk's first page stored (its whole arrangement).
	firstRow := func(cursor string) []int64 {
		t.Helper()
		walk, _, _, err := store.WalkCursorParts(cursor)
		if err != nil {
			t.Fatal(err)
		}
		var ids pq.Int64Array
		if err := db.GetContext(ctx, &ids, `SELECT ids FROM list_walks WHERE id = $1`, walk); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	for trial := 0; trial < 12; trial++ {
		viewer := int64(1 + trial*3)
		first := policies[trial%3]
		var (
			after  string
			served []int64
			seen   = map[int64]bool{}
			want   []int64
			path   []string
		)
		for page := 0; ; page++ {
			if page > 200 {
				t.Fatalf("trial %d: the walk did not end within 200 pages", trial)
			}
			policy := first
			if page > 0 {
				policy = policies[rng.IntN(3)]
			}
			path = append(path, policy)
			p, err := db.Feed(ctx, store.FeedArgs{ViewerID: viewer, Policy: policy, PageArgs: store.PageArgs{First: 7 + rng.IntN(20), After: after}})
			if err != nil {
				t.Fatalf("trial %d, page %d (%v): %v", trial, page, path, err)
			}
			for _, e := range p.Edges {
				id := e.Node.Base().ID
				if seen[id] {
					t.Fatalf("trial %d (%v): item %d served twice", trial, path, id)
				}
				seen[id] = true
				served = append(served, id)
			}
			if page == 0 {
				if len(p.Edges) == 0 {
					t.Fatalf("trial %d: an empty first page", trial)
				}
				want = firstRow(p.Edges[0].Cursor)
			}
			if !p.HasNextPage {
				break
			}
			after = p.Edges[len(p.Edges)-1].Cursor
		}
		// A For You page leaves out what the viewer marked not interested
		// or watched to the end (videos), which a popular or tags first
		// page ranked: those may be missing, nothing else.
		var done []int64
		if err := db.SelectContext(ctx, &done, `SELECT pc.content_id FROM profile_contents pc JOIN contents c ON c.id = pc.content_id
			WHERE pc.profile = $1 AND (pc.dismissed OR (pc.completed AND c.kind = 'VIDEO'))`, store.UserProfile(viewer)); err != nil {
			t.Fatal(err)
		}
		got, w := slices.Clone(served), slices.DeleteFunc(slices.Clone(want), func(id int64) bool {
			return first != store.PolicyForYou && slices.Contains(done, id) && !seen[id]
		})
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Fatalf("trial %d (%v): served %d items, the first page ranked %d: the walk skipped or added some (%s)",
				trial, path, len(got), len(w), diffIDs(got, w))
		}
	}
}

// diffIDs describes how two sorted id lists differ.
func diffIDs(got, want []int64) string {
	var extra, missing []int64
	for _, id := range got {
		if _, ok := slices.BinarySearch(want, id); !ok {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if _, ok := slices.BinarySearch(got, id); !ok {
			missing = append(missing, id)
		}
	}
	return fmt.Sprintf("extra %v, missing %v", extra[:min(len(extra), 10)], missing[:min(len(missing), 10)])
}
