package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
	"showcase/webhook"
)

// hookReceiver records the event ids it is sent; hold, while set, makes it
// hang on each request until the sender goes away.
type hookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	ids  []string
	hold bool
}

func newHookReceiver(t *testing.T, secret *string) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id := req.Header.Get(webhook.HeaderID)
		r.mu.Lock()
		if *secret != "" && !webhook.Verify(*secret, req.Header.Get(webhook.HeaderTimestamp), body, req.Header.Get(webhook.HeaderSignature)) {
			t.Errorf("event %s: the signature does not verify", id)
		}
		r.ids = append(r.ids, id)
		hold := r.hold
		r.mu.Unlock()
		if hold {
			<-req.Context().Done() // the sender died or gave up
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// hookShop signs a seller up on the server at base, with a shop, a product
// and a catalog:read app subscribed to INVENTORY_CHANGED at callback; it
// returns the seller's token, the product's first variant and the app's
// webhook secret.
func hookShop(t *testing.T, base, callback string) (token, variantID, secret string) {
	t.Helper()
	var su struct{ SignUp struct{ Token string } }
	post(t, base, "", `mutation { signUp(input: {email: "hooks@example.com", password: "long-enough-password", handle: "hooks", displayName: "Hooks"}) { token } }`, &su)
	token = su.SignUp.Token
	var shop struct {
		CreateShop struct{ Shop struct{ ID string } }
	}
	post(t, base, token, `mutation { createShop(input: {handle: "hookshop", name: "Hook Shop", operatingModel: SELF_OPERATED}) { shop { id } } }`, &shop)
	var product struct {
		CreateProduct struct {
			Product struct {
				Variants struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
		}
	}
	post(t, base, token, `mutation($shop: ID!) { createProduct(input: {shopId: $shop, title: "Hook serum", description: "d", tags: ["x"],
		variants: [{sku: "H-1", title: "One", price: {amount: "10", currencyCode: "USD"}, stock: 5}]}) {
		product { variants { edges { node { id } } } } } }`, &product, map[string]any{"shop": shop.CreateShop.Shop.ID})
	variantID = product.CreateProduct.Product.Variants.Edges[0].Node.ID
	var app struct {
		CreateApp struct {
			App          struct{ ClientID string }
			ClientSecret string
		}
	}
	post(t, base, token, `mutation($shop: ID!) { createApp(input: {name: "hooks", scopes: ["catalog:read"], shopId: $shop}) { app { clientId } clientSecret } }`,
		&app, map[string]any{"shop": shop.CreateShop.Shop.ID})
	resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app.CreateApp.App.ClientID}, "client_secret": {app.CreateApp.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var grant struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&grant)
	resp.Body.Close()
	if err != nil || grant.AccessToken == "" {
		t.Fatalf("app token: %v", err)
	}
	var sub struct {
		WebhookSubscriptionCreate struct {
			WebhookSecret *string
			UserErrors    []any
		}
	}
	post(t, base, grant.AccessToken, `mutation($url: String!) { webhookSubscriptionCreate(topic: INVENTORY_CHANGED, webhookSubscription: {callbackUrl: $url}) {
		webhookSecret userErrors { message } } }`, &sub, map[string]any{"url": callback})
	if sub.WebhookSubscriptionCreate.WebhookSecret == nil {
		t.Fatalf("subscribe: %+v", sub)
	}
	return token, variantID, *sub.WebhookSubscriptionCreate.WebhookSecret
}

// setStockOn changes a variant's stock through the server at base: one
// INVENTORY_CHANGED event.
func setStockOn(t *testing.T, base, token, variantID string, stock int) {
	t.Helper()
	var out any
	post(t, base, token, `mutation($v: ID!, $n: Int!) { setInventory(input: {variantId: $v, stock: $n}) { variant { id } } }`,
		&out, map[string]any{"v": variantID, "n": stock})
}

// deliveryStates counts the deliveries of the database at dsn by status.
func deliveryStates(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := db.SelectContext(context.Background(), &rows, `SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status`); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out
}

var hookEnv = []string{"JWT_SECRET=" + strings.Repeat("w", 32), "WEBHOOK_INTERVAL=50ms", "WEBHOOK_ATTEMPT_TIMEOUT=2s",
	"WEBHOOK_RETRY_BASE=100ms", "AUTH_RATE_LIMIT_BURST=50"}

// TestWebhookSurvivesAKilledServer kills a server process while it is
// sending a delivery (the receiver holds the request): a server started
// again on the database sends it once its lease runs out, with the same
// event id.
func TestWebhookSurvivesAKilledServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	var secret string
	rcv := newHookReceiver(t, &secret)
	rcv.hold = true
	// An attempt may last 5 s (its lease 15 s): the kill comes first.
	env := append(append([]string(nil), hookEnv...), "WEBHOOK_ATTEMPT_TIMEOUT=5s")
	a := startServerEnv(t, bin, dsn, env)
	token, variant, s := hookShop(t, a.base, rcv.URL)
	rcv.mu.Lock()
	secret = s
	rcv.mu.Unlock()
	setStockOn(t, a.base, token, variant, 9)
	waitFor(t, 30*time.Second, "the first attempt", func() bool { return len(rcv.received()) == 1 })

	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	rcv.mu.Lock()
	rcv.hold = false
	rcv.mu.Unlock()

	db, err := store.Open(context.Background(), dsn, store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st := deliveryStates(t, db); st[store.DeliveryPending] != 1 {
		t.Fatalf("after the kill: %v, want one PENDING delivery", st)
	}
	startServerEnv(t, bin, dsn, env)
	waitFor(t, 60*time.Second, "the delivery after the restart", func() bool {
		return deliveryStates(t, db)[store.DeliveryDelivered] == 1
	})
	ids := rcv.received()
	if len(ids) < 2 {
		t.Fatalf("receiver got %v, want the cut attempt and the delivery", ids)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("receiver got %v, want one event id throughout", ids)
		}
	}
}

// TestWebhookDeliveredOnceByTwoServers runs two server processes on one
// database: every event reaches the receiver exactly once.
func TestWebhookDeliveredOnceByTwoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	var secret string
	rcv := newHookReceiver(t, &secret)
	a := startServerEnv(t, bin, dsn, hookEnv)
	b := startServerEnv(t, bin, dsn, hookEnv)
	token, variant, s := hookShop(t, a.base, rcv.URL)
	rcv.mu.Lock()
	secret = s
	rcv.mu.Unlock()
	const n = 30
	for i := range n {
		base := a.base
		if i%2 == 1 {
			base = b.base
		}
		setStockOn(t, base, token, variant, i)
	}
	db, err := store.Open(context.Background(), dsn, store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, 60*time.Second, "every delivery", func() bool { return deliveryStates(t, db)[store.DeliveryDelivered] == n })
	ids := rcv.received()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("event %s delivered twice", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct events delivered, want %d", len(seen), n)
	}
}
