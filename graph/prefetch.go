package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"showcase/store"
)

// primeVariants loads the variants of a root product list's page in one
// statement, right after the page itself, when the query selects a
// product's variants or priceRange under it (edges.node), and puts them in
// the request's VariantsByProduct loader. Each product's variants and
// priceRange then resolve at once from the loader, instead of twenty
// resolvers parking until the loader's batch window (DefaultBatchWait)
// closes and one statement answers them all: the same statement, the same
// rows, the same read handle (the loaders'), one wait and twenty goroutine
// parks fewer.
//
// Only root fields (Query.products, Query.recommendedProducts) prime: a
// connection nested under a list (every shop's products) would prime once
// per parent, one statement each, where the loader batches them into one.
// An error is not reported here: the loader then loads as before and
// reports it on the field that needs it.
func primeVariants(ctx context.Context, page store.Page[*store.Product]) {
	if noPriming || len(page.Edges) == 0 || !graphql.HasOperationContext(ctx) {
		return
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Query" || !selectsVariants(graphql.GetOperationContext(ctx), fc.Field.Selections) {
		return
	}
	l := loadersFrom(ctx)
	ids := make([]int64, len(page.Edges))
	for i, e := range page.Edges {
		ids[i] = e.Node.ID
	}
	byProduct, err := l.db.VariantsByProductIDs(ctx, ids)
	if err != nil {
		return
	}
	for id, variants := range byProduct {
		l.VariantsByProduct.Prime(id, variants)
	}
}

// selectsVariants reports whether a ProductConnection selection asks for
// edges { node { variants } } or edges { node { priceRange } }, fragments
// included.
func selectsVariants(oc *graphql.OperationContext, connection ast.SelectionSet) bool {
	for _, edges := range graphql.CollectFields(oc, connection, productConnectionImplementors) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(oc, edges.Selections, productEdgeImplementors) {
			if node.Name != "node" {
				continue
			}
			for _, f := range graphql.CollectFields(oc, node.Selections, productImplementors) {
				if f.Name == "variants" || f.Name == "priceRange" {
					return true
				}
			}
		}
	}
	return false
}

// noPriming turns primeVariants off (benchmarks compare with and without).
var noPriming bool
