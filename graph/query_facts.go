package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxRememberedQuery bounds the documents whose facts are kept: clients
// repeat the same few operations, and a huge one-off is not worth the memory.
const maxRememberedQuery = 16 << 10

// queryFacts is what the shape limits and the rate-limit cost learn by
// parsing a document. The shape limits run before gqlgen's own (cached)
// parse, on every request, so each distinct document is parsed for them
// once, and the rate charge reuses the measure.
type queryFacts struct {
	// opFields is each operation's selected fields, fragments expanded, by
	// operation name ("" for an anonymous operation).
	opFields map[string]int
	// limitCode and limitMessage name the first shape limit the document
	// breaks; empty when it breaks none or does not parse (gqlgen explains).
	limitCode, limitMessage string
	// noQueries says the document parses and none of its operations is a
	// query: whichever runs, its answer is never shared (ResponseCache).
	noQueries bool
}

var rememberedFacts = lru.New[queryFacts](queryCacheSize)

// factsOf returns a document's facts, parsing it only the first time.
func factsOf(query string) queryFacts {
	ctx := context.Background()
	if f, ok := rememberedFacts.Get(ctx, query); ok {
		return f
	}
	f := queryFacts{}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, MaxTokens)
	if err == nil {
		m := measure{fragments: doc.Fragments, memo: map[string]shape{}, visiting: map[string]bool{}}
		shapes := make([]shape, len(doc.Operations))
		f.opFields = make(map[string]int, len(doc.Operations))
		for i, op := range doc.Operations {
			shapes[i] = m.set(op.SelectionSet)
			f.opFields[op.Name] = shapes[i].fields
		}
		f.limitMessage, f.limitCode = shapeProblem(doc, shapes)
		f.noQueries = len(doc.Operations) > 0
		for _, op := range doc.Operations {
			if op.Operation == ast.Query {
				f.noQueries = false
			}
		}
	}
	if len(query) <= maxRememberedQuery {
		rememberedFacts.Add(ctx, query, f)
	}
	return f
}
