package graph

import (
	"context"

	"showcase/graph/model"
	"showcase/store"
)

// pageInfo builds Relay page information for a store page.
func pageInfo[T any](p store.Page[T]) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage}
	if n := len(p.Edges); n > 0 {
		pi.StartCursor = &p.Edges[0].Cursor
		pi.EndCursor = &p.Edges[n-1].Cursor
	}
	return pi
}

// edges converts a page's edges to a connection's edge type, leaving out
// nodes that are not of the connection's node type.
func edges[T any, N any, E any](p store.Page[T], edge func(cursor string, node N) E) []E {
	out := make([]E, 0, len(p.Edges))
	for _, e := range p.Edges {
		if n, ok := any(e.Node).(N); ok {
			out = append(out, edge(e.Cursor, n))
		}
	}
	return out
}

// productConnection shows a page of products; count gives totalCount when
// it is asked for.
func productConnection(p store.Page[*store.Product], count func(context.Context) (int, error)) *model.ProductConnection {
	return &model.ProductConnection{PageInfo: pageInfo(p), Count: count, Edges: edges(p, func(c string, n *store.Product) *model.ProductEdge {
		return &model.ProductEdge{Cursor: c, Node: n}
	})}
}

func variantConnection(p store.Page[*store.ProductVariant]) *model.ProductVariantConnection {
	return &model.ProductVariantConnection{PageInfo: pageInfo(p), Edges: edges(p, func(c string, n *store.ProductVariant) *model.ProductVariantEdge {
		return &model.ProductVariantEdge{Cursor: c, Node: n}
	})}
}

func shopConnection(p store.Page[*store.Shop], total int) *model.ShopConnection {
	return &model.ShopConnection{PageInfo: pageInfo(p), TotalCount: total, Edges: edges(p, func(c string, n *store.Shop) *model.ShopEdge {
		return &model.ShopEdge{Cursor: c, Node: n}
	})}
}

func videoConnection(p store.Page[store.Content]) *model.VideoConnection {
	return &model.VideoConnection{PageInfo: pageInfo(p), Edges: edges(p, func(c string, n *store.Video) *model.VideoEdge {
		return &model.VideoEdge{Cursor: c, Node: n}
	})}
}

func liveSessionConnection(p store.Page[store.Content]) *model.LiveSessionConnection {
	return &model.LiveSessionConnection{PageInfo: pageInfo(p), Edges: edges(p, func(c string, n *store.LiveSession) *model.LiveSessionEdge {
		return &model.LiveSessionEdge{Cursor: c, Node: n}
	})}
}

func feedConnection(p store.Page[store.Content]) *model.FeedConnection {
	return &model.FeedConnection{PageInfo: pageInfo(p), Edges: edges(p, func(c string, n store.Content) *model.FeedEdge {
		return &model.FeedEdge{Cursor: c, Node: n}
	})}
}
