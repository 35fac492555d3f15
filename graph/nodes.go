package graph

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"showcase/auth"
	"showcase/store"
)

// orNil turns a loader's "not found" into a nil result, as Relay expects of
// node(id:) and friends.
func orNil[T any](v T, err error) (T, error) {
	var zero T
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return zero, nil
	}
	return v, err
}

// loadNode fetches any object by global ID, applying the same visibility
// rules as the typed queries. Unknown or invisible objects are nil.
func loadNode(ctx context.Context, gid string) (store.Node, error) {
	typeName, id, err := parseGlobalID(gid)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx)
	switch typeName {
	case typeUser:
		if u, err := orNil(l.User.Load(ctx, id)); u != nil || err != nil {
			return u, err
		}
	case typeShop:
		if s, err := orNil(l.Shop.Load(ctx, id)); s != nil || err != nil {
			return s, err
		}
	case typeProduct:
		if p, err := visibleProduct(ctx, id); p != nil || err != nil {
			return p, err
		}
	case typeVariant:
		if v, err := visibleVariant(ctx, id); v != nil || err != nil {
			return v, err
		}
	case typeVideo:
		if v, err := loadVideo(ctx, id); v != nil || err != nil {
			return v, err
		}
	case typeLiveSession:
		if ls, err := loadLiveSession(ctx, id); ls != nil || err != nil {
			return ls, err
		}
	case typeOrder:
		if o, err := visibleOrder(ctx, id); o != nil || err != nil {
			return o, err
		}
	case typeCart:
		if v := auth.ViewerFrom(ctx); v.SignedIn() && v.UserID() == id {
			return &store.Cart{BuyerID: id}, nil
		}
	case typeComment:
		if c, err := orNil(l.Comment.Load(ctx, id)); c != nil || err != nil {
			return c, err
		}
	case typeApp:
		if app, err := visibleApp(ctx, id); app != nil || err != nil {
			return app, err
		}
	case typeCartLine:
		if l, err := viewerCartLine(ctx, id); l != nil || err != nil {
			return l, err
		}
	case typeMediaImage, typeProductVideo:
		return visibleMedia(ctx, typeName, id)
	case typeCollection:
		if c, err := orNil(l.Collection.Load(ctx, id)); c != nil || err != nil {
			return c, err
		}
	}
	return nil, nil
}

// visibleProduct loads a product if the viewer may see it (drafts only for
// the shop's managers).
func visibleProduct(ctx context.Context, id int64) (*store.Product, error) {
	l := loadersFrom(ctx)
	p, err := orNil(l.Product.Load(ctx, id))
	if p == nil || err != nil {
		return nil, err
	}
	if p.Status != store.ProductDraft {
		return p, nil
	}
	shop, err := l.Shop.Load(ctx, p.ShopID)
	if err != nil {
		return nil, err
	}
	if !auth.CanSeeProduct(auth.ViewerFrom(ctx), p, shop) {
		return nil, nil
	}
	return p, nil
}

// visibleVariant loads a variant if the viewer may see its product.
func visibleVariant(ctx context.Context, id int64) (*store.ProductVariant, error) {
	v, err := orNil(loadersFrom(ctx).Variant.Load(ctx, id))
	if v == nil || err != nil {
		return nil, err
	}
	if p, err := visibleProduct(ctx, v.ProductID); p == nil || err != nil {
		return nil, err
	}
	return v, nil
}

func loadVideo(ctx context.Context, id int64) (*store.Video, error) {
	c, err := orNil(loadersFrom(ctx).Content.Load(ctx, id))
	v, _ := c.(*store.Video)
	return v, err
}

func loadLiveSession(ctx context.Context, id int64) (*store.LiveSession, error) {
	c, err := orNil(loadersFrom(ctx).Content.Load(ctx, id))
	ls, _ := c.(*store.LiveSession)
	return ls, err
}

// viewerManagesShop reports whether the viewer may manage the shop with this id.
func viewerManagesShop(ctx context.Context, shopID int64) (bool, error) {
	v := auth.ViewerFrom(ctx)
	if !v.SignedIn() {
		return false, nil
	}
	shop, err := loadersFrom(ctx).Shop.Load(ctx, shopID)
	if err != nil {
		return false, err
	}
	return auth.CanManageShop(v, shop), nil
}

// visibleApp loads an app for its creator, its shop's managers and admins.
func visibleApp(ctx context.Context, id int64) (*store.App, error) {
	v := auth.ViewerFrom(ctx)
	if !v.SignedIn() {
		return nil, nil
	}
	app, err := loadersFrom(ctx).App.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v.IsAdmin() || app.CreatedBy == v.UserID() {
		return app, nil
	}
	if app.ShopID != nil {
		if ok, err := viewerManagesShop(ctx, *app.ShopID); ok || err != nil {
			return app, err
		}
	}
	return nil, nil
}
