package graph_test

import (
	"context"
	"testing"

	"showcase/server/demo"
)

// BenchmarkSearch measures search requests through the real handler, each
// executed (signed-out callers would share answers otherwise: a token skips
// the response cache), on a dataset of 20,000 products and 50,000 videos:
// a first page over every kind, a first page of products only, and the
// second page of a walk. Terms rotate over English, Chinese and Indonesian.
//
//	go test ./graph -run '^$' -bench Search -benchtime 200x
func BenchmarkSearch(b *testing.B) {
	a := newTestAPI(b)
	if _, err := demo.Seed(context.Background(), a.db, demo.SeedOptions{Users: 2000, Creators: 300, Shops: 40,
		Products: 20000, Videos: 50000, LiveSessions: 100, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	token, _ := a.user("bench-searcher", false)
	terms := []string{"serum", "hoodie", "candle", "yoga mat", "精华", "保湿", "kulit", "camilan", "creme"}
	const page = `query($q: String!, $types: [SearchType!], $after: String) { search(query: $q, types: $types, first: 20, after: $after) {
		edges { cursor node { __typename ... on Product { title } ... on Video { caption } ... on LiveSession { title } ... on User { handle } ... on Shop { name } } }
		pageInfo { endCursor } } }`
	run := func(b *testing.B, vars func(i int) map[string]any) {
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if resp, err := a.postRaw(token, page, vars(i)); err != nil || len(resp.Errors) > 0 {
				b.Fatalf("search failed: %v %+v", err, resp.Errors)
			}
		}
	}
	b.Run("AllKinds", func(b *testing.B) {
		run(b, func(i int) map[string]any { return map[string]any{"q": terms[i%len(terms)]} })
	})
	b.Run("Products", func(b *testing.B) {
		run(b, func(i int) map[string]any {
			return map[string]any{"q": terms[i%len(terms)], "types": []string{"PRODUCT"}}
		})
	})
	b.Run("NextPage", func(b *testing.B) {
		var out searchOut
		a.ok(token, page, map[string]any{"q": "serum"}, &out)
		after := *out.Search.PageInfo.EndCursor
		run(b, func(int) map[string]any { return map[string]any{"q": "serum", "after": after} })
	})
}
