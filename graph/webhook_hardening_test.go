package graph_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
	"showcase/webhook"
)

// deliveryIDs returns the app's delivery ids, oldest first.
func (a *testAPI) deliveryIDs(appID int64) []int64 {
	a.t.Helper()
	var ids []int64
	if err := a.db.SelectContext(context.Background(), &ids, `SELECT id FROM webhook_deliveries WHERE app_id = $1 ORDER BY id`, appID); err != nil {
		a.t.Fatal(err)
	}
	return ids
}

// exec runs SQL on the test database or fails the test.
func (a *testAPI) exec(query string, args ...any) {
	a.t.Helper()
	if _, err := a.db.ExecContext(context.Background(), query, args...); err != nil {
		a.t.Fatal(err)
	}
}

// appIDOf is the database id of an app's global ID.
func appIDOf(t *testing.T, gid string) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	_, num, ok := strings.Cut(string(raw), ":")
	var id int64
	if err == nil && ok {
		err = json.Unmarshal([]byte(num), &id)
	}
	if err != nil || !ok {
		t.Fatalf("app id %q: %v", gid, err)
	}
	return id
}

// TestWebhookLogRetention: the sweep deletes deliveries settled longer ago
// than the retention, and events left without deliveries; it never deletes a
// pending delivery (an old one, or one redelivered after it settled), nor a
// recent one, nor their events; two workers sweeping at once agree.
func TestWebhookLogRetention(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("retain")
	app, appGID := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	appID := appIDOf(t, appGID)
	rcv := newReceiver(t)
	a.subscribe(app, rcv.URL, "INVENTORY_CHANGED")
	for i := range 3 {
		a.setStock(f.sellerToken, f.variantIDs[0], i+1)
	}
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	a.setStock(f.sellerToken, f.variantIDs[0], 9) // left pending
	ids := a.deliveryIDs(appID)
	if len(ids) != 4 {
		t.Fatalf("%d deliveries, want 4", len(ids))
	}
	old, redelivered, recent, pending := ids[0], ids[1], ids[2], ids[3]
	// Everything but the third delivery happened 40 days ago; the first two
	// settled 31 days ago.
	a.exec(`UPDATE webhook_events SET created_at = now() - interval '40 days'
		WHERE id IN (SELECT event_id FROM webhook_deliveries WHERE id = ANY($1))`, []int64{old, redelivered, pending})
	a.exec(`UPDATE webhook_deliveries SET created_at = now() - interval '40 days', settled_at = CASE WHEN status = 'PENDING' THEN NULL
		ELSE now() - interval '31 days' END WHERE id = ANY($1)`, []int64{old, redelivered, pending})
	a.exec(`UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE id = $1`, pending)
	var redo struct {
		WebhookDeliveryRedeliver struct{ WebhookDelivery struct{ Status string } }
	}
	a.ok(app, hookRedeliverMutation, map[string]any{"id": deliveryGID(redelivered)}, &redo)
	if redo.WebhookDeliveryRedeliver.WebhookDelivery.Status != "PENDING" {
		t.Fatalf("redeliver = %+v", redo)
	}

	w1 := &webhook.Worker{DB: a.db, Settings: webhook.Settings{Retention: 30 * 24 * time.Hour}}
	w2 := &webhook.Worker{DB: a.db, Settings: webhook.Settings{Retention: 30 * 24 * time.Hour}}
	errs := make(chan error, 2)
	go func() { errs <- w1.Maintain(context.Background()) }()
	go func() { errs <- w2.Maintain(context.Background()) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	left := a.deliveryIDs(appID)
	if len(left) != 3 || left[0] != redelivered || left[1] != recent || left[2] != pending {
		t.Fatalf("deliveries left %v, want %v", left, []int64{redelivered, recent, pending})
	}
	var orphans, events int
	if err := a.db.GetContext(context.Background(), &orphans, `SELECT count(*) FROM webhook_events e
		WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)`); err != nil || orphans != 0 {
		t.Fatalf("%d events without deliveries left (%v)", orphans, err)
	}
	if events = a.count("webhook_events"); events != 3 {
		t.Fatalf("%d events left, want 3", events)
	}
	// The app's log says the same.
	_, listed := a.hookLists(app)
	if len(listed) != 3 {
		t.Errorf("the app lists %d deliveries, want 3", len(listed))
	}
	// A pending delivery is delivered later all the same, however old.
	a.exec(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = $1`, pending)
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	if got := rcv.requests(); len(got) != 5 {
		t.Errorf("the receiver got %d requests, want 5 (3, the redelivery and the old pending one)", len(got))
	}
}

func deliveryGID(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("WebhookDelivery:" + itoa(id)))
}

func itoa(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}

func testKey(c byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(c), 32)))
}

func mustKeys(t *testing.T, spec string) *store.WebhookKeys {
	t.Helper()
	k, err := store.ParseWebhookKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestWebhookSecretSealedAtRest: with WEBHOOK_SECRET_KEYS the database holds
// the secret sealed (never the secret itself), deliveries are signed with
// the secret; adding a new key first reseals every secret under it, after
// which the old key may go; a sealed secret copied onto another app's row
// does not open there, and that app's delivery is retried, not sent
// unsigned nor failed.
func TestWebhookSecretSealedAtRest(t *testing.T) {
	a := newTestAPI(t)
	a.db.WebhookKeys = mustKeys(t, "k1:"+testKey('a'))
	f := a.fixture("sealed")
	app, appGID := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	appID := appIDOf(t, appGID)
	rcv := newReceiver(t)
	secret := a.subscribe(app, rcv.URL, "INVENTORY_CHANGED")
	stored := func(id int64) string {
		var s string
		if err := a.db.GetContext(context.Background(), &s, `SELECT webhook_secret FROM apps WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := stored(appID); !strings.HasPrefix(s, "gcm1:k1:") || strings.Contains(s, secret) {
		t.Fatalf("stored secret %q: not sealed with k1", s)
	}
	a.setStock(f.sellerToken, f.variantIDs[0], 1)
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	if got := rcv.requests(); len(got) != 1 || !webhook.Verify(secret, got[0].Timestamp, got[0].Body, got[0].Signature) {
		t.Fatalf("%d requests, or the signature does not verify with the secret", len(got))
	}

	// A new key, first: the worker's maintenance reseals; then k1 goes.
	a.db.WebhookKeys = mustKeys(t, "k2:"+testKey('b')+",k1:"+testKey('a'))
	if err := a.webhookWorker().Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := stored(appID); !strings.HasPrefix(s, "gcm1:k2:") {
		t.Fatalf("after adding k2 the secret is stored as %q", s)
	}
	a.db.WebhookKeys = mustKeys(t, "k2:"+testKey('b'))
	a.setStock(f.sellerToken, f.variantIDs[0], 2)
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	if got := rcv.requests(); len(got) != 2 || !webhook.Verify(secret, got[1].Timestamp, got[1].Body, got[1].Signature) {
		t.Fatalf("after the key rotation: %d requests, or the signature does not verify", len(got))
	}

	// Another app's row with this app's sealed secret: it does not open.
	other, otherGID := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	otherID := appIDOf(t, otherGID)
	otherRcv := newReceiver(t)
	a.subscribe(other, otherRcv.URL, "PRODUCT_UPDATED")
	a.exec(`UPDATE apps SET webhook_secret = (SELECT webhook_secret FROM apps WHERE id = $1) WHERE id = $2`, appID, otherID)
	a.ok(f.sellerToken, `mutation($id: ID!) { updateProduct(input: {id: $id, title: "Swapped"}) { product { id } } }`,
		map[string]any{"id": f.productID}, nil)
	if _, err := a.webhookWorker().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Status    string  `db:"status"`
		LastError *string `db:"last_error"`
	}
	if err := a.db.GetContext(context.Background(), &d, `SELECT status, last_error FROM webhook_deliveries WHERE app_id = $1`, otherID); err != nil {
		t.Fatal(err)
	}
	if d.Status != "PENDING" || d.LastError == nil || !strings.Contains(*d.LastError, "could not sign") || len(otherRcv.requests()) != 0 {
		t.Fatalf("the swapped secret's delivery: %+v, %d requests", d, len(otherRcv.requests()))
	}
}

// TestWebhookSecretRotationOverlap: after webhookSecretRotate the replaced
// secret keeps signing (a second signature) until previousSecretExpiresAt,
// not after; 0 stops it at once; an overlap out of range is a userErrors
// entry and changes nothing.
func TestWebhookSecretRotationOverlap(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("overlap")
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	rcv := newReceiver(t)
	first := a.subscribe(app, rcv.URL, "INVENTORY_CHANGED")
	type rotateOut struct {
		WebhookSecretRotate struct {
			WebhookSecret           *string
			PreviousSecretExpiresAt *time.Time
			UserErrors              []userError
		}
	}
	rotate := func(vars map[string]any) rotateOut {
		var out rotateOut
		a.ok(app, `mutation($in: Int! = 86400) { webhookSecretRotate(previousSecretExpiresIn: $in) {
			webhookSecret previousSecretExpiresAt userErrors { field code message } } }`, vars, &out)
		return out
	}
	stock := 0
	deliver := func() received {
		t.Helper()
		stock++
		a.setStock(f.sellerToken, f.variantIDs[0], stock)
		a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
		got := rcv.requests()
		if len(got) != stock {
			t.Fatalf("%d requests, want %d", len(got), stock)
		}
		return got[len(got)-1]
	}

	// The default: a day of overlap, two signatures, the new one first.
	out := rotate(nil)
	second := *out.WebhookSecretRotate.WebhookSecret
	if until := out.WebhookSecretRotate.PreviousSecretExpiresAt; until == nil || until.Before(time.Now().Add(23*time.Hour)) {
		t.Fatalf("previousSecretExpiresAt = %v, want a day from now", until)
	}
	r := deliver()
	sigs := strings.Split(r.Signature, ", ")
	if len(sigs) != 2 || sigs[0] != webhook.Sign(second, r.Timestamp, r.Body) || sigs[1] != webhook.Sign(first, r.Timestamp, r.Body) ||
		!webhook.Verify(first, r.Timestamp, r.Body, r.Signature) || !webhook.Verify(second, r.Timestamp, r.Body, r.Signature) {
		t.Fatalf("during the overlap the signature header is %q", r.Signature)
	}
	// When the overlap ends, only the new secret signs.
	a.exec(`UPDATE apps SET webhook_secret_previous_until = now() - interval '1 second'`)
	if r := deliver(); r.Signature != webhook.Sign(second, r.Timestamp, r.Body) || webhook.Verify(first, r.Timestamp, r.Body, r.Signature) {
		t.Fatalf("after the overlap the signature header is %q", r.Signature)
	}

	// 0: the replaced secret stops at once.
	out = rotate(map[string]any{"in": 0})
	third := *out.WebhookSecretRotate.WebhookSecret
	if out.WebhookSecretRotate.PreviousSecretExpiresAt != nil {
		t.Fatalf("rotate(0) = %+v", out)
	}
	if r := deliver(); !webhook.Verify(third, r.Timestamp, r.Body, r.Signature) || webhook.Verify(second, r.Timestamp, r.Body, r.Signature) {
		t.Fatalf("after rotating with 0 the signature header is %q", r.Signature)
	}

	// Out of range: a userErrors entry, the secret unchanged.
	for _, bad := range []int{-1, 7*24*3600 + 1} {
		out = rotate(map[string]any{"in": bad})
		if out.WebhookSecretRotate.WebhookSecret != nil || len(out.WebhookSecretRotate.UserErrors) != 1 ||
			out.WebhookSecretRotate.UserErrors[0].Code != "INVALID" || strings.Join(out.WebhookSecretRotate.UserErrors[0].Field, ".") != "previousSecretExpiresIn" {
			t.Fatalf("rotate(%d) = %+v", bad, out)
		}
	}
	if r := deliver(); r.Signature != webhook.Sign(third, r.Timestamp, r.Body) {
		t.Fatalf("a refused rotation changed the signature: %q", r.Signature)
	}
}

// TestWebhookObjectsAreNodes: a webhook subscription or delivery is a node
// to a token of its own app whose scopes allow its topic, through node and
// nodes as through the lists; to a narrowed token for other topics, another
// app of the same shop, the shop's owner, an admin and anonymous callers it
// is null.
func TestWebhookObjectsAreNodes(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("hooknodes")
	buyer, _ := a.user("hooknodebuyer", false)
	full, catalogOnly := a.narrowedAppTokens(f.sellerToken, f.shopID, []string{"orders:read", "catalog:read"}, "catalog:read")
	rcv := newReceiver(t)
	a.subscribe(full, rcv.URL, "ORDER_PAID", "INVENTORY_CHANGED")
	a.buy(buyer, "hooknode-1", f.variantIDs[0], 1)
	a.setStock(f.sellerToken, f.variantIDs[1], 5)
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	subs, deliveries := a.hookLists(full)
	ids := []string{keyOf(subs, "ORDER_PAID"), keyOf(subs, "INVENTORY_CHANGED"), keyOf(deliveries, "ORDER_PAID"), keyOf(deliveries, "INVENTORY_CHANGED")}
	for _, id := range ids {
		if id == "" {
			t.Fatalf("lists %v %v", subs, deliveries)
		}
	}
	other, _ := a.appToken(f.sellerToken, f.shopID, []string{"orders:read", "catalog:read"})
	adminToken, admin := a.user("hooknodeadmin", false)
	a.exec(`UPDATE users SET is_admin = true WHERE id = $1`, admin.ID)

	const nodesQuery = `query($ids: [ID!]!, $one: ID!) {
		nodes(ids: $ids) { __typename id ... on WebhookSubscription { topic callbackUrl }
			... on WebhookDelivery { topic status subscription { id topic } } }
		node(id: $one) { id } }`
	type nodeOut struct {
		Nodes []*struct {
			Typename     string `json:"__typename"`
			ID, Topic    string
			Subscription *struct{ ID, Topic string }
		}
		Node *struct{ ID string }
	}
	visible := func(token string) (seen []bool, node bool) {
		t.Helper()
		var out nodeOut
		resp := a.post(token, nodesQuery, map[string]any{"ids": ids, "one": ids[3]})
		if len(resp.Errors) > 0 {
			t.Fatalf("nodes: %+v", resp.Errors)
		}
		if err := json.Unmarshal(resp.Data, &out); err != nil {
			t.Fatal(err)
		}
		for i, n := range out.Nodes {
			seen = append(seen, n != nil)
			if n != nil && (n.ID != ids[i] || n.Topic != []string{"ORDER_PAID", "INVENTORY_CHANGED"}[i%2]) {
				t.Errorf("node %d = %+v", i, n)
			}
			if n != nil && n.Typename == "WebhookDelivery" && (n.Subscription == nil || n.Subscription.ID != ids[i-2]) {
				t.Errorf("delivery %d's subscription = %+v", i, n.Subscription)
			}
		}
		return seen, out.Node != nil && out.Node.ID == ids[3]
	}
	for _, c := range []struct {
		name  string
		token string
		want  []bool
	}{
		{"the app's full token", full, []bool{true, true, true, true}},
		{"the token narrowed to catalog:read", catalogOnly, []bool{false, true, false, true}},
		{"another app of the shop", other, []bool{false, false, false, false}},
		{"the shop's owner", f.sellerToken, []bool{false, false, false, false}},
		{"an admin", adminToken, []bool{false, false, false, false}},
		{"anonymous", "", []bool{false, false, false, false}},
	} {
		seen, node := visible(c.token)
		if len(seen) != 4 || seen[0] != c.want[0] || seen[1] != c.want[1] || seen[2] != c.want[2] || seen[3] != c.want[3] || node != c.want[3] {
			t.Errorf("%s sees %v (node %v), want %v", c.name, seen, node, c.want)
		}
	}

	// Batch-loaded: one subscription or delivery costs the statements two do,
	// through nodes as through the delivery log.
	a.serveWith(0, countingStatements)
	const nodesOnly = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on WebhookSubscription { topic }
		... on WebhookDelivery { topic subscription { id } } } }`
	for _, pair := range [][2][]string{{ids[:1], ids[:2]}, {ids[2:3], ids[2:4]}} {
		a.ok(full, nodesOnly, map[string]any{"ids": pair[0]}, nil)
		one := a.statements.Load()
		a.ok(full, nodesOnly, map[string]any{"ids": pair[1]}, nil)
		if two := a.statements.Load(); two != one {
			t.Errorf("nodes of %d → %d statements, of %d → %d", len(pair[0]), one, len(pair[1]), two)
		}
	}
	const logOnly = `query($n: Int!) { webhookDeliveries(first: $n) { edges { node { id topic subscription { id callbackUrl } } } } }`
	a.ok(full, logOnly, map[string]any{"n": 1}, nil)
	one := a.statements.Load()
	a.ok(full, logOnly, map[string]any{"n": 2}, nil)
	if two := a.statements.Load(); two != one {
		t.Errorf("webhookDeliveries(first: 1) → %d statements, (first: 2) → %d", one, two)
	}
}

// backgroundProvider charges through the test provider but loses the
// answer of every charge (the outcome is unknown to the checkout), loses
// tok_vanish charges before they reach the provider (nothing charged), and
// fails the first refund.
type backgroundProvider struct {
	*payment.TestProvider
	refundsFailed atomic.Int32
}

func (p *backgroundProvider) Charge(ctx context.Context, c payment.Charge) (string, error) {
	if c.Token == "tok_vanish" {
		return "", errors.New("dial tcp: connection reset by peer")
	}
	if _, err := p.TestProvider.Charge(ctx, c); err != nil {
		return "", err
	}
	return "", errors.New("read tcp: connection reset by peer")
}

func (p *backgroundProvider) Refund(ctx context.Context, ref string, amount int64, key string) error {
	if p.refundsFailed.Add(1) == 1 {
		return errors.New("provider unavailable")
	}
	return p.TestProvider.Refund(ctx, ref, amount, key)
}

// TestWebhookEventsOnBackgroundPaths: the changes made outside a request
// write their events as the requests' do: the payment reconciler completing
// a charged checkout writes ORDER_PAID, the reconciler sending a refund the
// cancellation could not writes ORDER_REFUNDED, each once however often the
// reconciler runs; a checkout released unpaid (its pending orders deleted,
// its stock back) writes none, since no paid order was ever announced.
func TestWebhookEventsOnBackgroundPaths(t *testing.T) {
	var p *backgroundProvider
	a := newTestAPIWith(t, func(r *graph.Resolver) {
		p = &backgroundProvider{TestProvider: payment.NewTestProvider(r.DB.DB.DB)}
		r.Payments = p
		r.DB.PaymentSettings.SettleAfter = time.Millisecond
	})
	f := a.fixture("background")
	buyer, _ := a.user("bgbuyer", false)
	app, _ := a.appToken(f.sellerToken, f.shopID, []string{"orders:read", "catalog:read"})
	rcv := newReceiver(t)
	secret := a.subscribe(app, rcv.URL, "ORDER_PAID", "ORDER_CANCELLED", "ORDER_REFUNDED", "INVENTORY_CHANGED")
	events := func() map[string]int {
		t.Helper()
		var rows []struct {
			Topic string `db:"topic"`
			N     int    `db:"n"`
		}
		if err := a.db.SelectContext(context.Background(), &rows, `SELECT topic, count(*) AS n FROM webhook_events GROUP BY topic`); err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, r := range rows {
			m[r.Topic] = r.N
		}
		return m
	}
	same := func(got, want map[string]int) bool {
		if len(got) != len(want) {
			return false
		}
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	}

	var out checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("bg-1", "tok_ok", line(f.variantIDs[0], 1)), &out)
	if len(out.Checkout.UserErrors) != 1 || out.Checkout.UserErrors[0].Code != "PAYMENT_PENDING" {
		t.Fatalf("checkout = %+v", out)
	}
	a.ok(buyer, checkoutMutation, checkoutInput("bg-2", "tok_vanish", line(f.variantIDs[1], 1)), &out)
	if len(out.Checkout.UserErrors) != 1 {
		t.Fatalf("vanished checkout = %+v", out)
	}
	if got := events(); len(got) != 0 {
		t.Fatalf("events before the reconciler: %v", got)
	}
	// The vanished charge's checkout is released by the checkout itself or
	// by the reconciler; the lost answer's is completed by the reconciler.
	completed := 0
	a.reconcileUntil(p, func(n store.Reconciled) bool { completed += n.Completed; return completed == 1 })
	a.reconcileUntil(p, func(store.Reconciled) bool { return true })
	var pending int
	if err := a.db.GetContext(context.Background(), &pending, `SELECT count(*) FROM payments WHERE status = 'PENDING'`); err != nil || completed != 1 || pending != 0 {
		t.Fatalf("the reconciler completed %d checkouts, %d payments pending (%v)", completed, pending, err)
	}
	if got := events(); !same(got, map[string]int{"ORDER_PAID": 1}) {
		t.Fatalf("after the reconciler completed one checkout and released another: %v, want one ORDER_PAID", got)
	}
	var orders struct {
		Viewer struct {
			Orders struct {
				Edges []struct{ Node struct{ ID, Status string } }
			}
		}
	}
	a.ok(buyer, `{ viewer { orders(first: 5) { edges { node { id status } } } } }`, nil, &orders)
	if e := orders.Viewer.Orders.Edges; len(e) != 1 || e[0].Node.Status != "PAID" {
		t.Fatalf("orders = %+v", orders)
	}
	a.ok(buyer, cancelMutation, map[string]any{"id": orders.Viewer.Orders.Edges[0].Node.ID}, nil)
	if got := events(); !same(got, map[string]int{"ORDER_PAID": 1, "ORDER_CANCELLED": 1}) {
		t.Fatalf("after a cancel whose refund failed: %v", got)
	}
	a.reconcileUntil(p, func(n store.Reconciled) bool { return n.Refunded == 1 })
	a.reconcileUntil(p, func(store.Reconciled) bool { return true })
	if got := events(); !same(got, map[string]int{"ORDER_PAID": 1, "ORDER_CANCELLED": 1, "ORDER_REFUNDED": 1}) {
		t.Fatalf("after the reconciler refunded: %v", got)
	}
	a.deliverUntil(a.webhookWorker(), func() bool { return a.pendingDeliveries() == 0 })
	got := rcv.requests()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3", len(got))
	}
	for _, r := range got {
		if !webhook.Verify(secret, r.Timestamp, r.Body, r.Signature) {
			t.Errorf("%s: the signature does not verify", r.Topic)
		}
	}
}

// TestNodesAreBatchLoaded: nodes(ids:) loads its IDs together, so two
// objects of a kind cost the statements one does (it used to load them one
// after another: a round of statements, and a batch wait, per ID).
func TestNodesAreBatchLoaded(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	f := a.fixture("batchnodes")
	if len(f.variantIDs) < 2 {
		t.Fatal("the fixture has fewer than 2 variants")
	}
	const q = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on ProductVariant { sku product { title } } } }`
	var out struct{ Nodes []*struct{ ID string } }
	a.ok("", q, map[string]any{"ids": f.variantIDs[:1]}, &out)
	one := a.statements.Load()
	a.ok("", q, map[string]any{"ids": f.variantIDs[:2]}, &out)
	if two := a.statements.Load(); two != one || len(out.Nodes) != 2 || out.Nodes[1] == nil || out.Nodes[1].ID != f.variantIDs[1] {
		t.Fatalf("nodes of 1 variant → %d statements, of 2 → %d (%+v)", one, two, out.Nodes)
	}
}
