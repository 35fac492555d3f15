package graph

import (
	"context"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// search pages through the search results of query (store.DB.Search) and
// loads each result (batched per type by the request's loaders).
func (r *Resolver) search(ctx context.Context, query string, types []string, first *int, after *string) (*model.SearchResultItemConnection, error) {
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	page, err := r.DB.Search(ctx, query, types, args)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx)
	// Ask every loader first, then wait, so each type costs one statement.
	thunks := make([]func() (store.Node, error), len(page.Edges))
	for i, e := range page.Edges {
		h := e.Node
		switch h.Kind {
		case store.SearchVideo, store.SearchLiveSession:
			t := l.Content.LoadThunk(ctx, h.ID)
			thunks[i] = func() (store.Node, error) {
				c, err := orNil(t())
				if n, ok := c.(store.Node); ok && err == nil {
					return n, nil
				}
				return nil, err
			}
		case store.SearchProduct:
			t := l.Product.LoadThunk(ctx, h.ID)
			thunks[i] = func() (store.Node, error) {
				p, err := orNil(t())
				if p == nil || err != nil || p.Status != store.ProductActive {
					return nil, err
				}
				return p, nil
			}
		case store.SearchCreator:
			t := l.User.LoadThunk(ctx, h.ID)
			thunks[i] = func() (store.Node, error) {
				u, err := orNil(t())
				if u == nil || err != nil {
					return nil, err
				}
				return u, nil
			}
		case store.SearchShop:
			t := l.Shop.LoadThunk(ctx, h.ID)
			thunks[i] = func() (store.Node, error) {
				s, err := orNil(t())
				if s == nil || err != nil {
					return nil, err
				}
				return s, nil
			}
		}
	}
	conn := &model.SearchResultItemConnection{PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage, HasPreviousPage: page.HasPreviousPage}}
	for i, e := range page.Edges {
		if thunks[i] == nil {
			continue
		}
		n, err := thunks[i]()
		if err != nil {
			return nil, err
		}
		if n == nil {
			continue // gone since the page was read
		}
		conn.Edges = append(conn.Edges, &model.SearchResultItemEdge{Cursor: e.Cursor, Node: n})
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}

// productRecommendations lists the products to show beside a product the
// viewer may see (store.DB.ProductRecommendations); nil when they may not.
func (r *Resolver) productRecommendations(ctx context.Context, productID string, intent *string) ([]*store.Product, error) {
	id, err := parseTypedID(productID, typeProduct)
	if err != nil {
		return nil, err
	}
	p, err := visibleProduct(ctx, id)
	if p == nil || err != nil {
		return nil, err
	}
	in := store.IntentRelated
	if intent != nil {
		in = *intent
	}
	return r.DB.ProductRecommendations(ctx, id, in)
}

// recommendedProducts pages through the products recommended to the viewer
// in person; apps and anonymous callers get the popular ones.
func (r *Resolver) recommendedProducts(ctx context.Context, first *int, after *string) (*model.ProductConnection, error) {
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	var viewerID int64
	if v := auth.ViewerFrom(ctx); v.InPerson() {
		viewerID = v.UserID()
	}
	page, err := r.DB.RecommendedProducts(ctx, viewerID, args)
	if err != nil {
		return nil, err
	}
	primed := primeVariants(ctx, page)
	return inlineRootProducts(ctx, productConnection(page, func(ctx context.Context) (int, error) {
		return r.DB.RecommendedCount(ctx, viewerID, page)
	}), primed), nil
}
