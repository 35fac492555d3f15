package graph_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestFieldArgumentsFollowEachOperationsVariables: a field's arguments are
// parsed once an operation and shared by every object of a list, but the
// same document (parsed once, cached) sent again with other variables
// reads the new ones, on every product of the page.
func TestFieldArgumentsFollowEachOperationsVariables(t *testing.T) {
	a := newTestAPI(t)
	token, _ := a.user("args-seller", false)
	shop := a.shop(token, "args-shop")
	for i := range 4 {
		a.product(token, shop, fmt.Sprintf("args-%02d", i), nil)
	}
	const query = `query($n: Int, $m: Int) { products(first: 4) { edges { node { title
		variants(first: $n) { edges { node { sku } } }
		more: variants(first: $m) { edges { node { sku } } } } } } }`
	for _, n := range []int{1, 2, 0, 2, 1} {
		m := 2 - n
		resp := a.post("", query, map[string]any{"n": n, "m": m})
		if len(resp.Errors) > 0 {
			t.Fatalf("n=%d: %+v", n, resp.Errors)
		}
		var out struct {
			Products struct {
				Edges []struct {
					Node struct {
						Title          string
						Variants, More struct{ Edges []struct{} }
					}
				}
			}
		}
		if err := json.Unmarshal(resp.Data, &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Products.Edges) != 4 {
			t.Fatalf("n=%d: %d products", n, len(out.Products.Edges))
		}
		for _, e := range out.Products.Edges {
			if len(e.Node.Variants.Edges) != n || len(e.Node.More.Edges) != m {
				t.Errorf("n=%d m=%d: %s has %d and %d variants", n, m, e.Node.Title, len(e.Node.Variants.Edges), len(e.Node.More.Edges))
			}
		}
	}
}
