package graph

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"showcase/auth"
	"showcase/graph/model"
)

// Inline lists. gqlgen marshals every element of a list of objects in a
// goroutine of its own, so that elements waiting on a dataloader share its
// batch window. When the elements' fields read only rows already loaded, the
// goroutines buy nothing and cost much: each grows its stack anew through
// the executor's deep calls (a fifth of a catalogue page's CPU went to
// runtime.newstack). The generator (graph/generate, rewriteExec) makes the
// list marshallers of ProductEdge, ProductVariantEdge and FeedEdge call
// marshalList, which marshals the elements one after another when the
// list's connection says so (edgesInline), and as gqlgen does otherwise. A
// connection says so only when the resolver that made it has checked the
// selection under its edges against the fields known to resolve without a
// loader's batch (inlineProductFields, inlineVariantFields; for the feed,
// see "Inline feed edges" below): a field outside them (a
// product's shop, a variant's image) keeps the goroutines, so that its
// loader still batches the whole page in one statement. The answer is the
// same either way; only the scheduling differs.

// edgesInliner is a connection that knows whether its edges may marshal
// inline (model.ProductConnection, model.ProductVariantConnection).
type edgesInliner interface{ EdgesInline() bool }

// edgesInline reports whether the list being marshalled under ctx (a
// connection's edges) belongs to a connection whose resolver allowed inline
// marshalling: the list's field context is the edges field, its parent the
// connection's, whose Result is the connection.
func edgesInline(ctx context.Context) bool {
	if noInlineLists {
		return false
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Parent == nil {
		return false
	}
	c, ok := fc.Parent.Result.(edgesInliner)
	return ok && c.EdgesInline()
}

// noInlineLists turns inline lists off (tests and benchmarks compare).
var noInlineLists bool

// inlineListCount counts the lists marshalled inline (tests).
var inlineListCount atomic.Int64

// marshalList marshals a list's length elements with marshalElement: one
// after another in this goroutine when inline, else as gqlgen's
// graphql.MarshalSliceConcurrently with the generated code's workerLimit
// and omitPanicHandler. Inline, as there, each element gets a field context
// with its index, and an element that panics adds the recovered error and
// makes the whole list nil.
func marshalList(ctx context.Context, inline bool, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if !inline || length <= 1 {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	inlineListCount.Add(1)
	ret := make(graphql.Array, length)
	indices := make([]int, length)
	panicked := false
	for i := range length {
		indices[i] = i
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &indices[i]})
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					panicked = true
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	if panicked {
		return nil
	}
	return ret
}

// inlineProductFields are the Product fields that resolve from the product
// row itself; inlineVariantFields the same for ProductVariant (their Money
// and PriceRange values are plain objects). priceRange and variants read
// the VariantsByProduct loader: inline only when the page primed it.
var (
	inlineProductFields = map[string]bool{"__typename": true, "id": true, "title": true, "description": true,
		"tags": true, "status": true, "createdAt": true}
	inlineVariantFields = map[string]bool{"__typename": true, "id": true, "sku": true, "title": true, "price": true,
		"compareAtPrice": true, "availableForSale": true, "stock": true}
)

// productEdgesInline reports whether a ProductConnection selection's edges
// resolve without a loader's batch: edges { cursor node { ... } } where the
// node asks only inlineProductFields, and priceRange and variants (whose
// variants ask only inlineVariantFields) when primed says the page's
// variants are in the request's loader.
func productEdgesInline(oc *graphql.OperationContext, connection ast.SelectionSet, primed bool) bool {
	return edgeNodesInline(oc, connection, productConnectionImplementors, productEdgeImplementors, func(node ast.SelectionSet) bool {
		for _, f := range graphql.CollectFields(oc, node, productImplementors) {
			switch {
			case inlineProductFields[f.Name]:
			case f.Name == "priceRange" && primed:
			case f.Name == "variants" && primed && variantEdgesInline(oc, f.Selections):
			default:
				return false
			}
		}
		return true
	})
}

// variantEdgesInline reports whether a ProductVariantConnection selection's
// edges ask only inlineVariantFields of their nodes.
func variantEdgesInline(oc *graphql.OperationContext, connection ast.SelectionSet) bool {
	return edgeNodesInline(oc, connection, productVariantConnectionImplementors, productVariantEdgeImplementors, func(node ast.SelectionSet) bool {
		for _, f := range graphql.CollectFields(oc, node, productVariantImplementors) {
			if !inlineVariantFields[f.Name] {
				return false
			}
		}
		return true
	})
}

// edgeNodesInline walks a connection selection's edges (fragments and
// @skip/@include honoured): an edge may ask __typename, cursor and node,
// whose selection nodeInline judges.
func edgeNodesInline(oc *graphql.OperationContext, connection ast.SelectionSet, connectionImpl, edgeImpl []string, nodeInline func(ast.SelectionSet) bool) bool {
	for _, edges := range graphql.CollectFields(oc, connection, connectionImpl) {
		if edges.Name != "edges" {
			continue // pageInfo, totalCount: not elements of the list
		}
		for _, f := range graphql.CollectFields(oc, edges.Selections, edgeImpl) {
			switch f.Name {
			case "__typename", "cursor":
			case "node":
				if !nodeInline(f.Selections) {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// inlineVariantConnection marks a Product.variants connection inline when
// the field's selection allows it (the variants themselves are loaded by
// then).
func inlineVariantConnection(ctx context.Context, c *model.ProductVariantConnection) *model.ProductVariantConnection {
	if !graphql.HasOperationContext(ctx) {
		return c
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		c.Inline = variantEdgesInline(graphql.GetOperationContext(ctx), fc.Field.Selections)
	}
	return c
}

// inlineRootProducts marks a root product list (Query.products,
// Query.recommendedProducts) inline when its selection allows it; primed
// says primeVariants put the page's variants in the request's loader.
func inlineRootProducts(ctx context.Context, c *model.ProductConnection, primed bool) *model.ProductConnection {
	if !graphql.HasOperationContext(ctx) {
		return c
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		c.Inline = productEdgesInline(graphql.GetOperationContext(ctx), fc.Field.Selections, primed)
	}
	return c
}

// Inline feed edges. A feed page's items read what primeFeed put in the
// request's loaders: their authors, shops, product cards (with the cards'
// variants) and figures. When every field the items ask resolves from those
// rows or from the item itself, the page's twenty edges marshal one after
// another (FeedConnection.Inline), and each item's cards too
// (inlineContentCards): a page then resolves in the goroutine that
// marshals it. A field outside these sets (a video's poster or comments, an
// author's followers, a shop's owner, a chart, a live session's pinned
// product) keeps a goroutine per item, so that its loader batches the whole
// page in one statement, as does a kind of row primeFeed could not prime
// for every item (a failed statement, a row deleted meanwhile).
var (
	// inlineContentFields are the Video and LiveSession fields that
	// resolve from the item itself (viewerCount from the process's live
	// hub).
	inlineContentFields = map[string]bool{"__typename": true, "id": true, "publishedAt": true, "caption": true,
		"playbackUrl": true, "thumbnailUrl": true, "durationSeconds": true, "tags": true, "title": true,
		"status": true, "scheduledStartAt": true, "startedAt": true, "endedAt": true, "viewerCount": true}
	// inlineUserFields and inlineShopFields are the fields of an item's
	// author and shop that resolve from the row.
	inlineUserFields = map[string]bool{"__typename": true, "id": true, "handle": true, "displayName": true,
		"avatarUrl": true, "followerCount": true, "isCreator": true}
	inlineShopFields = map[string]bool{"__typename": true, "id": true, "handle": true, "name": true,
		"description": true, "operatingModel": true, "currencyCode": true, "affiliateRateBps": true, "followerCount": true}
	// inlineFigureFields are the ContentMetrics fields computed from the
	// figures themselves (bySurface and byChannel load a breakdown).
	inlineFigureFields = map[string]bool{"__typename": true, "window": true, "views": true, "likes": true,
		"comments": true, "shares": true, "engagementRate": true, "productImpressions": true, "productClicks": true,
		"orders": true, "unitsSold": true, "gmv": true, "gmvByCurrency": true, "clickThroughRate": true,
		"conversionRate": true, "gpm": true}
)

// inlineFeed marks a feed page inline when its selection allows it, given
// what primeFeed primed for it.
func inlineFeed(ctx context.Context, c *model.FeedConnection, primed feedPrimed) *model.FeedConnection {
	if !graphql.HasOperationContext(ctx) {
		return c
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		c.Inline = feedEdgesInline(graphql.GetOperationContext(ctx), fc.Field.Selections, primed, auth.ViewerFrom(ctx).SignedIn())
	}
	return c
}

// feedEdgesInline reports whether a FeedConnection selection's items ask
// only fields that resolve without a loader's batch, given what primeFeed
// primed for every item; signedIn says the viewer is signed in (their
// figures' access check reads the item's shop, and viewerHasLiked their
// likes).
func feedEdgesInline(oc *graphql.OperationContext, connection ast.SelectionSet, primed feedPrimed, signedIn bool) bool {
	return edgeNodesInline(oc, connection, feedConnectionImplementors, feedEdgeImplementors, func(node ast.SelectionSet) bool {
		for _, implementors := range [][]string{videoImplementors, liveSessionImplementors} {
			for _, f := range graphql.CollectFields(oc, node, implementors) {
				ok := false
				switch f.Name {
				case "author":
					ok = primed.authors && fieldsIn(oc, f.Selections, userImplementors, inlineUserFields)
				case "shop":
					ok = primed.shops && fieldsIn(oc, f.Selections, shopImplementors, inlineShopFields)
				case "products":
					ok = primed.cards && productEdgesInline(oc, f.Selections, primed.variants)
				case "metrics":
					ok = primed.figures && (primed.shops || !signedIn) && fieldsIn(oc, f.Selections, contentMetricsImplementors, inlineFigureFields)
				case "viewerHasLiked":
					ok = !signedIn
				default:
					ok = inlineContentFields[f.Name]
				}
				if !ok {
					return false
				}
			}
		}
		return true
	})
}

// fieldsIn reports whether an object selection asks only fields in allowed
// (fragments and @skip/@include honoured).
func fieldsIn(oc *graphql.OperationContext, set ast.SelectionSet, implementors []string, allowed map[string]bool) bool {
	for _, f := range graphql.CollectFields(oc, set, implementors) {
		if !allowed[f.Name] {
			return false
		}
	}
	return true
}

// inlineContentCards marks a video's or live session's products connection
// inline when its selection allows it: the cards are loaded by then, and
// their variants count as loaded when primeFeed primed them for this
// content.
func inlineContentCards(ctx context.Context, contentID int64, c *model.ProductConnection) *model.ProductConnection {
	if !graphql.HasOperationContext(ctx) {
		return c
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		_, primed := loadersFrom(ctx).cardVariantsPrimed.Load(contentID)
		c.Inline = productEdgesInline(graphql.GetOperationContext(ctx), fc.Field.Selections, primed)
	}
	return c
}
