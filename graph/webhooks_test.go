package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
	"showcase/webhook"
)

// received is one request a test receiver got.
type received struct {
	ID, Timestamp, Topic, Signature string
	Body                            []byte
	Event                           struct {
		ID    string          `json:"id"`
		Topic string          `json:"topic"`
		Data  json.RawMessage `json:"data"`
	}
}

// receiver is a webhook endpoint in the test: it records every request and
// answers with the next status of answers (200 once they run out).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	answers []int
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec := received{ID: req.Header.Get(webhook.HeaderID), Timestamp: req.Header.Get(webhook.HeaderTimestamp),
			Topic: req.Header.Get(webhook.HeaderTopic), Signature: req.Header.Get(webhook.HeaderSignature), Body: body}
		_ = json.Unmarshal(body, &rec.Event)
		r.mu.Lock()
		r.got = append(r.got, rec)
		status := http.StatusOK
		if len(r.answers) > 0 {
			status, r.answers = r.answers[0], r.answers[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "answer "+http.StatusText(status))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// webhookWorker is a delivery worker over a's database that retries within
// milliseconds, so tests need not wait.
func (a *testAPI) webhookWorker() *webhook.Worker {
	return &webhook.Worker{DB: a.db, Settings: webhook.Settings{RetryBase: time.Millisecond, AttemptTimeout: 5 * time.Second}}
}

// deliverUntil runs the worker until done holds (or fails the test after
// 20 s).
func (a *testAPI) deliverUntil(w *webhook.Worker, done func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			a.t.Fatal("webhook deliveries did not reach the expected state")
		}
		if _, err := w.RunOnce(context.Background()); err != nil {
			a.t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // lets backoffs of a millisecond come due
	}
}

// pendingDeliveries counts deliveries not settled yet.
func (a *testAPI) pendingDeliveries() int {
	a.t.Helper()
	var n int
	if err := a.db.GetContext(context.Background(), &n, `SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING'`); err != nil {
		a.t.Fatal(err)
	}
	return n
}

const subscribeMutation = `mutation($topic: WebhookSubscriptionTopic!, $url: String!) {
	webhookSubscriptionCreate(topic: $topic, webhookSubscription: {callbackUrl: $url}) {
		webhookSubscription { id topic callbackUrl } webhookSecret userErrors { field code message } } }`

type subscribeOut struct {
	WebhookSubscriptionCreate struct {
		WebhookSubscription *struct{ ID, Topic, CallbackURL string }
		WebhookSecret       *string
		UserErrors          []userError
	}
}

// subscribe subscribes the app to topics at url and returns the app's
// webhook secret (made by the first subscription).
func (a *testAPI) subscribe(appToken, url string, topics ...string) string {
	a.t.Helper()
	var secret string
	for _, topic := range topics {
		var out subscribeOut
		a.ok(appToken, subscribeMutation, map[string]any{"topic": topic, "url": url}, &out)
		if len(out.WebhookSubscriptionCreate.UserErrors) > 0 {
			a.t.Fatalf("subscribe %s: %+v", topic, out.WebhookSubscriptionCreate.UserErrors)
		}
		if s := out.WebhookSubscriptionCreate.WebhookSecret; s != nil {
			if secret != "" {
				a.t.Fatal("the webhook secret was shown twice")
			}
			secret = *s
		}
	}
	return secret
}

// TestWebhookTopicsReachTheirSubscribers makes every kind of change through
// the API and checks that the shop's app hears each once, signed, and that
// an app of another shop, subscribed to the same topics, hears nothing.
func TestWebhookTopicsReachTheirSubscribers(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("hooks")
	other := a.fixture("elsewhere")
	buyer, _ := a.user("hookbuyer", false)
	all := []string{"ORDER_PAID", "ORDER_FULFILLED", "ORDER_CANCELLED", "ORDER_REFUNDED", "PRODUCT_UPDATED",
		"INVENTORY_CHANGED", "LIVE_SESSION_STARTED", "LIVE_SESSION_ENDED"}
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"orders:read", "catalog:read", "content:read"})
	rcv := newReceiver(t)
	secret := a.subscribe(app, rcv.URL+"/hooks", all...)
	if secret == "" {
		t.Fatal("no webhook secret shown")
	}
	otherApp, _ := a.appToken(other.sellerToken, other.shopID, []string{"orders:read", "catalog:read", "content:read"})
	otherRcv := newReceiver(t)
	a.subscribe(otherApp, otherRcv.URL, all...)

	// An app may subscribe only to what its scopes allow.
	catalogOnly, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	var refused subscribeOut
	a.ok(catalogOnly, subscribeMutation, map[string]any{"topic": "ORDER_PAID", "url": rcv.URL}, &refused)
	if refused.WebhookSubscriptionCreate.WebhookSubscription != nil || len(refused.WebhookSubscriptionCreate.UserErrors) != 1 {
		t.Fatalf("catalog:read app subscribing to ORDER_PAID = %+v", refused)
	}
	// People manage apps, not webhooks.
	if resp := a.post(f.sellerToken, subscribeMutation, map[string]any{"topic": "ORDER_PAID", "url": rcv.URL}); resp.code() != "FORBIDDEN" {
		t.Fatalf("a person subscribing = %+v", resp.Errors)
	}

	shipped := a.buy(buyer, "wh-1", f.variantIDs[0], 1)
	a.ok(f.sellerToken, fulfillMutation, map[string]any{"id": shipped}, nil)
	cancelled := a.buy(buyer, "wh-2", f.variantIDs[0], 1)
	a.ok(buyer, cancelMutation, map[string]any{"id": cancelled}, nil)
	a.ok(f.sellerToken, `mutation($id: ID!) { updateProduct(input: {id: $id, title: "Renamed serum"}) { product { id } } }`,
		map[string]any{"id": f.productID}, nil)
	a.setStock(f.sellerToken, f.variantIDs[1], 7)
	var sched struct{ ScheduleLiveSession liveOut }
	a.ok(f.sellerToken, scheduleLiveMutation, map[string]any{"in": map[string]any{
		"title": "Hooked live", "scheduledStartAt": time.Now().Add(time.Hour).Format(time.RFC3339),
		"productIds": []string{f.productID}}}, &sched)
	live := map[string]any{"id": sched.ScheduleLiveSession.LiveSession.ID}
	a.ok(f.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, live, nil)
	a.ok(f.sellerToken, `mutation($id: ID!) { endLiveSession(id: $id) { userErrors { code } } }`, live, nil)

	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	got := rcv.requests()
	byTopic := map[string][]received{}
	for _, r := range got {
		if r.Topic != r.Event.Topic || r.ID != r.Event.ID {
			t.Errorf("headers %s/%s disagree with the body %s/%s", r.Topic, r.ID, r.Event.Topic, r.Event.ID)
		}
		if !webhook.Verify(secret, r.Timestamp, r.Body, r.Signature) {
			t.Errorf("%s: the signature does not verify", r.Topic)
		}
		byTopic[r.Topic] = append(byTopic[r.Topic], r)
	}
	want := map[string]int{"ORDER_PAID": 2, "ORDER_FULFILLED": 1, "ORDER_CANCELLED": 1, "ORDER_REFUNDED": 1,
		"PRODUCT_UPDATED": 1, "INVENTORY_CHANGED": 1, "LIVE_SESSION_STARTED": 1, "LIVE_SESSION_ENDED": 1}
	for topic, n := range want {
		if len(byTopic[topic]) != n {
			t.Errorf("%s delivered %d times, want %d", topic, len(byTopic[topic]), n)
		}
	}
	if len(got) != 9 {
		t.Errorf("%d deliveries, want 9 (checkout stock is not INVENTORY_CHANGED)", len(got))
	}
	var order struct {
		Order struct{ ID, Status, ShopID string }
	}
	if rs := byTopic["ORDER_FULFILLED"]; len(rs) == 1 {
		if err := json.Unmarshal(rs[0].Event.Data, &order); err != nil || order.Order.ID != shipped ||
			order.Order.Status != "FULFILLED" || order.Order.ShopID != f.shopID {
			t.Errorf("ORDER_FULFILLED data = %s (%v)", rs[0].Event.Data, err)
		}
	}
	if n := len(otherRcv.requests()); n != 0 {
		t.Errorf("another shop's app got %d events about this shop", n)
	}
}

// TestWebhookRetriedUntilDelivered: a receiver that fails twice gets the
// event a third time, with the same event id and a valid signature each
// time; the app's delivery log says so, and redelivery sends it once more.
func TestWebhookRetriedUntilDelivered(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("retry")
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
	secret := a.subscribe(app, rcv.URL, "INVENTORY_CHANGED")
	a.setStock(f.sellerToken, f.variantIDs[0], 3)

	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	got := rcv.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3 (two failures, then success)", len(got))
	}
	for i, r := range got {
		if r.ID != got[0].ID || r.ID == "" {
			t.Errorf("attempt %d has event id %q, want %q", i+1, r.ID, got[0].ID)
		}
		if !webhook.Verify(secret, r.Timestamp, r.Body, r.Signature) {
			t.Errorf("attempt %d: the signature does not verify", i+1)
		}
	}

	const logQuery = `{ webhookDeliveries(first: 10) { edges { node { id eventId topic status attempts lastResponseCode
		lastResponseBody nextAttemptAt subscription { callbackUrl } } } } }`
	type logOut struct {
		WebhookDeliveries struct {
			Edges []struct {
				Node struct {
					ID, EventID, Topic, Status string
					Attempts                   int
					LastResponseCode           *int
					LastResponseBody           *string
					NextAttemptAt              *string
					Subscription               *struct{ CallbackURL string }
				}
			}
		}
	}
	var log logOut
	a.ok(app, logQuery, nil, &log)
	if len(log.WebhookDeliveries.Edges) != 1 {
		t.Fatalf("log = %+v", log)
	}
	d := log.WebhookDeliveries.Edges[0].Node
	if d.Status != "DELIVERED" || d.Attempts != 3 || d.LastResponseCode == nil || *d.LastResponseCode != 200 ||
		d.EventID != got[0].ID || d.NextAttemptAt != nil || d.Subscription == nil || d.Subscription.CallbackURL != rcv.URL {
		t.Fatalf("delivery = %+v", d)
	}

	var redo struct {
		WebhookDeliveryRedeliver struct {
			WebhookDelivery struct{ Status string }
		}
	}
	a.ok(app, `mutation($id: ID!) { webhookDeliveryRedeliver(id: $id) { webhookDelivery { status } userErrors { code } } }`,
		map[string]any{"id": d.ID}, &redo)
	if redo.WebhookDeliveryRedeliver.WebhookDelivery.Status != "PENDING" {
		t.Fatalf("redeliver = %+v", redo)
	}
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	if got := rcv.requests(); len(got) != 4 || got[3].ID != got[0].ID {
		t.Fatalf("after redelivery: %d requests", len(got))
	}

	// Another app cannot read or redeliver it.
	otherApp, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	var theirs logOut
	a.ok(otherApp, logQuery, nil, &theirs)
	if len(theirs.WebhookDeliveries.Edges) != 0 {
		t.Errorf("another app reads this app's log: %+v", theirs)
	}
	if resp := a.post(otherApp, `mutation($id: ID!) { webhookDeliveryRedeliver(id: $id) { userErrors { code } } }`,
		map[string]any{"id": d.ID}); resp.code() != "NOT_FOUND" {
		t.Errorf("another app redelivering = %+v", resp.Errors)
	}
}

// TestWebhookFailedAfterMaxAge: a receiver that never answers 2xx is
// retried until the maximum age, then the delivery is FAILED and the
// worker stops sending it.
func TestWebhookFailedAfterMaxAge(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("gone")
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	rcv := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	a.subscribe(app, rcv.URL, "INVENTORY_CHANGED")
	a.setStock(f.sellerToken, f.variantIDs[0], 3)
	w := a.webhookWorker()
	w.Settings.MaxAge = time.Millisecond
	a.deliverUntil(w, func() bool { return a.pendingDeliveries() == 0 })
	var status string
	if err := a.db.GetContext(context.Background(), &status, `SELECT status FROM webhook_deliveries`); err != nil || status != "FAILED" {
		t.Fatalf("status %q (%v), want FAILED", status, err)
	}
	n := len(rcv.requests())
	if _, err := w.RunOnce(context.Background()); err != nil || len(rcv.requests()) != n {
		t.Fatalf("a FAILED delivery was sent again (%v)", err)
	}
}

// TestWebhookNotSentForRolledBackChange: an event is written in the
// transaction of its change, so a change that fails after the event was
// written leaves no event and sends nothing; a declined checkout pays no
// order and sends no ORDER_PAID.
func TestWebhookNotSentForRolledBackChange(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("rollback")
	buyer, _ := a.user("rbbuyer", false)
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"orders:read", "catalog:read"})
	rcv := newReceiver(t)
	a.subscribe(app, rcv.URL, "ORDER_PAID", "ORDER_CANCELLED", "INVENTORY_CHANGED", "PRODUCT_UPDATED")
	order := a.buy(buyer, "rb-1", f.variantIDs[0], 1)
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	before := len(rcv.requests()) // the ORDER_PAID
	ctx := context.Background()

	// Cancelling writes ORDER_CANCELLED, then the refund owed; make the
	// refund's insert fail, after the event was written.
	if _, err := a.db.ExecContext(ctx, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
		CREATE TRIGGER refuse_refunds BEFORE INSERT ON refunds FOR EACH ROW EXECUTE FUNCTION refuse();
		CREATE TRIGGER refuse_titles BEFORE UPDATE ON products FOR EACH ROW WHEN (NEW.title = 'Refused') EXECUTE FUNCTION refuse();`); err != nil {
		t.Fatal(err)
	}
	if resp := a.post(buyer, cancelMutation, map[string]any{"id": order}); len(resp.Errors) == 0 {
		t.Fatal("the cancellation did not fail")
	}
	if resp := a.post(f.sellerToken, `mutation($id: ID!) { updateProduct(input: {id: $id, title: "Refused"}) { product { id } } }`,
		map[string]any{"id": f.productID}); len(resp.Errors) == 0 {
		t.Fatal("the product update did not fail")
	}
	// A stock below zero breaks the CHECK in the statement that writes the event.
	var variantID int64
	if err := a.db.GetContext(ctx, &variantID, `SELECT min(id) FROM product_variants`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.SetInventory(ctx, variantID, -1); err == nil {
		t.Fatal("a negative stock was stored")
	}
	var declined checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("rb-2", "tok_declined", line(f.variantIDs[0], 1)), &declined)

	if n := a.count("webhook_events"); n != 1 {
		t.Errorf("%d events, want 1 (the first ORDER_PAID only)", n)
	}
	if _, err := a.webhookWorker().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rcv.requests(); len(got) != before {
		t.Errorf("%d requests after rolled-back changes, want %d", len(got), before)
	}
}

// TestWebhookURLRules: production takes only https to public addresses, at
// subscription (a host name resolving to 127.0.0.1 included) and again at
// delivery, on the address dialled; development takes loopback http; no
// redirect is followed.
func TestWebhookURLRules(t *testing.T) {
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.Production = true })
	f := a.fixture("prodhooks")
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	for _, url := range []string{"http://93.184.216.34/hook", "https://127.0.0.1/hook", "https://localhost:8443/hook",
		"https://10.1.2.3/hook", "https://169.254.169.254/latest", "https://[::1]/hook", "https://100.64.0.1/hook",
		"https://0.0.0.0/hook", "https://224.0.0.1/hook", "https://[::ffff:127.0.0.1]/hook", "https://192.168.1.1/",
		"https://[fd00::1]/", "ftp://93.184.216.34/", "https://user:pw@93.184.216.34/", "/relative"} {
		var out subscribeOut
		a.ok(app, subscribeMutation, map[string]any{"topic": "INVENTORY_CHANGED", "url": url}, &out)
		if out.WebhookSubscriptionCreate.WebhookSubscription != nil || len(out.WebhookSubscriptionCreate.UserErrors) != 1 ||
			out.WebhookSubscriptionCreate.UserErrors[0].Code != "INVALID" {
			t.Errorf("production took %s: %+v", url, out.WebhookSubscriptionCreate)
		}
	}
	if n := a.count("webhook_subscriptions"); n != 0 {
		t.Fatalf("%d subscriptions stored", n)
	}
	var ok subscribeOut
	a.ok(app, subscribeMutation, map[string]any{"topic": "INVENTORY_CHANGED", "url": "https://93.184.216.34/hook"}, &ok)
	if ok.WebhookSubscriptionCreate.WebhookSubscription == nil {
		t.Fatalf("production refused a public https URL: %+v", ok.WebhookSubscriptionCreate.UserErrors)
	}

	// At delivery: the subscription's host now resolves to loopback (as
	// after DNS rebinding); the production worker refuses to connect.
	tlsRcv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the production worker reached a loopback receiver")
	}))
	defer tlsRcv.Close()
	_, port, _ := net.SplitHostPort(tlsRcv.Listener.Addr().String())
	ctx := context.Background()
	if _, err := a.db.ExecContext(ctx, `UPDATE webhook_subscriptions SET url = $1`, "https://localhost:"+port+"/hook"); err != nil {
		t.Fatal(err)
	}
	a.setStock(f.sellerToken, f.variantIDs[0], 9)
	prod := &webhook.Worker{DB: a.db, Policy: webhook.Policy{Production: true}, Settings: webhook.Settings{RetryBase: time.Hour}}
	if _, err := prod.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	var lastError *string
	if err := a.db.GetContext(ctx, &lastError, `SELECT last_error FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	if lastError == nil || *lastError != webhook.ErrBlockedAddress.Error() {
		t.Errorf("last error = %v, want the blocked address", lastError)
	}

	// Development takes loopback http, and a redirect is not followed.
	dev := newTestAPI(t)
	g := dev.fixture("devhooks")
	devApp, _ := dev.appToken(g.sellerToken, g.shopID, []string{"catalog:read"})
	target := newReceiver(t)
	redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirector.Close()
	dev.subscribe(devApp, redirector.URL, "INVENTORY_CHANGED")
	dev.setStock(g.sellerToken, g.variantIDs[0], 4)
	w := &webhook.Worker{DB: dev.db, Settings: webhook.Settings{RetryBase: time.Hour}}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	var code *int
	if err := dev.db.GetContext(ctx, &code, `SELECT last_response_code FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	if code == nil || *code != http.StatusTemporaryRedirect || len(target.requests()) != 0 {
		t.Errorf("redirect: code %v, %d requests reached its target", code, len(target.requests()))
	}
	if n := dev.pendingDeliveries(); n != 1 {
		t.Errorf("a redirect counted as delivered")
	}
}

// TestWebhookSubscriptionLifecycle: an updated URL takes the pending
// deliveries, a rotated secret signs from then on, a deleted subscription's
// pending deliveries fail, a revoked app hears nothing, and a platform app
// made by an admin hears about every shop.
func TestWebhookSubscriptionLifecycle(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("life")
	app, appID := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	down := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	up := newReceiver(t)
	secret := a.subscribe(app, down.URL, "INVENTORY_CHANGED")
	ctx := context.Background()
	w := &webhook.Worker{DB: a.db, Settings: webhook.Settings{RetryBase: time.Hour}}

	a.setStock(f.sellerToken, f.variantIDs[0], 1)
	if _, err := w.RunOnce(ctx); err != nil || len(down.requests()) != 1 {
		t.Fatalf("first attempt: %v, %d requests", err, len(down.requests()))
	}
	var list struct {
		WebhookSubscriptions struct {
			Edges []struct {
				Node struct{ ID, Topic, CallbackURL string }
			}
		}
	}
	a.ok(app, `{ webhookSubscriptions { edges { node { id topic callbackUrl } } } }`, nil, &list)
	if len(list.WebhookSubscriptions.Edges) != 1 || list.WebhookSubscriptions.Edges[0].Node.CallbackURL != down.URL {
		t.Fatalf("subscriptions = %+v", list)
	}
	subID := list.WebhookSubscriptions.Edges[0].Node.ID
	var upd struct {
		WebhookSubscriptionUpdate struct {
			WebhookSubscription struct{ CallbackURL string }
			UserErrors          []userError
		}
	}
	a.ok(app, `mutation($id: ID!, $url: String!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: {callbackUrl: $url}) {
		webhookSubscription { callbackUrl } userErrors { code } } }`, map[string]any{"id": subID, "url": up.URL}, &upd)
	if upd.WebhookSubscriptionUpdate.WebhookSubscription.CallbackURL != up.URL {
		t.Fatalf("update = %+v", upd)
	}
	var rot struct {
		WebhookSecretRotate struct{ WebhookSecret string }
	}
	a.ok(app, `mutation { webhookSecretRotate { webhookSecret } }`, nil, &rot)
	if rot.WebhookSecretRotate.WebhookSecret == "" || rot.WebhookSecretRotate.WebhookSecret == secret {
		t.Fatalf("rotate = %+v", rot)
	}
	if _, err := a.db.ExecContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = now()`); err != nil {
		t.Fatal(err)
	}
	a.deliverUntil(w, func() bool { return a.pendingDeliveries() == 0 })
	if got := up.requests(); len(got) != 1 || !webhook.Verify(rot.WebhookSecretRotate.WebhookSecret, got[0].Timestamp, got[0].Body, got[0].Signature) {
		t.Fatalf("the new URL got %d requests, or the new secret does not verify them", len(got))
	}

	// A deleted subscription's pending deliveries fail; the log keeps them.
	if _, err := a.db.ExecContext(ctx, `UPDATE webhook_subscriptions SET url = $1`, down.URL); err != nil {
		t.Fatal(err)
	}
	a.setStock(f.sellerToken, f.variantIDs[0], 2)
	var del struct {
		WebhookSubscriptionDelete struct{ DeletedWebhookSubscriptionID *string }
	}
	a.ok(app, `mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId } }`, map[string]any{"id": subID}, &del)
	if del.WebhookSubscriptionDelete.DeletedWebhookSubscriptionID == nil {
		t.Fatalf("delete = %+v", del)
	}
	var failed int
	if err := a.db.GetContext(ctx, &failed, `SELECT count(*) FROM webhook_deliveries WHERE status = 'FAILED' AND subscription_id IS NULL`); err != nil || failed != 1 {
		t.Fatalf("%d failed deliveries of the deleted subscription (%v), want 1", failed, err)
	}

	// A revoked app hears nothing: what was pending fails unsent, and
	// nothing new is written for it.
	a.subscribe(app, up.URL, "PRODUCT_UPDATED")
	a.ok(f.sellerToken, `mutation($id: ID!) { updateProduct(input: {id: $id, title: "Before revocation"}) { product { id } } }`,
		map[string]any{"id": f.productID}, nil)
	a.ok(f.sellerToken, `mutation($id: ID!) { revokeApp(id: $id) { app { id } } }`, map[string]any{"id": appID}, nil)
	sent := len(up.requests())
	a.deliverUntil(w, func() bool { return a.pendingDeliveries() == 0 })
	var lastError string
	if err := a.db.GetContext(ctx, &lastError, `SELECT d.last_error FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
		WHERE e.topic = 'PRODUCT_UPDATED' AND d.status = 'FAILED'`); err != nil || lastError != "the app was revoked" || len(up.requests()) != sent {
		t.Fatalf("the revoked app's pending delivery: %q (%v), %d requests sent", lastError, err, len(up.requests())-sent)
	}
	events := a.count("webhook_events")
	a.ok(f.sellerToken, `mutation($id: ID!) { updateProduct(input: {id: $id, title: "After revocation"}) { product { id } } }`,
		map[string]any{"id": f.productID}, nil)
	if n := a.count("webhook_events"); n != events {
		t.Errorf("a change after the app's revocation wrote %d events", n-events)
	}

	// A platform app hears about every shop.
	adminToken, admin := a.user("hookadmin", false)
	if _, err := a.db.ExecContext(ctx, `UPDATE users SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	platform, _ := a.appToken(adminToken, nil, []string{"catalog:read"})
	everywhere := newReceiver(t)
	a.subscribe(platform, everywhere.URL, "INVENTORY_CHANGED")
	g := a.fixture("life2")
	a.setStock(g.sellerToken, g.variantIDs[0], 3)
	a.setStock(f.sellerToken, f.variantIDs[0], 3)
	a.deliverUntil(a.webhookWorker(), func() bool { return len(everywhere.requests()) == 2 })
}

// TestWebhookWorkerStoppingGivesBackItsLease: a worker stopped mid-attempt
// lets go of the delivery at once, without counting the attempt; only 1 KiB
// of an answer's body is kept.
func TestWebhookWorkerStoppingGivesBackItsLease(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("stopping")
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	arrived := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // then the server notices the client going away
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer hang.Close()
	a.subscribe(app, hang.URL, "INVENTORY_CHANGED")
	a.setStock(f.sellerToken, f.variantIDs[0], 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = a.webhookWorker().RunOnce(ctx)
	}()
	<-arrived
	cancel()
	<-done
	var d struct {
		Attempts int  `db:"attempts"`
		Leased   bool `db:"leased"`
	}
	if err := a.db.GetContext(context.Background(), &d, `SELECT attempts, lease_until IS NOT NULL AS leased FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	if d.Attempts != 0 || d.Leased {
		t.Fatalf("after stopping: %+v, want no attempt counted and no lease", d)
	}

	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, strings.Repeat("é", 5000))
	}))
	defer big.Close()
	if _, err := a.db.ExecContext(context.Background(), `UPDATE webhook_subscriptions SET url = $1`, big.URL); err != nil {
		t.Fatal(err)
	}
	w := &webhook.Worker{DB: a.db, Settings: webhook.Settings{RetryBase: time.Hour}}
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var body string
	if err := a.db.GetContext(context.Background(), &body, `SELECT last_response_body FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	if len(body) == 0 || len(body) > store.MaxStoredResponseBody {
		t.Fatalf("kept %d bytes of the answer, want 1..%d", len(body), store.MaxStoredResponseBody)
	}
}
