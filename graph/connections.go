package graph

import (
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

func productConnection(p store.Page[*store.Product]) *model.ProductConnection {
	c := &model.ProductConnection{PageInfo: pageInfo(p), Edges: make([]*model.ProductEdge, len(p.Edges))}
	for i, e := range p.Edges {
		c.Edges[i] = &model.ProductEdge{Cursor: e.Cursor, Node: e.Node}
	}
	return c
}

func variantConnection(p store.Page[*store.ProductVariant]) *model.ProductVariantConnection {
	c := &model.ProductVariantConnection{PageInfo: pageInfo(p), Edges: make([]*model.ProductVariantEdge, len(p.Edges))}
	for i, e := range p.Edges {
		c.Edges[i] = &model.ProductVariantEdge{Cursor: e.Cursor, Node: e.Node}
	}
	return c
}

func shopConnection(p store.Page[*store.Shop], total int) *model.ShopConnection {
	c := &model.ShopConnection{PageInfo: pageInfo(p), TotalCount: total, Edges: make([]*model.ShopEdge, len(p.Edges))}
	for i, e := range p.Edges {
		c.Edges[i] = &model.ShopEdge{Cursor: e.Cursor, Node: e.Node}
	}
	return c
}

func videoConnection(p store.Page[store.Content]) *model.VideoConnection {
	c := &model.VideoConnection{PageInfo: pageInfo(p), Edges: make([]*model.VideoEdge, 0, len(p.Edges))}
	for _, e := range p.Edges {
		if v, ok := e.Node.(*store.Video); ok {
			c.Edges = append(c.Edges, &model.VideoEdge{Cursor: e.Cursor, Node: v})
		}
	}
	return c
}

func liveSessionConnection(p store.Page[store.Content]) *model.LiveSessionConnection {
	c := &model.LiveSessionConnection{PageInfo: pageInfo(p), Edges: make([]*model.LiveSessionEdge, 0, len(p.Edges))}
	for _, e := range p.Edges {
		if ls, ok := e.Node.(*store.LiveSession); ok {
			c.Edges = append(c.Edges, &model.LiveSessionEdge{Cursor: e.Cursor, Node: ls})
		}
	}
	return c
}

func feedConnection(p store.Page[store.Content]) *model.FeedConnection {
	c := &model.FeedConnection{PageInfo: pageInfo(p), Edges: make([]*model.FeedEdge, len(p.Edges))}
	for i, e := range p.Edges {
		c.Edges[i] = &model.FeedEdge{Cursor: e.Cursor, Node: e.Node}
	}
	return c
}
