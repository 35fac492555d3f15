package graph

import (
	"context"

	"showcase/graph/model"
	"showcase/store"
)

// contentShop resolves the shop a video or live session is attributed to.
func contentShop(ctx context.Context, c store.Content) (*store.Shop, error) {
	id := c.Base().ShopID
	if id == nil {
		return nil, nil
	}
	return loadersFrom(ctx).Shop.Load(ctx, *id)
}

// contentProducts pages a content's product cards, batch-loaded with every
// other content of the same response.
func contentProducts(ctx context.Context, c store.Content, first *int, after *string) (*model.ProductConnection, error) {
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	products, err := loadersFrom(ctx).ProductsByContent.Load(ctx, c.Base().ID)
	if err != nil {
		return nil, err
	}
	page, err := store.PageSlice(products, func(p *store.Product) (int64, int64) { return p.CardPosition, p.ID }, args)
	if err != nil {
		return nil, err
	}
	return inlineContentCards(ctx, c.Base().ID, productConnection(page, func(context.Context) (int, error) { return len(products), nil })), nil
}

// childPageKey validates paging arguments of a shop's nested list.
func childPageKey(parentID int64, first *int, after *string) (store.ChildPageKey, error) {
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return store.ChildPageKey{}, err
	}
	return store.ChildPageKey{ParentID: parentID, First: args.First, After: args.After}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// optionalContent resolves a nullable reference to a video or live session.
func optionalContent(ctx context.Context, id *int64) (store.Content, error) {
	if id == nil {
		return nil, nil
	}
	return orNil(loadersFrom(ctx).Content.Load(ctx, *id))
}
