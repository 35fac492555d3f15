package auth_test

import (
	"reflect"
	"testing"

	"showcase/auth"
	"showcase/store"
)

// TestWebhookTopicsFollowTheTokensScopes checks the webhook rules: a token
// sees the topics its scopes allow, and rotates the app's secret only when
// it is allowed every topic the app subscribes to.
func TestWebhookTopicsFollowTheTokensScopes(t *testing.T) {
	owner := &store.User{ID: 1}
	app := func(scopes ...string) auth.Viewer {
		return auth.Viewer{User: owner, App: &auth.AppGrant{AppID: 5, ShopID: 10, Scopes: scopes}}
	}
	for _, c := range []struct {
		viewer auth.Viewer
		want   []string
	}{
		{app(store.ScopeCatalogRead), []string{store.TopicInventoryChanged, store.TopicProductUpdated}},
		{app(store.ScopeOrdersRead), []string{store.TopicOrderCancelled, store.TopicOrderFulfilled, store.TopicOrderPaid, store.TopicOrderRefunded}},
		{app(store.ScopeCatalogWrite, store.ScopeMetricsRead), []string{}},
		{auth.Viewer{User: owner}, []string{}},
	} {
		if got := auth.WebhookTopics(c.viewer); !reflect.DeepEqual(got, c.want) {
			t.Errorf("WebhookTopics(%v) = %v, want %v", c.viewer.App, got, c.want)
		}
	}
	catalog := app(store.ScopeCatalogRead)
	for _, c := range []struct {
		name       string
		viewer     auth.Viewer
		subscribed []string
		want       bool
	}{
		{"no subscriptions", catalog, nil, true},
		{"only its topics", catalog, []string{store.TopicInventoryChanged, store.TopicProductUpdated}, true},
		{"an order topic among them", catalog, []string{store.TopicInventoryChanged, store.TopicOrderPaid}, false},
		{"every scope held", app(store.ScopeCatalogRead, store.ScopeOrdersRead), []string{store.TopicInventoryChanged, store.TopicOrderPaid}, true},
		{"a person", auth.Viewer{User: owner}, nil, false},
	} {
		if got := auth.CanRotateWebhookSecret(c.viewer, c.subscribed); got != c.want {
			t.Errorf("%s: CanRotateWebhookSecret = %v, want %v", c.name, got, c.want)
		}
	}
}
