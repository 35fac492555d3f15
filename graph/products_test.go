package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"showcase/store"
)

func TestProductsPagingAndSearch(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("catalog")
	for i := 0; i < 23; i++ {
		title := fmt.Sprintf("vitamin-serum-%02d", i)
		if i%2 == 0 {
			title = fmt.Sprintf("yoga-mat-%02d", i)
		}
		a.product(f.sellerToken, f.shopID, title, map[string]any{"tags": []string{"tag" + fmt.Sprint(i%3)}})
	}
	walk := func(filter map[string]any) []string {
		t.Helper()
		var ids []string
		seen := map[string]bool{}
		vars := map[string]any{"first": 4, "filter": filter}
		for page := 0; page < 50; page++ {
			var out struct {
				Products struct {
					Edges    []struct{ Node struct{ ID, Title string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			a.ok("", `query($first: Int, $after: String, $filter: ProductFilter) { products(first: $first, after: $after, filter: $filter) {
				edges { node { id title } } pageInfo { hasNextPage endCursor } } }`, vars, &out)
			for _, e := range out.Products.Edges {
				if seen[e.Node.ID] {
					t.Fatalf("product %s repeated", e.Node.ID)
				}
				seen[e.Node.ID] = true
				ids = append(ids, e.Node.Title)
			}
			if !out.Products.PageInfo.HasNextPage {
				return ids
			}
			vars["after"] = *out.Products.PageInfo.EndCursor
		}
		t.Fatal("paging does not end")
		return nil
	}
	if got := walk(nil); len(got) != 24 {
		t.Fatalf("all products: %d", len(got))
	}
	if got := walk(map[string]any{"shopId": f.shopID, "tag": "tag1"}); len(got) != 8 {
		t.Fatalf("tag1 products: %d %v", len(got), got)
	}
	serums := walk(map[string]any{"search": "serum"})
	if len(serums) != 12 { // 11 vitamin serums and the fixture's serum
		t.Fatalf("search serum: %d %v", len(serums), serums)
	}
	if got := walk(map[string]any{"search": "yoga mats"}); len(got) != 12 {
		t.Fatalf("search yoga mats (stemmed): %d %v", len(got), got)
	}
}

func TestShopNestedConnections(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("nested")
	for i := 0; i < 4; i++ {
		a.product(f.sellerToken, f.shopID, fmt.Sprintf("extra-%d", i), nil)
		a.ok(f.sellerToken, publishVideoMutation, videoInput(f.productID), nil)
	}
	var out struct {
		Shop struct {
			Handle   string
			Owner    struct{ Handle string }
			Products struct {
				Edges    []struct{ Node struct{ Title string } }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
			Videos struct {
				Edges []struct{ Node struct{ Caption string } }
			}
			LiveSessions struct{ Edges []any }
		}
		Shops struct{ TotalCount int }
	}
	q := `query($after: String) { shop(handle: "NESTED-shop") { handle owner { handle }
		products(first: 3, after: $after) { edges { node { title } } pageInfo { hasNextPage endCursor } }
		videos(first: 10) { edges { node { caption } } } liveSessions { edges { cursor } } }
		shops { totalCount } }`
	a.ok("", q, nil, &out)
	s := out.Shop
	if s.Handle != "nested-shop" || s.Owner.Handle != "nested" || len(s.Products.Edges) != 3 || !s.Products.PageInfo.HasNextPage ||
		len(s.Videos.Edges) != 4 || len(s.LiveSessions.Edges) != 0 || out.Shops.TotalCount != 1 {
		t.Fatalf("shop = %+v", out)
	}
	a.ok("", q, map[string]any{"after": s.Products.PageInfo.EndCursor}, &out)
	if len(out.Shop.Products.Edges) != 2 || out.Shop.Products.PageInfo.HasNextPage {
		t.Fatalf("second page = %+v", out.Shop.Products)
	}
}

// TestProductFilterTagLength: a tag filter of 40 characters (the longest tag
// a product may carry) finds its products; one of 41 can match nothing and is
// one BAD_USER_INPUT naming filter.tag, with no data.
func TestProductFilterTagLength(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("catalog")
	longest := strings.Repeat("t", store.MaxTagLength)
	a.product(f.sellerToken, f.shopID, "long-tagged", map[string]any{"tags": []string{longest}})
	const q = `query($filter: ProductFilter) { products(first: 5, filter: $filter) { edges { node { title } } } }`
	var out struct {
		Products struct {
			Edges []struct{ Node struct{ Title string } }
		}
	}
	a.ok("", q, map[string]any{"filter": map[string]any{"tag": longest}}, &out)
	if len(out.Products.Edges) != 1 || out.Products.Edges[0].Node.Title != "long-tagged" {
		t.Fatalf("40-character tag: %+v", out.Products.Edges)
	}
	resp := a.post("", q, map[string]any{"filter": map[string]any{"tag": longest + "t"}})
	if resp.code() != "BAD_USER_INPUT" || len(resp.Errors) != 1 || !strings.Contains(resp.Errors[0].Message, "at most 40") {
		t.Fatalf("41-character tag: %+v", resp.Errors)
	}
	if string(resp.Data) != "null" && string(resp.Data) != "" && !strings.Contains(string(resp.Data), `"products":null`) {
		t.Fatalf("41-character tag returned data: %s", resp.Data)
	}
}
