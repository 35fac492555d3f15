package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"showcase/graph"
)

// TestFeedPageListsInline: a feed page whose items ask only what primeFeed
// primed (the benchmark's page, and the same through fragments, aliases and
// @skip/@include, anonymous and signed in) marshals its edges inline, and
// every item's cards and their variants too; a page whose items ask one
// field outside the inline set (a poster, an author's followers, figures
// for a signed-in viewer when the shops are not asked) keeps a goroutine
// per item, its cards still inline. Each answer (data and errors), and its
// SQL statements, are those given with a goroutine per element.
func TestFeedPageListsInline(t *testing.T) {
	a := newTestAPICached(t, time.Minute, countingStatements)
	a.manyContents(30)
	token, _ := a.user("inline-feed", false)
	type result struct {
		data, errs []byte
		statements int64
		inline     int64
	}
	run := func(token, query string) result {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		before := graph.InlineListCount()
		resp := a.serve(req)
		// Concurrent elements add their errors in any order.
		var errs []string
		for _, e := range resp.Errors {
			b, _ := json.Marshal(e)
			errs = append(errs, string(b))
		}
		slices.Sort(errs)
		joined, _ := json.Marshal(errs)
		return result{data: resp.Data, errs: joined, statements: a.statements.Load(), inline: graph.InlineListCount() - before}
	}
	const (
		fragments = `{ feed(first: 20) { ...page } }
			fragment page on FeedConnection { edges { __typename node { __typename ...video ... on LiveSession { title status cards: products { edges { node { priceRange { min { amount } } } } } } } } }
			fragment video on ContentNode { id a: author { handle displayName } shop @include(if: true) { name currencyCode }
				products(first: 3) { totalCount edges { node { title variants(first: 5) { edges { node { sku price { amount } } } } } } }
				metrics { views likes } week: metrics(window: LAST_7_DAYS) { views engagementRate }
				... on Video { caption poster @skip(if: true) { url } } }`
		poster      = `{ feed(first: 20) { edges { node { id ... on Video { poster { url } } products(first: 3) { edges { node { title variants { edges { node { sku } } } } } } } } } }`
		followers   = `{ feed(first: 20) { edges { node { id author { handle followers(first: 1) { pageInfo { hasNextPage } } } products(first: 3) { edges { node { title } } } } } } }`
		figuresOnly = `{ feed(first: 20) { edges { node { id metrics { views } products(first: 3) { edges { node { title } } } } } } }`
		// Every item's cards fail (first must not be negative): the
		// non-null errors propagate to the whole feed.
		failing = `{ feed(first: 20) { edges { node { id products(first: -1) { edges { node { title } } } } } } }`
	)
	cases := []struct {
		name, token, query string
		feedInline         bool
	}{
		{"benchmark page, anonymous", "", benchFeedQuery, true},
		{"benchmark page, signed in", token, benchFeedQuery, true},
		{"fragments, aliases, @skip and @include", "", fragments, true},
		{"fragments, signed in", token, fragments, true},
		{"a poster", "", poster, false},
		{"an author's followers", "", followers, false},
		{"figures without shops, anonymous", "", figuresOnly, true},
		{"figures without shops, signed in", token, figuresOnly, false},
		{"failing cards", "", failing, true},
	}
	inline := map[string]result{}
	for _, c := range cases {
		r := run(c.token, c.query)
		if len(r.data) == 0 {
			t.Fatalf("%s: no data: %s", c.name, r.errs)
		}
		var want int64 = 1 // failing: the feed's edges; every item's cards failed
		if c.query != failing {
			want = listsOfTwoOrMore(t, r.data)
			if !c.feedInline {
				want-- // the feed's edges keep their goroutines
			}
		}
		if r.inline != want {
			t.Errorf("%s: %d lists marshalled inline, want %d", c.name, r.inline, want)
		}
		if c.query == failing && (bytes.Contains(r.data, []byte(`"edges"`)) || bytes.Count(r.errs, []byte("first must not be negative")) != 20) {
			t.Errorf("%s: want the feed null with an error per item, got %.1000s %.3000s", c.name, r.data, r.errs)
		}
		inline[c.name] = r
	}

	graph.SetInlineLists(false)
	defer graph.SetInlineLists(true)
	for _, c := range cases {
		r, in := run(c.token, c.query), inline[c.name]
		if r.inline != 0 {
			t.Errorf("%s, goroutines: %d lists marshalled inline", c.name, r.inline)
		}
		if !bytes.Equal(r.data, in.data) || !bytes.Equal(r.errs, in.errs) {
			t.Errorf("%s: the inline answer differs:\n%.3000s %.1000s\n%.3000s %.1000s", c.name, in.data, in.errs, r.data, r.errs)
		}
		if r.statements != in.statements {
			t.Errorf("%s: %d SQL statements inline, %d with goroutines", c.name, in.statements, r.statements)
		}
	}
}

// listsOfTwoOrMore counts the "edges" lists of two or more elements in a
// response's data (marshalList marshals a list of one as gqlgen does).
func listsOfTwoOrMore(t *testing.T, data []byte) int64 {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	var n int64
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if l, ok := e.([]any); ok && k == "edges" && len(l) >= 2 {
					n++
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return n
}
