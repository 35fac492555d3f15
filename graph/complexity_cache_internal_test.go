package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2"
)

// TestComplexityRememberedPerOperation: rememberingComplexityLimit gives
// the complexity gqlgen's FixedComplexityLimit computes; an operation
// without variables is computed once (a second request with the same
// parsed document reads the remembered number); one with variables, or
// over the limit (refused with COMPLEXITY_LIMIT_EXCEEDED each time), is
// computed every time and not remembered.
func TestComplexityRememberedPerOperation(t *testing.T) {
	cfg := Config{}
	weightByFirst(&cfg.Complexity)
	es := NewExecutableSchema(cfg)
	const limit = 2000
	gqlgens, ours := extension.FixedComplexityLimit(limit), newRememberingComplexityLimit(limit)
	for _, ext := range []graphql.HandlerExtension{gqlgens, ours} {
		if err := ext.Validate(es); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	opCtx := func(q string, vars map[string]any) *graphql.OperationContext {
		doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), q, nil)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return &graphql.OperationContext{RawQuery: q, Doc: doc, Variables: vars}
	}
	complexity := func(ext graphql.OperationContextMutator, oc *graphql.OperationContext) (int, string) {
		oc.Stats = graphql.Stats{}
		err := ext.MutateOperationContext(ctx, oc)
		code := ""
		if err != nil {
			code, _ = err.Extensions["code"].(string)
		}
		if s, _ := oc.Stats.GetExtension("ComplexityLimit").(*extension.ComplexityStats); s != nil {
			if s.ComplexityLimit != limit {
				t.Errorf("limit %d in the statistics, want %d", s.ComplexityLimit, limit)
			}
			return s.Complexity, code
		}
		return -1, code
	}

	feed := opCtx(`{ feed(first: 20) { edges { node { id products(first: 3) { edges { node { title } } } } } } }`, nil)
	want, _ := complexity(gqlgens, feed)
	if got, code := complexity(ours, feed); got != want || code != "" || want <= 0 {
		t.Fatalf("first request: complexity %d (%q), gqlgen's %d", got, code, want)
	}
	op := feed.Doc.Operations[0]
	if n, ok := ours.ops[op]; !ok || n != want {
		t.Fatalf("not remembered: %v %d", ok, n)
	}
	ours.ops[op] = 7 // a second request must read this, not walk the operation again
	if got, _ := complexity(ours, feed); got != 7 {
		t.Fatalf("second request: complexity %d, want the remembered 7", got)
	}

	withVars := opCtx(`query($n: Int) { feed(first: $n) { edges { node { id } } } }`, map[string]any{"n": 50})
	want, _ = complexity(gqlgens, withVars)
	for range 2 {
		if got, code := complexity(ours, withVars); got != want || code != "" {
			t.Fatalf("with variables: complexity %d (%q), gqlgen's %d", got, code, want)
		}
	}
	if _, ok := ours.ops[withVars.Doc.Operations[0]]; ok {
		t.Fatal("an operation with variables was remembered")
	}

	costly := opCtx(`{ feed(first: 100) { edges { node { products(first: 100) { edges { node { title } } } } } } }`, nil)
	for range 2 {
		if _, code := complexity(ours, costly); code != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Fatalf("over the limit: code %q", code)
		}
	}
	if _, ok := ours.ops[costly.Doc.Operations[0]]; ok {
		t.Fatal("an operation over the limit was remembered")
	}
}
