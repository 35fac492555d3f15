package graph

import (
	"context"
	"errors"
	"sync"

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

// loadNode fetches any object by global ID, applying the object's own rule
// from auth (the same as its root field and every nested field that reaches
// it) and, for app tokens, the scope of the kind's root field
// (auth.CanLookUp). Unknown or invisible objects are nil.
func (r *Resolver) loadNode(ctx context.Context, gid string) (store.Node, error) {
	typeName, id, key, err := parseAnyID(gid)
	if err != nil {
		if _, _, groupErr := parseDeliveryGroupID(gid); groupErr == nil {
			return nil, nil // a delivery group is not a node
		}
		return nil, err
	}
	if key != "" {
		return r.loadKeyedNode(ctx, typeName, id, key)
	}
	if !auth.CanLookUp(auth.ViewerFrom(ctx), typeName) {
		return nil, nil
	}
	l := loadersFrom(ctx)
	switch typeName {
	case typeUser:
		if u, err := orNil(l.User.Load(ctx, id)); err != nil || (u != nil && auth.CanSeeProfile(u)) {
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
		if auth.CanSeeCart(auth.ViewerFrom(ctx), id) {
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
	case typeMailingAddress:
		if a, err := visibleAddress(ctx, id); a != nil || err != nil {
			return a, err
		}
	case typeCampaign:
		if c, err := orNil(l.Campaign.Load(ctx, id)); c != nil || err != nil {
			return c, err
		}
	case typeDiscountCode:
		if c, err := visibleDiscountCode(ctx, id); c != nil || err != nil {
			return c, err
		}
	case typeCollection:
		if c, err := orNil(l.Collection.Load(ctx, id)); c != nil || err != nil {
			return c, err
		}
	case typeWebhookSubscription:
		if s, err := orNil(l.WebhookSubscription.Load(ctx, id)); err != nil || (s != nil && auth.CanSeeWebhook(auth.ViewerFrom(ctx), s.AppID, s.Topic)) {
			return s, err
		}
	case typeWebhookDelivery:
		if d, err := orNil(l.WebhookDelivery.Load(ctx, id)); err != nil || (d != nil && auth.CanSeeWebhook(auth.ViewerFrom(ctx), d.AppID, d.Topic)) {
			return d, err
		}
	}
	return nil, nil
}

// loadNodes fetches objects by global ID as loadNode does, all at once, so
// that the loaders batch them: nodes(ids:) costs the statements of one ID
// of each kind, not one round of statements per ID (and one batch wait per
// ID). The answer keeps the order of ids; the first error fails the whole.
func (r *Resolver) loadNodes(ctx context.Context, ids []string) ([]store.Node, error) {
	out := make([]store.Node, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = r.loadNode(ctx, id)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// visibleProduct loads a product if the viewer may see it
// (auth.CanSeeProduct: drafts only for the shop's managers); nil otherwise.
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

// visibleVariant loads a variant if the viewer may see its product; nil
// otherwise.
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

// viewerShopRule applies a rule about the shop with this id to the viewer;
// false for anonymous callers without loading anything.
func viewerShopRule(ctx context.Context, shopID int64, rule func(auth.Viewer, *store.Shop) bool) (bool, error) {
	v := auth.ViewerFrom(ctx)
	if !v.SignedIn() {
		return false, nil
	}
	shop, err := loadersFrom(ctx).Shop.Load(ctx, shopID)
	if err != nil {
		return false, err
	}
	return rule(v, shop), nil
}

// viewerSeesDrafts reports whether the viewer may see the drafts of the shop
// with this id (auth.CanSeeDrafts).
func viewerSeesDrafts(ctx context.Context, shopID int64) (bool, error) {
	return viewerShopRule(ctx, shopID, auth.CanSeeDrafts)
}

// visibleApp loads an app for those auth.CanManageApp allows; nil otherwise.
func visibleApp(ctx context.Context, id int64) (*store.App, error) {
	v := auth.ViewerFrom(ctx)
	if !v.InPerson() {
		return nil, nil
	}
	l := loadersFrom(ctx)
	app, err := orNil(l.App.Load(ctx, id))
	if app == nil || err != nil {
		return nil, err
	}
	var shop *store.Shop
	if app.ShopID != nil {
		if shop, err = l.Shop.Load(ctx, *app.ShopID); err != nil {
			return nil, err
		}
	}
	if !auth.CanManageApp(v, app, shop) {
		return nil, nil
	}
	return app, nil
}

// visibleDiscountCode loads a discount code for those who may list its
// shop's codes (auth.CanSeeDiscountCodes, the rule of Shop.discountCodes);
// nil otherwise, as for an unknown id, so a lookup never tells whether a
// code exists.
func visibleDiscountCode(ctx context.Context, id int64) (*store.DiscountCode, error) {
	if !auth.ViewerFrom(ctx).SignedIn() {
		return nil, nil
	}
	c, err := orNil(loadersFrom(ctx).DiscountCode.Load(ctx, id))
	if c == nil || err != nil {
		return nil, err
	}
	if ok, err := viewerShopRule(ctx, c.ShopID, auth.CanSeeDiscountCodes); !ok || err != nil {
		return nil, err
	}
	return c, nil
}
