package model

import "context"

// ProductConnection is a page of products. Its totalCount is computed only
// when asked for, by Count.
type ProductConnection struct {
	Edges    []*ProductEdge `json:"edges"`
	PageInfo *PageInfo      `json:"pageInfo"`
	// Count returns how many products the whole list holds.
	Count func(ctx context.Context) (int, error) `json:"-"`
	// Inline says that every field the query asks of the edges resolves
	// from the rows already loaded (or primed into the request's loaders),
	// without waiting on a loader's batch: the edges then marshal one after
	// another in one goroutine (see EdgesInline).
	Inline bool `json:"-"`
}

// EdgesInline reports c.Inline: whether c's edges may marshal one after
// another rather than a goroutine each.
func (c *ProductConnection) EdgesInline() bool { return c.Inline }

// FeedConnection is a page of the feed.
type FeedConnection struct {
	Edges    []*FeedEdge `json:"edges"`
	PageInfo *PageInfo   `json:"pageInfo"`
	// Inline is as ProductConnection.Inline, for the feed's edges: every
	// field the query asks of the items resolves from rows primed into the
	// request's loaders (graph/prefetch.go, primeFeed).
	Inline bool `json:"-"`
}

// EdgesInline reports c.Inline.
func (c *FeedConnection) EdgesInline() bool { return c.Inline }

// ProductVariantConnection is a page of a product's variants.
type ProductVariantConnection struct {
	Edges    []*ProductVariantEdge `json:"edges"`
	PageInfo *PageInfo             `json:"pageInfo"`
	// Inline is as ProductConnection.Inline, for the variants' edges.
	Inline bool `json:"-"`
}

// EdgesInline reports c.Inline.
func (c *ProductVariantConnection) EdgesInline() bool { return c.Inline }

// CollectionConnection is a page of collections. Its totalCount is
// computed only when asked for, by Count.
type CollectionConnection struct {
	Edges    []*CollectionEdge `json:"edges"`
	PageInfo *PageInfo         `json:"pageInfo"`
	// Count returns how many collections the whole list holds.
	Count func(ctx context.Context) (int, error) `json:"-"`
}
