package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"showcase/graph"
)

// manyContents adds n videos (some sharing a publish time and popularity, so
// ranking ties are exercised) and 3 live sessions, each with product cards.
func (a *testAPI) manyContents(n int) fixture {
	a.t.Helper()
	f := a.fixture("bigshop")
	for i := 0; i < 3; i++ {
		a.product(f.sellerToken, f.shopID, fmt.Sprintf("card-%d", i), nil)
	}
	ctx := context.Background()
	_, err := a.db.ExecContext(ctx, `
		INSERT INTO contents (kind, author_id, shop_id, tags, published_at, view_count, like_count, caption, playback_url, duration_seconds)
		SELECT 'VIDEO', s.owner_id, s.id,
			CASE WHEN i % 3 = 0 THEN ARRAY['skincare'] WHEN i % 3 = 1 THEN ARRAY['fitness'] ELSE ARRAY['skincare','ootd'] END,
			now() - ((i % 7) || ' hours')::interval, (i % 5) * 100, i % 4, 'video ' || i, 'https://cdn.example/' || i, 30
		FROM generate_series(1, $1) i, shops s`, n)
	if err != nil {
		a.t.Fatal(err)
	}
	_, err = a.db.ExecContext(ctx, `
		INSERT INTO contents (kind, author_id, shop_id, tags, published_at, title, live_status, started_at)
		SELECT 'LIVE', s.owner_id, s.id, ARRAY['skincare'], now() - interval '1 hour', 'live ' || i,
			CASE WHEN i = 1 THEN 'LIVE' ELSE 'SCHEDULED' END, now() - interval '1 hour'
		FROM generate_series(1, 3) i, shops s;
		INSERT INTO content_products (content_id, product_id, position)
		SELECT c.id, p.id, row_number() OVER (PARTITION BY c.id ORDER BY p.id)
		FROM contents c, products p;`)
	if err != nil {
		a.t.Fatal(err)
	}
	return f
}

const feedPageQuery = `query($first: Int, $after: String) { feed(first: $first, after: $after) {
	edges { cursor node { __typename id } } pageInfo { hasNextPage endCursor } } }`

type feedPage struct {
	Feed struct {
		Edges []struct {
			Cursor string
			Node   struct {
				Typename string `json:"__typename"`
				ID       string
			}
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
}

func TestFeedPagingYieldsEachItemOnce(t *testing.T) {
	a := newTestAPI(t)
	a.manyContents(95)
	viewerToken, viewer := a.user("reader", false)
	if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET interest_tags = ARRAY['fitness'] WHERE id = $1`, viewer.ID); err != nil {
		t.Fatal(err)
	}
	const total = 98
	for name, token := range map[string]string{"Anonymous": "", "SignedIn": viewerToken} {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			var order []string
			vars := map[string]any{"first": 7}
			for pages := 0; ; pages++ {
				if pages > total {
					t.Fatal("paging does not end")
				}
				var p feedPage
				a.ok(token, feedPageQuery, vars, &p)
				for _, e := range p.Feed.Edges {
					if seen[e.Node.ID] {
						t.Fatalf("item %s repeated on page %d", e.Node.ID, pages)
					}
					seen[e.Node.ID] = true
					order = append(order, e.Node.Typename)
				}
				if !p.Feed.PageInfo.HasNextPage {
					break
				}
				vars["after"] = *p.Feed.PageInfo.EndCursor
			}
			if len(seen) != total {
				t.Fatalf("walked %d items, want %d", len(seen), total)
			}
			if order[0] != "LiveSession" {
				t.Fatalf("the live session on air is not first: %v", order[:3])
			}
		})
	}
}

func TestFeedRanksByViewerInterests(t *testing.T) {
	a := newTestAPI(t)
	a.manyContents(30)
	token, viewer := a.user("fit", false)
	if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET interest_tags = ARRAY['fitness'] WHERE id = $1`, viewer.ID); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Feed struct {
			Edges []struct {
				Node struct {
					Typename string `json:"__typename"`
					Tags     []string
				}
			}
		}
	}
	a.ok(token, `{ feed(first: 11) { edges { node { __typename ... on Video { tags } } } } }`, nil, &out)
	// After the live session on air, the ten fitness videos lead.
	for i, e := range out.Feed.Edges[1:] {
		if len(e.Node.Tags) != 1 || e.Node.Tags[0] != "fitness" {
			t.Fatalf("item %d has tags %v, want [fitness]", i+1, e.Node.Tags)
		}
	}
}

const feedDeepQuery = `query($first: Int) { feed(first: $first) { edges { node {
	id author { handle } shop { name owner { handle } }
	products(first: 3) { edges { node { title priceRange { min { amount } }
		variants(first: 5) { edges { node { sku price { amount } availableForSale } } } } } }
	... on LiveSession { pinnedProduct { title } } } } } }`

func TestFeedCostsAConstantNumberOfStatements(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	a.manyContents(60)
	token, _ := a.user("counter", false)
	counts := map[int]int64{}
	for _, first := range []int{5, 50} {
		var out struct {
			Feed struct{ Edges []any }
		}
		a.ok(token, feedDeepQuery, map[string]any{"first": first}, &out)
		if len(out.Feed.Edges) != first {
			t.Fatalf("feed(first: %d) returned %d edges", first, len(out.Feed.Edges))
		}
		counts[first] = a.statements.Load()
	}
	if counts[5] != counts[50] || counts[50] > 8 {
		t.Fatalf("statements: first 5 → %d, first 50 → %d; want equal and at most 8", counts[5], counts[50])
	}
	t.Logf("feed(first: 50) with author, shop, products and variants: %d statements", counts[50])
}

// countingStatements gives loaders a window no busy machine overruns, so
// that a level of the query is never split into two batches: tests that
// count statements count the query's shape, not the machine's load.
func countingStatements(r *graph.Resolver) { r.BatchWait = 100 * time.Millisecond }

func TestFirstIsCapped(t *testing.T) {
	a := newTestAPI(t)
	for _, q := range []string{`{ feed(first: 101) { edges { cursor } } }`, `{ products(first: 500) { edges { cursor } } }`,
		`{ shops(first: -1) { edges { cursor } } }`, `{ feed(after: "garbage!") { edges { cursor } } }`} {
		if resp := a.post("", q, nil); resp.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: errors %+v", q, resp.Errors)
		}
	}
}

func TestFeedKeepsNewContentBetweenScoreRefreshes(t *testing.T) {
	a := newTestAPI(t)
	f := a.manyContents(30)
	if err := a.db.RefreshContentScores(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(f.sellerToken, publishVideoMutation, videoInput(f.productID), &pv)
	seen := map[string]bool{}
	vars := map[string]any{"first": 50}
	for page := 0; page < 10; page++ {
		var p feedPage
		a.ok("", feedPageQuery, vars, &p)
		for _, e := range p.Feed.Edges {
			if seen[e.Node.ID] {
				t.Fatalf("repeated %s", e.Node.ID)
			}
			seen[e.Node.ID] = true
		}
		if !p.Feed.PageInfo.HasNextPage {
			break
		}
		vars["after"] = *p.Feed.PageInfo.EndCursor
	}
	if !seen[pv.PublishVideo.Video.ID] || len(seen) != 34 {
		t.Fatalf("walked %d items; the video published after the refresh was seen: %v", len(seen), seen[pv.PublishVideo.Video.ID])
	}
}
