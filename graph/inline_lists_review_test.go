package graph_test

import (
	"bytes"
	"fmt"
	"testing"

	"showcase/graph"
)

// TestInlineListsOddSelections (review): selections that make the inline
// decision harder (aliases of variants with different arguments, fragments
// that add a loader field, @include/@skip by variable, a shop under one
// alias only) give the same answer and cost the same statements with
// inline lists as with a goroutine per element.
func TestInlineListsOddSelections(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	token, _ := a.user("odd-inline-seller", false)
	shop := a.shop(token, "odd-inline-shop")
	for i := range 12 {
		a.product(token, shop, fmt.Sprintf("odd-inline-%02d", i), nil)
	}
	queries := []struct {
		name, query string
		vars        map[string]any
	}{
		{"aliases with different first", `{ products(first: 10) { edges { node { id a: variants(first: 1) { edges { cursor node { sku } } } b: variants(first: 2) { edges { node { sku price { amount } } } } } } } }`, nil},
		{"alias with an image", `{ products(first: 10) { edges { node { id a: variants { edges { node { sku } } } b: variants { edges { node { image { url } } } } } } } }`, nil},
		{"fragment adds shop", `query { products(first: 10) { edges { node { id ...S } } } } fragment S on Product { shop { name } variants { edges { node { sku } } } }`, nil},
		{"skip a loader field", `query($s: Boolean!) { products(first: 10) { edges { node { id shop @skip(if: $s) { name } variants { edges { node { sku } } } } } } }`, map[string]any{"s": true}},
		{"include a loader field", `query($s: Boolean!) { products(first: 10) { edges { node { id shop @include(if: $s) { name } variants { edges { node { sku } } } } } } }`, map[string]any{"s": true}},
		{"inline fragment on edge", `{ products(first: 10) { edges { ... on ProductEdge { node { id priceRange { min { amount } } } } } } }`, nil},
		{"variants after a cursor", `{ products(first: 10) { edges { node { id variants(first: 1, after: null) { pageInfo { hasNextPage endCursor } edges { node { sku } } } } } } }`, nil},
	}
	run := func(name, query string, vars map[string]any) ([]byte, int64) {
		t.Helper()
		resp := a.post("", query, vars)
		if len(resp.Errors) > 0 {
			t.Fatalf("%s: %+v", name, resp.Errors)
		}
		return resp.Data, a.statements.Load() // counted per request
	}
	type answer struct {
		data       []byte
		statements int64
	}
	inline := map[string]answer{}
	for _, q := range queries {
		d, n := run(q.name, q.query, q.vars)
		inline[q.name] = answer{d, n}
	}
	graph.SetInlineLists(false)
	defer graph.SetInlineLists(true)
	for _, q := range queries {
		d, n := run(q.name, q.query, q.vars)
		if want := inline[q.name]; !bytes.Equal(d, want.data) || n != want.statements {
			t.Errorf("%s: inline %d statements %s\ngoroutines %d statements %s", q.name, want.statements, want.data, n, d)
		}
	}
}
