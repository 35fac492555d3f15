package auth_test

import (
	"testing"

	"showcase/auth"
	"showcase/store"
)

// TestAppsActOnlyWithinTheirShopAndScopes checks the rules themselves; the
// graph package checks that every path calls them.
func TestAppsActOnlyWithinTheirShopAndScopes(t *testing.T) {
	owner := &store.User{ID: 1}
	admin := &store.User{ID: 9, IsAdmin: true}
	shopA := &store.Shop{ID: 10, OwnerID: 1}
	shopB := &store.Shop{ID: 20, OwnerID: 2}
	app := func(shopID int64, scopes ...string) auth.Viewer {
		return auth.Viewer{User: owner, App: &auth.AppGrant{AppID: 5, ShopID: shopID, Scopes: scopes}}
	}
	person := auth.Viewer{User: owner}
	shopOrder := &store.Order{ID: 1, ShopID: shopA.ID, BuyerID: 3, Status: store.OrderPaid}
	personalOrder := &store.Order{ID: 2, ShopID: shopB.ID, BuyerID: owner.ID, Status: store.OrderPaid}
	hostedForB := &store.LiveSession{ContentBase: store.ContentBase{AuthorID: owner.ID, ShopID: &shopB.ID}}
	hostedForA := &store.LiveSession{ContentBase: store.ContentBase{AuthorID: owner.ID, ShopID: &shopA.ID}}
	draft := &store.Product{ShopID: shopA.ID, Status: store.ProductDraft}

	checks := []struct {
		name string
		got  bool
		want bool
	}{
		{"person sees their purchase", auth.CanSeeOrder(person, personalOrder, shopB), true},
		{"person cancels their paid purchase", auth.CanCancelOrder(person, personalOrder, shopB), true},
		{"shop app sees not its owner's purchase", auth.CanSeeOrder(app(shopA.ID, "orders:read"), personalOrder, shopB), false},
		{"shop app cancels not its owner's purchase", auth.CanCancelOrder(app(shopA.ID, "orders:write"), personalOrder, shopB), false},
		{"orders:read app sees its shop's order", auth.CanSeeOrder(app(shopA.ID, "orders:read"), shopOrder, shopA), true},
		{"catalog:read app sees no order", auth.CanSeeOrder(app(shopA.ID, "catalog:read"), shopOrder, shopA), false},
		{"orders:read app cannot cancel", auth.CanCancelOrder(app(shopA.ID, "orders:read"), shopOrder, shopA), false},
		{"orders:write app cancels its shop's order", auth.CanCancelOrder(app(shopA.ID, "orders:write"), shopOrder, shopA), true},
		{"person sees their cart", auth.CanSeeCart(person, owner.ID), true},
		{"app sees not its owner's cart", auth.CanSeeCart(app(shopA.ID, "orders:read"), owner.ID), false},
		{"host runs their live for B", auth.CanManageLive(person, hostedForB), true},
		{"shop A app runs not its owner's live for B", auth.CanManageLive(app(shopA.ID, "content:write"), hostedForB), false},
		{"shop A app runs its owner's live for A", auth.CanManageLive(app(shopA.ID, "content:write"), hostedForA), true},
		{"owner sees the draft", auth.CanSeeProduct(person, draft, shopA), true},
		{"catalog:read app sees the draft", auth.CanSeeProduct(app(shopA.ID, "catalog:read"), draft, shopA), true},
		{"content:read app sees no draft", auth.CanSeeProduct(app(shopA.ID, "content:read"), draft, shopA), false},
		{"anonymous sees no draft", auth.CanSeeProduct(auth.Viewer{}, draft, shopA), false},
		{"author in person sees figures for B", auth.CanSeeCommercialFigures(person, owner.ID, shopB), true},
		{"shop A app sees not the figures for B", auth.CanSeeCommercialFigures(app(shopA.ID, "metrics:read"), owner.ID, shopB), false},
		{"platform app of an admin sees every order", auth.CanSeeOrder(auth.Viewer{User: admin, App: &auth.AppGrant{Scopes: []string{"orders:read"}}}, personalOrder, shopB), true},
		{"apps see no apps", auth.CanManageApp(app(shopA.ID, store.AllScopes...), &store.App{CreatedBy: owner.ID}, shopA), false},
		{"node: catalog:read app looks up no orders", auth.CanLookUp(app(shopA.ID, "catalog:read"), "Order"), false},
		{"node: apps look up no carts", auth.CanLookUp(app(shopA.ID, store.AllScopes...), "Cart"), false},
		{"node: people look up anything", auth.CanLookUp(person, "Cart"), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}
