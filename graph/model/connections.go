package model

import "context"

// ProductConnection is a page of products. Its totalCount is computed only
// when asked for, by Count.
type ProductConnection struct {
	Edges    []*ProductEdge `json:"edges"`
	PageInfo *PageInfo      `json:"pageInfo"`
	// Count returns how many products the whole list holds.
	Count func(ctx context.Context) (int, error) `json:"-"`
}

// CollectionConnection is a page of collections. Its totalCount is
// computed only when asked for, by Count.
type CollectionConnection struct {
	Edges    []*CollectionEdge `json:"edges"`
	PageInfo *PageInfo         `json:"pageInfo"`
	// Count returns how many collections the whole list holds.
	Count func(ctx context.Context) (int, error) `json:"-"`
}
