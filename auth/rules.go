package auth

import "showcase/store"

// Who may see and do what, one rule per object. The graph layer calls these on
// every path that reaches an object (node, nodes, root fields, nested fields,
// connections, subscriptions and mutations), so a rule holds whichever way the
// object is reached.
//
// App tokens act for their owner's account (the shop's owner for a shop app,
// the admin who made it for a platform app), but never with the whole of it:
// an app sees and changes private objects only within its shop and its
// scopes, and never its owner's personal things (their purchases, their
// cart, their apps, content they publish for other shops).

// appMay reports whether the viewer, when it is an app, acts for the shop with
// shopID (any shop for a platform app) and holds one of the scopes. People
// and anonymous callers pass: their own rules decide.
func appMay(v Viewer, shopID int64, scopes ...string) bool {
	if v.App == nil {
		return true
	}
	if v.App.ShopID != 0 && v.App.ShopID != shopID {
		return false
	}
	return v.App.HasAnyScope(scopes)
}

// InPerson reports whether the caller is a signed-in person using their own
// session, not an app acting for them.
func (v Viewer) InPerson() bool { return v.User != nil && v.App == nil }

// lookUpScopes are the scopes an app needs to fetch an object of each kind by
// ID: the scopes of the kind's own root field, so node and nodes are never a
// way around them. Kinds not listed here (Cart, CartLine, App) are for people
// only.
var lookUpScopes = map[string][]string{
	"Shop":           {store.ScopeCatalogRead, store.ScopeMetricsRead},
	"Product":        {store.ScopeCatalogRead, store.ScopeMetricsRead},
	"ProductVariant": {store.ScopeCatalogRead},
	"Video":          {store.ScopeContentRead, store.ScopeMetricsRead},
	"LiveSession":    {store.ScopeContentRead, store.ScopeMetricsRead},
	"Comment":        {store.ScopeContentRead},
	"Order":          {store.ScopeOrdersRead},
	"User":           {store.ScopeCatalogRead, store.ScopeContentRead, store.ScopeOrdersRead, store.ScopeMetricsRead},
	// Webhooks: the scopes of webhookSubscriptions and webhookDeliveries
	// (CanSeeWebhook then asks for the topic's own scope).
	"WebhookSubscription": webhookFieldScopes,
	"WebhookDelivery":     webhookFieldScopes,
	// Campaign: metrics:read too, so that a platform app reads the figures
	// it may see (CanSeeCampaignFigures) without catalog:read.
	"Campaign": {store.ScopeCatalogRead, store.ScopeMetricsRead},
	// DiscountCode: the scopes CanSeeDiscountCodes names (Shop.discountCodes
	// and the discount code mutations' payloads), which then asks that the
	// app be the code's shop's. (node and nodes also ask for a read scope.)
	"DiscountCode": {store.ScopeCatalogRead, store.ScopeCatalogWrite},
}

// CanSeeCampaignFigures reports whether the viewer may see a platform
// campaign's sales figures: admins in person, and platform apps an admin
// made with metrics:read. Campaigns themselves are public.
func CanSeeCampaignFigures(v Viewer) bool {
	return v.IsAdmin() && (v.App == nil || v.App.HasAnyScope([]string{store.ScopeMetricsRead}))
}

// CanLookUp reports whether the viewer may fetch an object of the given kind
// (its GraphQL type name) by ID through node or nodes: people and anonymous
// callers always (the object's own rule still applies), apps only with one of
// the scopes the kind's root field asks for.
func CanLookUp(v Viewer, kind string) bool {
	if v.App == nil {
		return true
	}
	scopes, ok := lookUpScopes[kind]
	return ok && v.App.HasAnyScope(scopes)
}

// CanManageShop reports whether the viewer may change a shop, its products and
// its inventory: its owner, or an admin; a shop app only its own shop. The
// scope each change needs is the mutation's @scope.
func CanManageShop(v Viewer, shop *store.Shop) bool {
	if v.App != nil && v.App.ShopID != 0 && v.App.ShopID != shop.ID {
		return false // a shop app never touches another shop
	}
	return v.SignedIn() && (v.IsAdmin() || shop.OwnerID == v.User.ID)
}

// CanSeeDrafts reports whether the viewer may see the shop's draft products:
// those who manage the shop, and apps among them only with catalog:read or
// catalog:write.
func CanSeeDrafts(v Viewer, shop *store.Shop) bool {
	return CanManageShop(v, shop) && appMay(v, shop.ID, store.ScopeCatalogRead, store.ScopeCatalogWrite)
}

// CanSeeProduct reports whether the viewer may see a product (and so its
// variants): active and archived products are public; drafts are visible only
// to CanSeeDrafts of its shop.
func CanSeeProduct(v Viewer, p *store.Product, shop *store.Shop) bool {
	return p.Status != store.ProductDraft || CanSeeDrafts(v, shop)
}

// CanManageLive reports whether the viewer may run a live session (start it,
// pin products, end it): its host, or an admin; an app only for a session of
// its own shop.
func CanManageLive(v Viewer, ls *store.LiveSession) bool {
	if !v.SignedIn() || !(v.IsAdmin() || ls.AuthorID == v.User.ID) {
		return false
	}
	if v.App != nil && v.App.ShopID != 0 {
		return ls.ShopID != nil && *ls.ShopID == v.App.ShopID
	}
	return true
}

// CanFeatureProduct reports whether the viewer may put a product card on
// content they publish: creators may feature any active product (as
// affiliates); sellers their own shops' active products; a shop app only its
// own shop's products.
func CanFeatureProduct(v Viewer, p *store.Product, shop *store.Shop) bool {
	if !v.SignedIn() || p.Status != store.ProductActive {
		return false
	}
	if v.App != nil && v.App.ShopID != 0 && v.App.ShopID != shop.ID {
		return false
	}
	return v.IsAdmin() || v.User.IsCreator || shop.OwnerID == v.User.ID
}

// CanSeeCommercialFigures reports whether the viewer may see the orders, GMV,
// GPM and rates of a subject: admins, the shop's managers, and the content's
// author in person (authorID 0 for products and shops; shop nil for content
// attributed to no shop). Apps need metrics:read and, for a shop app, the
// subject must belong to its shop.
func CanSeeCommercialFigures(v Viewer, authorID int64, shop *store.Shop) bool {
	if !v.SignedIn() {
		return false
	}
	if v.App != nil {
		if shop == nil {
			return v.IsAdmin() && v.App.HasAnyScope([]string{store.ScopeMetricsRead})
		}
		return appMay(v, shop.ID, store.ScopeMetricsRead) && CanManageShop(v, shop)
	}
	return v.IsAdmin() || (authorID != 0 && authorID == v.User.ID) || (shop != nil && CanManageShop(v, shop))
}

// CanSeeOrder reports whether the viewer may see an order: its buyer in
// person, the shop's owner, or an admin; an app only with orders:read and
// only its own shop's orders (never its owner's purchases). Everyone else is
// told it does not exist.
func CanSeeOrder(v Viewer, o *store.Order, shop *store.Shop) bool {
	if !v.SignedIn() {
		return false
	}
	if v.App != nil {
		return appMay(v, o.ShopID, store.ScopeOrdersRead) && CanManageShop(v, shop)
	}
	return o.BuyerID == v.User.ID || CanManageShop(v, shop)
}

// CanSeeShopOrders reports whether the viewer may list a shop's orders: its
// managers, and apps among them only with orders:read.
func CanSeeShopOrders(v Viewer, shop *store.Shop) bool {
	return CanManageShop(v, shop) && appMay(v, shop.ID, store.ScopeOrdersRead)
}

// CanFulfillOrder reports whether the viewer may move an order along
// (fulfillOrder, markDelivered): the shop's managers, and apps among them only
// with orders:write.
func CanFulfillOrder(v Viewer, o *store.Order, shop *store.Shop) bool {
	return o.ShopID == shop.ID && CanManageShop(v, shop) && appMay(v, shop.ID, store.ScopeOrdersWrite)
}

// CanCancelOrder reports whether the viewer may cancel an order: those who may
// fulfil it, or its buyer in person. Who may is decided here; when (only a
// PAID order, before it ships) is the order's own rule, refused as
// INVALID_TRANSITION, so a buyer retrying a cancellation, or too late, is
// told why.
func CanCancelOrder(v Viewer, o *store.Order, shop *store.Shop) bool {
	return CanFulfillOrder(v, o, shop) || (v.InPerson() && o.BuyerID == v.User.ID)
}

// CanSeeCart reports whether the viewer may see (and change) the cart of the
// buyer with buyerID: that buyer in person only; apps never see carts.
func CanSeeCart(v Viewer, buyerID int64) bool {
	return v.InPerson() && v.User.ID == buyerID
}

// CanSeeOwnAccount reports whether the viewer may see a user's private lists
// (their cart, shops and orders): that user in person only.
func CanSeeOwnAccount(v Viewer, userID int64) bool {
	return v.InPerson() && v.User.ID == userID
}

// CanManageApp reports whether the viewer may see an app and rotate or revoke
// it: its creator, its shop's owner or an admin, in person; app tokens never
// see apps (shop is nil for a platform app).
func CanManageApp(v Viewer, app *store.App, shop *store.Shop) bool {
	if !v.InPerson() {
		return false
	}
	return v.IsAdmin() || app.CreatedBy == v.User.ID || (shop != nil && CanManageShop(v, shop))
}

// CanSeeAddress reports whether the viewer may see, use (check out with, ship
// a cart to) and change a saved address: its owner in person only; apps and
// everyone else are told it does not exist.
func CanSeeAddress(v Viewer, a *store.CustomerAddress) bool {
	return v.InPerson() && a.UserID == v.User.ID
}

// CanOpenGuestCart reports whether the viewer may use a guest cart whose key
// it presents (the key itself is checked by store.OpenGuestCart): anyone
// holding the key, signed in or not, except apps, which never see carts.
func CanOpenGuestCart(v Viewer) bool {
	return v.App == nil
}

// CanSeeProfile reports whether a user's public profile may be shown as a
// User on its own (node, nodes): everyone's but a guest's (an anonymous
// buyer's cart, see store.CreateGuestCart), which is shown only as the buyer
// of its orders to those who may see them.
func CanSeeProfile(u *store.User) bool {
	return !u.IsGuest
}

// CanFollow reports whether the viewer may follow or unfollow creators and
// shops: people in person only. Whom one follows is one's own, as a like
// is, so no app scope grants it.
func CanFollow(v Viewer) bool { return v.InPerson() }

// CanSeeFollowingFeed reports whether the viewer may read the FOLLOWING
// feed, which is made of whom they follow: people in person only. (The
// followers and following lists and follower counts are public, as the
// profiles they hang on.)
func CanSeeFollowingFeed(v Viewer) bool { return v.InPerson() }

// CanSeeDiscountCodes reports whether the viewer may list a shop's discount
// codes: those who manage the shop, and the shop's apps only with
// catalog:read or catalog:write (changing them needs catalog:write, the
// mutations' @scope). Buyers learn a code from the shop, not from the API.
func CanSeeDiscountCodes(v Viewer, shop *store.Shop) bool {
	return CanManageShop(v, shop) && appMay(v, shop.ID, store.ScopeCatalogRead, store.ScopeCatalogWrite)
}
