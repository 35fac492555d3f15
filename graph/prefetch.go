package graph

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"showcase/store"
)

// primeVariants loads the variants of a root product list's page in one
// statement (none for those the process's store.CatalogCache keeps),
// right after the page itself, when the query selects a
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
// reports it on the field that needs it. It reports whether it primed the
// variants of every product of the page.
func primeVariants(ctx context.Context, page store.Page[*store.Product]) bool {
	if noPriming || len(page.Edges) == 0 || !graphql.HasOperationContext(ctx) {
		return false
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Query" || !selectsVariants(graphql.GetOperationContext(ctx), fc.Field.Selections) {
		return false
	}
	l := loadersFrom(ctx)
	ids := make([]int64, len(page.Edges))
	for i, e := range page.Edges {
		ids[i] = e.Node.ID
	}
	byProduct, err := l.db.CatalogCache().VariantsFor(ctx, l.db, ids)
	if err != nil {
		return false
	}
	for id, variants := range byProduct {
		l.VariantsByProduct.Prime(id, variants)
	}
	return true
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

// primeFeed loads what a page of feed items asks for under edges.node, one
// statement per kind of row for the whole page, right after the page itself,
// and puts the rows in the request's loaders: the items' authors (User) and
// shops (Shop), from the process's ProfileCache where the loaders' handle
// has one (store.DB.UseProfileCache: the primary's), product cards (ProductsByContent), the cards' variants when
// the cards ask for variants or priceRange (VariantsByProduct: then cards
// and variants come from one statement, or none when the process's
// store.CatalogCache keeps them: see CatalogCache.Cards)
// and their figures for every window asked (Metrics; from the loaders'
// FiguresCache, when they have one, if the query asks public figures
// only and no chart: see asksPublicFiguresOnly). The statements run
// concurrently. Each item's fields then resolve from the
// loaders at once, without parking until a loader's batch window closes; with
// Video, LiveSession, Product and ProductVariant resolving their fields
// inline (graph/generate), a page is resolved without a wait per level.
//
// What the selection does not ask for is not loaded. An error is not
// reported here: the loader then loads as before and reports it on the
// field that needs it. It reports what it primed for every item of the
// page (feedPrimed), for inlineFeed.
func primeFeed(ctx context.Context, page store.Page[store.Content]) (primed feedPrimed) {
	if noPriming || len(page.Edges) == 0 || !graphql.HasOperationContext(ctx) {
		return primed
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return primed
	}
	want := feedSelection(graphql.GetOperationContext(ctx), fc.Field.Selections)
	if !want.any() {
		return primed
	}
	l := loadersFrom(ctx)
	ids := make([]int64, 0, len(page.Edges))
	var authors, shops []int64
	for _, e := range page.Edges {
		b := e.Node.Base()
		ids = append(ids, b.ID)
		authors = append(authors, b.AuthorID)
		if b.ShopID != nil {
			shops = append(shops, *b.ShopID)
		}
	}
	var wg sync.WaitGroup
	if want.author {
		wg.Go(func() {
			if users, err := l.db.KeptUsersByIDs(ctx, authors); err == nil {
				for id, u := range users {
					l.User.Prime(id, u)
				}
				primed.authors = hasAll(users, authors)
			}
		})
	}
	if want.shop && len(shops) > 0 {
		wg.Go(func() {
			if byID, err := l.db.KeptShopsByIDs(ctx, shops); err == nil {
				for id, s := range byID {
					l.Shop.Prime(id, s)
				}
				primed.shops = hasAll(byID, shops)
			}
		})
	}
	if want.products {
		wg.Go(func() {
			cards, variants, err := l.db.CatalogCache().Cards(ctx, l.db, ids, want.variants)
			if err != nil {
				return
			}
			primed.cards = hasAll(cards, ids)
			allVariants := true
			for id, products := range cards {
				l.ProductsByContent.Prime(id, products)
				if !want.variants {
					continue
				}
				all := true
				for _, p := range products {
					// Only products the statement gave variants for: one
					// it gave none (none active) is left to the loader,
					// which reads it, rather than primed as empty.
					if vs, ok := variants[p.ID]; ok {
						l.VariantsByProduct.Prime(p.ID, vs)
					} else {
						all = false
					}
				}
				if all {
					l.cardVariantsPrimed.Store(id, true)
				}
				allVariants = allVariants && all
			}
			primed.variants = want.variants && allVariants
		})
	}
	if len(want.windows) > 0 {
		keys := make([]store.MetricsKey, 0, len(ids)*len(want.windows))
		for _, w := range want.windows {
			for _, id := range ids {
				keys = append(keys, store.MetricsKey{Subject: store.SubjectContent, ID: id, Window: w})
			}
		}
		read := l.db.MetricsFor
		if l.figures != nil && asksPublicFiguresOnly(graphql.GetOperationContext(ctx).Doc) {
			read = func(ctx context.Context, now time.Time, keys []store.MetricsKey) (map[store.MetricsKey]*store.Metrics, error) {
				return l.figures.MetricsFor(ctx, l.db, now, keys)
			}
		}
		wg.Go(func() {
			if figures, err := read(ctx, l.now, keys); err == nil {
				for k, m := range figures {
					l.Metrics.Prime(k, m)
				}
				primed.figures = hasAll(figures, keys)
			}
		})
	}
	wg.Wait()
	primed.want = want
	return primed
}

// feedPrimed is what primeFeed put in the request's loaders for every item
// of a page: want is what the page's items select, and each flag says that
// every row of its kind the items need was primed (authors: User; shops:
// Shop, for the items that have one; cards: ProductsByContent; figures:
// Metrics for every window asked; variants: VariantsByProduct for every
// card, when the cards ask variants or priceRange). A content whose cards'
// variants were all primed is in Loaders.cardVariantsPrimed.
type feedPrimed struct {
	want                                     feedWants
	authors, shops, cards, variants, figures bool
}

// hasAll reports whether m has every key of keys.
func hasAll[K comparable, V any](m map[K]V, keys []K) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// publicFigures are the ContentMetrics fields anyone may read.
var publicFigures = map[string]bool{"__typename": true, "window": true, "views": true, "likes": true,
	"comments": true, "shares": true, "engagementRate": true}

// asksPublicFiguresOnly reports whether no operation or fragment of doc
// selects a commercial figure (ContentMetrics beyond publicFigures) or a
// chart (metricsSeries): only then are a feed page's figures taken from the
// FiguresCache. Commercial figures change with the caller's own writes
// (an order cancelled, a refund) that nothing forgets, and a chart adds up
// to its window's figures only as of the same moment.
func asksPublicFiguresOnly(doc *ast.QueryDocument) bool {
	if doc == nil {
		return false
	}
	return everySelectionSet(doc, func(set ast.SelectionSet) bool {
		for _, sel := range set {
			f, ok := sel.(*ast.Field)
			if !ok {
				continue
			}
			if f.Name == "metricsSeries" || (f.ObjectDefinition != nil && f.ObjectDefinition.Name == "ContentMetrics" && !publicFigures[f.Name]) {
				return false
			}
		}
		return true
	})
}

// feedWants is what a feed page's items select, for primeFeed.
type feedWants struct {
	author, shop, products, variants bool
	// windows are the metrics windows asked (aliases may ask several).
	windows []string
}

func (w feedWants) any() bool {
	return w.author || w.shop || w.products || len(w.windows) > 0
}

// feedSelection reads a FeedConnection selection: the fields asked of
// edges { node } on videos and live sessions (fragments included), and
// whether the items' products { edges { node } } ask for variants or
// priceRange.
func feedSelection(oc *graphql.OperationContext, connection ast.SelectionSet) feedWants {
	var w feedWants
	for _, edges := range graphql.CollectFields(oc, connection, feedConnectionImplementors) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(oc, edges.Selections, feedEdgeImplementors) {
			if node.Name != "node" {
				continue
			}
			for _, implementors := range [][]string{videoImplementors, liveSessionImplementors} {
				for _, f := range graphql.CollectFields(oc, node.Selections, implementors) {
					switch f.Name {
					case "author":
						w.author = true
					case "shop":
						w.shop = true
					case "products":
						w.products = true
						w.variants = w.variants || selectsVariants(oc, f.Selections)
					case "metrics":
						window, _ := f.ArgumentMap(oc.Variables)["window"].(string)
						if !slices.Contains(w.windows, window) {
							w.windows = append(w.windows, window)
						}
					}
				}
			}
		}
	}
	return w
}
