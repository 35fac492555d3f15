package auth

import "showcase/store"

// CanManageShop reports whether the viewer may change a shop, its products and
// its inventory: its owner, or an admin.
func CanManageShop(v Viewer, shop *store.Shop) bool {
	if v.App != nil && v.App.ShopID != 0 && v.App.ShopID != shop.ID {
		return false // a shop app never touches another shop
	}
	return v.SignedIn() && (v.IsAdmin() || shop.OwnerID == v.User.ID)
}

// CanSeeProduct reports whether the viewer may see a product: drafts are
// visible only to those who manage its shop.
func CanSeeProduct(v Viewer, p *store.Product, shop *store.Shop) bool {
	return p.Status != store.ProductDraft || CanManageShop(v, shop)
}

// CanHostLive reports whether the viewer may run a live session: its host, or
// an admin.
func CanHostLive(v Viewer, ls *store.LiveSession) bool {
	return v.SignedIn() && (v.IsAdmin() || ls.AuthorID == v.User.ID)
}

// CanFeatureProduct reports whether the viewer may put a product card on
// content they publish: creators may feature any active product (as
// affiliates); sellers their own shops' active products.
func CanFeatureProduct(v Viewer, p *store.Product, shop *store.Shop) bool {
	if !v.SignedIn() || p.Status != store.ProductActive {
		return false
	}
	return v.IsAdmin() || v.User.IsCreator || shop.OwnerID == v.User.ID
}

// CanSeeOrder reports whether the viewer may see an order: its buyer, the
// shop's owner, or an admin. Everyone else is told it does not exist.
func CanSeeOrder(v Viewer, o *store.Order, shop *store.Shop) bool {
	return v.SignedIn() && (o.BuyerID == v.User.ID || CanManageShop(v, shop))
}

// CanCancelOrder reports whether the viewer may cancel an order: the shop's
// managers, or its buyer. Who may is decided here; when (only a PAID order,
// before it ships) is the order's own rule, refused as INVALID_TRANSITION,
// so a buyer retrying a cancellation, or too late, is told why.
func CanCancelOrder(v Viewer, o *store.Order, shop *store.Shop) bool {
	return CanManageShop(v, shop) || (v.SignedIn() && o.BuyerID == v.User.ID)
}
