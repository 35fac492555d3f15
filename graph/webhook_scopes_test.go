package graph_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"showcase/webhook"
)

// narrowedAppTokens registers a shop app with scopes and returns a token
// holding all of them and one narrowed to narrow (client_credentials with
// scope=narrow), both for the same app.
func (a *testAPI) narrowedAppTokens(userToken, shopID string, scopes []string, narrow string) (full, narrowed string) {
	a.t.Helper()
	var out struct {
		CreateApp struct {
			App          struct{ ClientID string }
			ClientSecret string
			UserErrors   []userError
		}
	}
	a.ok(userToken, `mutation($in: CreateAppInput!) { createApp(input: $in) { app { clientId } clientSecret userErrors { field code } } }`,
		map[string]any{"in": map[string]any{"name": "Narrowed", "scopes": scopes, "shopId": shopID}}, &out)
	if len(out.CreateApp.UserErrors) > 0 {
		a.t.Fatalf("createApp: %+v", out.CreateApp.UserErrors)
	}
	token := func(scope string) string {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {out.CreateApp.App.ClientID},
			"client_secret": {out.CreateApp.ClientSecret}}
		if scope != "" {
			form.Set("scope", scope)
		}
		status, body := a.tokenRequest(form, "")
		if status != http.StatusOK || (scope != "" && body["scope"] != scope) {
			a.t.Fatalf("token endpoint (scope %q): %d %v", scope, status, body)
		}
		return body["access_token"].(string)
	}
	return token(""), token(narrow)
}

type hookListOut struct {
	WebhookSubscriptions struct {
		Edges []struct {
			Node struct{ ID, Topic, CallbackURL string }
		}
	}
	WebhookDeliveries struct {
		Edges []struct {
			Node struct {
				ID, Topic    string
				Subscription *struct{ Topic string }
			}
		}
	}
}

// hookLists returns the subscriptions and deliveries the token lists, as
// id -> topic maps.
func (a *testAPI) hookLists(token string) (subs, deliveries map[string]string) {
	a.t.Helper()
	var out hookListOut
	a.ok(token, `{ webhookSubscriptions(first: 50) { edges { node { id topic callbackUrl } } }
		webhookDeliveries(first: 50) { edges { node { id topic subscription { topic } } } } }`, nil, &out)
	subs, deliveries = map[string]string{}, map[string]string{}
	for _, e := range out.WebhookSubscriptions.Edges {
		subs[e.Node.ID] = e.Node.Topic
	}
	for _, e := range out.WebhookDeliveries.Edges {
		deliveries[e.Node.ID] = e.Node.Topic
		if e.Node.Subscription != nil && e.Node.Subscription.Topic != e.Node.Topic {
			a.t.Errorf("delivery %s of %s lists a %s subscription", e.Node.ID, e.Node.Topic, e.Node.Subscription.Topic)
		}
	}
	return subs, deliveries
}

// keyOf returns the key of m whose value is v (the first one found).
func keyOf(m map[string]string, v string) string {
	for k, x := range m {
		if x == v {
			return k
		}
	}
	return ""
}

const (
	hookUpdateMutation = `mutation($id: ID!, $url: String!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: {callbackUrl: $url}) {
		webhookSubscription { callbackUrl } userErrors { code } } }`
	hookDeleteMutation    = `mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId } }`
	hookRotateMutation    = `mutation { webhookSecretRotate { webhookSecret } }`
	hookRedeliverMutation = `mutation($id: ID!) { webhookDeliveryRedeliver(id: $id) { webhookDelivery { id status } } }`
)

// TestNarrowedTokenCannotTakeOverOtherTopicsWebhooks is the reviewer's
// sequence: a token of an orders:read + catalog:read app, narrowed to
// catalog:read, tries to point the app's ORDER_PAID subscription at its own
// URL, learn a new secret, read ORDER_PAID subscriptions and deliveries,
// redeliver a past order event and delete the subscription. Every step is
// refused (NOT_FOUND, left out of lists, FORBIDDEN for the secret), while the
// same token manages its own topic's subscription and deliveries, and the
// full token manages all.
func TestNarrowedTokenCannotTakeOverOtherTopicsWebhooks(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("narrowhooks")
	buyer, _ := a.user("narrowbuyer", false)
	full, catalogOnly := a.narrowedAppTokens(f.sellerToken, f.shopID, []string{"orders:read", "catalog:read"}, "catalog:read")
	good, evil := newReceiver(t), newReceiver(t)
	secret := a.subscribe(full, good.URL, "ORDER_PAID", "INVENTORY_CHANGED")
	a.buy(buyer, "narrow-1", f.variantIDs[0], 1)
	a.setStock(f.sellerToken, f.variantIDs[1], 5)
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	if n := len(good.requests()); n != 2 {
		t.Fatalf("the app's receiver got %d requests, want 2", n)
	}

	allSubs, allDeliveries := a.hookLists(full)
	paidSub, stockSub := keyOf(allSubs, "ORDER_PAID"), keyOf(allSubs, "INVENTORY_CHANGED")
	paidDelivery, stockDelivery := keyOf(allDeliveries, "ORDER_PAID"), keyOf(allDeliveries, "INVENTORY_CHANGED")
	if len(allSubs) != 2 || len(allDeliveries) != 2 || paidSub == "" || stockSub == "" || paidDelivery == "" || stockDelivery == "" {
		t.Fatalf("the full token lists %v and %v", allSubs, allDeliveries)
	}

	// Lists leave out what the narrowed token may not see.
	subs, deliveries := a.hookLists(catalogOnly)
	if len(subs) != 1 || subs[stockSub] != "INVENTORY_CHANGED" || len(deliveries) != 1 || deliveries[stockDelivery] != "INVENTORY_CHANGED" {
		t.Errorf("the catalog:read token lists %v and %v, want only INVENTORY_CHANGED", subs, deliveries)
	}
	var failed struct {
		WebhookDeliveries struct {
			Edges []struct{ Node struct{ Topic string } }
		}
	}
	a.ok(catalogOnly, `{ webhookDeliveries(status: DELIVERED) { edges { node { topic } } } }`, nil, &failed)
	for _, e := range failed.WebhookDeliveries.Edges {
		if e.Node.Topic != "INVENTORY_CHANGED" {
			t.Errorf("the catalog:read token lists a delivered %s", e.Node.Topic)
		}
	}

	// Mutations on another topic's subscription or delivery: NOT_FOUND, and
	// nothing changes.
	if resp := a.post(catalogOnly, hookUpdateMutation, map[string]any{"id": paidSub, "url": evil.URL}); resp.code() != "NOT_FOUND" {
		t.Errorf("catalog:read token updating the ORDER_PAID subscription: %s %+v %s", resp.code(), resp.Errors, resp.Data)
	}
	if resp := a.post(catalogOnly, hookRedeliverMutation, map[string]any{"id": paidDelivery}); resp.code() != "NOT_FOUND" {
		t.Errorf("catalog:read token redelivering an ORDER_PAID event: %s %+v %s", resp.code(), resp.Errors, resp.Data)
	}
	if resp := a.post(catalogOnly, hookDeleteMutation, map[string]any{"id": paidSub}); resp.code() != "NOT_FOUND" {
		t.Errorf("catalog:read token deleting the ORDER_PAID subscription: %s %+v %s", resp.code(), resp.Errors, resp.Data)
	}
	// The secret signs ORDER_PAID deliveries too: not without orders:read.
	if resp := a.post(catalogOnly, hookRotateMutation, nil); resp.code() != "FORBIDDEN" {
		t.Errorf("catalog:read token rotating the secret of an app subscribed to ORDER_PAID: %s %s", resp.code(), resp.Data)
	}
	if subs, _ := a.hookLists(full); len(subs) != 2 {
		t.Errorf("after the narrowed token's attempts the app has %v", subs)
	}
	var url string
	if err := a.db.GetContext(context.Background(), &url, `SELECT url FROM webhook_subscriptions WHERE topic = 'ORDER_PAID'`); err != nil || url != good.URL {
		t.Errorf("the ORDER_PAID subscription points at %q (%v)", url, err)
	}
	if a.pendingDeliveries() != 0 {
		t.Error("the narrowed token queued a redelivery")
	}
	// A new order event still goes to the app's own URL, signed with the
	// secret it always had.
	a.buy(buyer, "narrow-2", f.variantIDs[0], 1)
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	if got := good.requests(); len(got) != 3 || !webhook.Verify(secret, got[2].Timestamp, got[2].Body, got[2].Signature) {
		t.Errorf("the app's receiver got %d requests, or the last does not verify with the app's secret", len(got))
	}
	if n := len(evil.requests()); n != 0 {
		t.Fatalf("the narrowed token's URL got %d requests", n)
	}

	// Its own topic's subscription and deliveries it manages.
	var upd struct {
		WebhookSubscriptionUpdate struct{ WebhookSubscription *struct{ CallbackURL string } }
	}
	a.ok(catalogOnly, hookUpdateMutation, map[string]any{"id": stockSub, "url": evil.URL}, &upd)
	if upd.WebhookSubscriptionUpdate.WebhookSubscription == nil || upd.WebhookSubscriptionUpdate.WebhookSubscription.CallbackURL != evil.URL {
		t.Fatalf("catalog:read token updating its INVENTORY_CHANGED subscription = %+v", upd)
	}
	a.ok(catalogOnly, hookRedeliverMutation, map[string]any{"id": stockDelivery}, nil)
	a.deliverUntil(a.webhookWorker(), func() bool { return len(evil.requests()) == 1 })
	if got := evil.requests(); got[0].Topic != "INVENTORY_CHANGED" {
		t.Errorf("the redelivery sent %s", got[0].Topic)
	}

	// The full token rotates the secret; once the app subscribes only to
	// catalog topics, the narrowed token may too.
	a.ok(full, hookRotateMutation, nil, nil)
	a.ok(full, hookDeleteMutation, map[string]any{"id": paidSub}, nil)
	var rot struct {
		WebhookSecretRotate struct{ WebhookSecret *string }
	}
	a.ok(catalogOnly, hookRotateMutation, nil, &rot)
	if rot.WebhookSecretRotate.WebhookSecret == nil || *rot.WebhookSecretRotate.WebhookSecret == secret {
		t.Errorf("catalog:read token rotating the secret of a catalog-only app = %+v", rot)
	}
	// The deleted ORDER_PAID subscription's deliveries stay out of its log.
	if _, deliveries := a.hookLists(catalogOnly); keyOf(deliveries, "ORDER_PAID") != "" {
		t.Errorf("the catalog:read token lists ORDER_PAID deliveries of a deleted subscription: %v", deliveries)
	}
}
