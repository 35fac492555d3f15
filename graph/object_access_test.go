package graph_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"showcase/store"
)

// accessWorld is one shop with everything that hangs off it, the people and
// apps around it, and the IDs of one object of each type reachable through
// node.
type accessWorld struct {
	a *testAPI
	// callers by name: "" token means anonymous.
	tokens map[string]string
	// object IDs by name.
	ids map[string]string
	// shop handles, for shop(handle:).
	shopHandle, otherShopHandle string
	own, other                  fixture
	ownerID                     int64
}

// callerNames lists the callers of the visibility table, in the order printed.
var callerNames = []string{"anonymous", "buyer", "otherBuyer", "owner", "otherSeller", "creator", "admin",
	"appCatalogRead", "appContentRead", "appOrdersRead", "appMetricsRead", "appWriteOnly", "otherShopApp", "platformApp"}

func (a *testAPI) makeAdmin(handle string) string {
	a.t.Helper()
	token, u := a.user(handle, false)
	if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET is_admin = true WHERE id = $1`, u.ID); err != nil {
		a.t.Fatal(err)
	}
	return token
}

func newAccessWorld(a *testAPI) *accessWorld {
	a.t.Helper()
	w := &accessWorld{a: a, tokens: map[string]string{"anonymous": ""}, ids: map[string]string{}}
	w.own = a.fixture("own")
	w.other = a.fixture("other")
	w.shopHandle, w.otherShopHandle = "own-shop", "other-shop"
	var me struct{ Viewer struct{ ID string } }
	a.ok(w.own.sellerToken, `{ viewer { id } }`, nil, &me)
	w.ownerID = mustID(a.t, me.Viewer.ID)
	w.tokens["owner"], w.tokens["otherSeller"] = w.own.sellerToken, w.other.sellerToken
	w.tokens["buyer"], _ = a.user("buyer", false)
	w.tokens["otherBuyer"], _ = a.user("otherbuyer", false)
	w.tokens["creator"], _ = a.user("creator", true)
	w.tokens["admin"] = a.makeAdmin("admin")

	w.ids["Shop"], w.ids["Product"], w.ids["ProductVariant"] = w.own.shopID, w.own.productID, w.own.variantIDs[0]
	draft := a.product(w.own.sellerToken, w.own.shopID, "secret", map[string]any{"status": "DRAFT"})
	w.ids["draft Product"], w.ids["draft ProductVariant"] = draft.ID, draft.Variants.Edges[0].Node.ID

	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(w.tokens["creator"], publishVideoMutation, videoInput(w.own.productID), &pv)
	w.ids["Video"] = pv.PublishVideo.Video.ID
	var ls struct {
		ScheduleLiveSession struct{ LiveSession struct{ ID string } }
	}
	a.ok(w.tokens["creator"], scheduleLiveMutation, liveInput(w.own.productID), &ls)
	w.ids["LiveSession"] = ls.ScheduleLiveSession.LiveSession.ID
	var c struct {
		CommentOnContent struct{ Comment struct{ ID string } }
	}
	a.ok(w.tokens["buyer"], `mutation($id: ID!) { commentOnContent(contentId: $id, body: "Nice") { comment { id } } }`,
		map[string]any{"id": w.ids["Video"]}, &c)
	w.ids["Comment"] = c.CommentOnContent.Comment.ID
	// A campaign whose handle is the shop's, so the root field's $handle finds it.
	campaign, err := a.db.CreateCampaign(context.Background(), store.NewCampaign{Handle: w.shopHandle, Name: "Access",
		StartsAt: time.Now().Add(time.Hour), EndsAt: time.Now().Add(2 * time.Hour), MinPercentOff: 10, MaxPercentOff: 50})
	if err != nil {
		a.t.Fatal(err)
	}
	w.ids["Campaign"] = globalIDOf("Campaign", campaign.ID)

	// A discount code of the shop (Shop.discountCodes is its root path).
	w.ids["DiscountCode"] = a.discountCode(w.own.sellerToken, w.own.shopID, "ACCESS10")

	w.ids["Order"] = a.buy(w.tokens["buyer"], "access-order", w.own.variantIDs[0], 1)
	var cart struct {
		CartLinesAdd struct {
			Cart struct {
				ID    string
				Lines []struct{ ID string }
			}
		}
	}
	a.ok(w.tokens["buyer"], `mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { cart { id lines { id } } } }`,
		map[string]any{"l": []any{line(w.own.variantIDs[0], 1)}}, &cart)
	w.ids["Cart"], w.ids["CartLine"] = cart.CartLinesAdd.Cart.ID, cart.CartLinesAdd.Cart.Lines[0].ID
	var addr struct {
		CustomerAddressCreate struct{ CustomerAddress struct{ ID string } }
	}
	a.ok(w.tokens["buyer"], `mutation($a: AddressInput!) { customerAddressCreate(address: $a) { customerAddress { id } } }`,
		map[string]any{"a": testAddress("US")}, &addr)
	w.ids["MailingAddress"] = addr.CustomerAddressCreate.CustomerAddress.ID
	var buyer struct{ Viewer struct{ ID string } }
	a.ok(w.tokens["buyer"], `{ viewer { id } }`, nil, &buyer)
	w.ids["User"] = buyer.Viewer.ID

	var appID string
	w.tokens["appCatalogRead"], appID = a.appToken(w.own.sellerToken, w.own.shopID, []string{"catalog:read"})
	w.ids["App"] = appID
	w.tokens["appContentRead"], _ = a.appToken(w.own.sellerToken, w.own.shopID, []string{"content:read"})
	w.tokens["appOrdersRead"], _ = a.appToken(w.own.sellerToken, w.own.shopID, []string{"orders:read"})
	w.tokens["appMetricsRead"], _ = a.appToken(w.own.sellerToken, w.own.shopID, []string{"metrics:read"})
	w.tokens["appWriteOnly"], _ = a.appToken(w.own.sellerToken, w.own.shopID, []string{"catalog:write", "content:write", "orders:write"})
	w.tokens["otherShopApp"], _ = a.appToken(w.other.sellerToken, w.other.shopID, store.AllScopes)
	w.tokens["platformApp"], _ = a.appToken(w.tokens["admin"], nil, store.AllScopes)

	// A guest's cart and its line (opened by the key inside their IDs), the
	// same cart's ID with another key, and another guest cart's order and
	// its buyer (the guest).
	guestCart := func() (cartID, lineID string) {
		var gc struct {
			CartCreate struct {
				Cart struct {
					ID    string
					Lines []struct{ ID string }
				}
			}
		}
		a.ok("", `mutation($l: [CartLineInput!]) { cartCreate(lines: $l) { cart { id lines { id } } } }`,
			map[string]any{"l": []any{line(w.own.variantIDs[0], 1)}}, &gc)
		return gc.CartCreate.Cart.ID, gc.CartCreate.Cart.Lines[0].ID
	}
	w.ids["guest Cart"], w.ids["guest CartLine"] = guestCart()
	raw, _ := base64.RawURLEncoding.DecodeString(w.ids["guest Cart"])
	plain, _, _ := strings.Cut(string(raw), "?key=")
	w.ids["guest Cart, wrong key"] = base64.RawURLEncoding.EncodeToString([]byte(plain + "?key=" + store.NewSecret()))
	bought, _ := guestCart()
	var gco struct {
		Checkout struct {
			Orders []struct {
				ID    string
				Buyer *struct{ ID string }
			}
		}
	}
	in := checkoutInput("guest-access", "tok_ok")
	delete(in["in"].(map[string]any), "lines")
	in["in"].(map[string]any)["cartId"], in["in"].(map[string]any)["email"] = bought, "guest@example.com"
	a.ok("", `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { id buyer { id } } } }`, in, &gco)
	// The guest's own reply shows no buyer (Order.buyer); its user's ID is
	// the order's buyer_id.
	var guestID int64
	if err := a.db.Get(&guestID, `SELECT buyer_id FROM orders ORDER BY id DESC LIMIT 1`); err != nil || gco.Checkout.Orders[0].Buyer != nil {
		a.t.Fatalf("guest buyer %v, reply buyer %+v", err, gco.Checkout.Orders[0].Buyer)
	}
	w.ids["guest Order"], w.ids["guest User"] = gco.Checkout.Orders[0].ID, gid("User", guestID)
	return w
}

func liveInput(productIDs ...string) map[string]any {
	return map[string]any{"in": map[string]any{
		"title": "Glow live", "scheduledStartAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"tags": []string{"skincare"}, "productIds": productIDs,
	}}
}

// sees reports whether the caller gets the object through the query, whose
// data has one field: a visible object is non-null (a list's first item for
// nodes); null or an error (FORBIDDEN for a missing scope) is not visible.
func (w *accessWorld) sees(caller, query string, vars map[string]any) bool {
	w.a.t.Helper()
	resp := w.a.post(w.tokens[caller], query, vars)
	var data map[string]json.RawMessage
	_ = json.Unmarshal(resp.Data, &data)
	for _, v := range data {
		s := strings.TrimSpace(string(v))
		if strings.HasPrefix(s, "[") {
			var list []json.RawMessage
			_ = json.Unmarshal(v, &list)
			return len(list) == 1 && string(list[0]) != "null"
		}
		return s != "" && s != "null"
	}
	return false
}

// TestNodeVisibilityTable lists, for each object type reachable through node,
// which callers get it, through node, nodes and the type's own root field.
func TestNodeVisibilityTable(t *testing.T) {
	a := newTestAPI(t)
	w := newAccessWorld(a)
	everyone := []string{"anonymous", "buyer", "otherBuyer", "owner", "otherSeller", "creator", "admin"}
	with := func(base []string, more ...string) []string { return append(append([]string{}, base...), more...) }
	rows := []struct {
		object string
		// root is the type's own root field, with $id (or $handle) as its argument; "" when there is none.
		root    string
		visible []string
	}{
		{"Shop", `query($handle: String!) { shop(handle: $handle) { id } }`, with(everyone, "appCatalogRead", "appMetricsRead", "otherShopApp", "platformApp")},
		{"Product", `query($id: ID!) { product(id: $id) { id } }`, with(everyone, "appCatalogRead", "appMetricsRead", "otherShopApp", "platformApp")},
		{"draft Product", `query($id: ID!) { product(id: $id) { id } }`, []string{"owner", "admin", "appCatalogRead", "platformApp"}},
		{"ProductVariant", "", with(everyone, "appCatalogRead", "otherShopApp", "platformApp")},
		{"draft ProductVariant", "", []string{"owner", "admin", "appCatalogRead", "platformApp"}},
		{"Video", `query($id: ID!) { video(id: $id) { id } }`, with(everyone, "appContentRead", "appMetricsRead", "otherShopApp", "platformApp")},
		{"LiveSession", `query($id: ID!) { liveSession(id: $id) { id } }`, with(everyone, "appContentRead", "appMetricsRead", "otherShopApp", "platformApp")},
		{"Comment", "", with(everyone, "appContentRead", "otherShopApp", "platformApp")},
		{"Campaign", `query($handle: String!) { campaign(handle: $handle) { id } }`, with(everyone, "appCatalogRead", "appMetricsRead", "otherShopApp", "platformApp")},
		// Shop.discountCodes is its root path (TestDiscountCodeNodeAgreesWithShopDiscountCodes).
		{"DiscountCode", "", []string{"owner", "admin", "appCatalogRead", "platformApp"}},
		{"Order", `query($id: ID!) { order(id: $id) { id } }`, []string{"buyer", "owner", "admin", "appOrdersRead", "platformApp"}},
		{"Cart", `query($id: ID!) { cart(id: $id) { id } }`, []string{"buyer"}},
		{"CartLine", "", []string{"buyer"}},
		{"MailingAddress", "", []string{"buyer"}},
		{"User", "", with(everyone, "appCatalogRead", "appContentRead", "appOrdersRead", "appMetricsRead", "otherShopApp", "platformApp")},
		{"App", "", []string{"owner", "admin"}},
		{"guest Cart", `query($id: ID!) { cart(id: $id) { id } }`, everyone},
		{"guest CartLine", "", everyone},
		{"guest Cart, wrong key", `query($id: ID!) { cart(id: $id) { id } }`, nil},
		{"guest Order", `query($id: ID!) { order(id: $id) { id } }`, []string{"owner", "admin", "appOrdersRead", "platformApp"}},
		{"guest User", "", nil},
	}
	for _, row := range rows {
		t.Run(strings.ReplaceAll(row.object, " ", "_"), func(t *testing.T) {
			want := map[string]bool{}
			for _, c := range row.visible {
				want[c] = true
			}
			id := w.ids[row.object]
			var wrong []string
			for _, caller := range callerNames {
				paths := map[string]bool{
					"node":  w.sees(caller, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}),
					"nodes": w.sees(caller, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{id}}),
				}
				if row.root != "" {
					paths["root"] = w.sees(caller, row.root, map[string]any{"id": id, "handle": w.shopHandle})
				}
				for path, got := range paths {
					if got != want[caller] {
						wrong = append(wrong, caller+" through "+path+": got "+visibleWord(got)+", want "+visibleWord(want[caller]))
					}
				}
			}
			sort.Strings(wrong)
			for _, msg := range wrong {
				t.Error(msg)
			}
		})
	}
}

func visibleWord(v bool) string {
	if v {
		return "visible"
	}
	return "null"
}

// orderStatus reads an order's status from the database.
func (a *testAPI) orderStatus(orderGID string) string {
	a.t.Helper()
	var status string
	if err := a.db.GetContext(context.Background(), &status, `SELECT status FROM orders WHERE id = $1`, mustID(a.t, orderGID)); err != nil {
		a.t.Fatal(err)
	}
	return status
}

// liveStatus reads a live session's status from the database.
func (a *testAPI) liveStatus(sessionGID string) string {
	a.t.Helper()
	var status string
	if err := a.db.GetContext(context.Background(), &status, `SELECT live_status FROM contents WHERE id = $1`, mustID(a.t, sessionGID)); err != nil {
		a.t.Fatal(err)
	}
	return status
}

// The failures of issue 15, item 1: apps read and act outside their grant.
func TestAppsActOnlyWithinTheirShopAndScopes(t *testing.T) {
	a := newTestAPI(t)
	shopA := a.fixture("alpha")
	shopB := a.fixture("beta")
	// The owner of shop A is also a creator, and a buyer at shop B.
	var me struct{ Viewer struct{ ID string } }
	a.ok(shopA.sellerToken, `{ viewer { id } }`, nil, &me)
	if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET is_creator = true WHERE id = $1`, mustID(t, me.Viewer.ID)); err != nil {
		t.Fatal(err)
	}
	buyer, _ := a.user("customer", false)
	shopOrder := a.buy(buyer, "shop-a-order", shopA.variantIDs[0], 1)
	personalOrder := a.buy(shopA.sellerToken, "personal", shopB.variantIDs[0], 1)
	a.ok(shopA.sellerToken, `mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { cart { id } } }`,
		map[string]any{"l": []any{line(shopB.variantIDs[0], 1)}}, nil)
	cartID := globalIDOf("Cart", mustID(t, me.Viewer.ID))
	// A live session the owner hosts, as an affiliate, for shop B.
	var ls struct {
		ScheduleLiveSession struct{ LiveSession struct{ ID string } }
	}
	a.ok(shopA.sellerToken, scheduleLiveMutation, liveInput(shopB.productID), &ls)
	sessionB := ls.ScheduleLiveSession.LiveSession.ID
	a.ok(shopA.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { liveSession { status } } }`, map[string]any{"id": sessionB}, nil)

	catalogApp, _ := a.appToken(shopA.sellerToken, shopA.shopID, []string{"catalog:read"})
	ordersApp, _ := a.appToken(shopA.sellerToken, shopA.shopID, []string{"orders:read", "orders:write", "content:read", "content:write", "metrics:read"})

	t.Run("CatalogAppReadsNoOrders", func(t *testing.T) {
		if resp := a.post(catalogApp, `query($id: ID!) { order(id: $id) { number } }`, map[string]any{"id": shopOrder}); resp.code() != "FORBIDDEN" {
			t.Fatalf("order(id:) = %s %+v", resp.Data, resp.Errors)
		}
		q := `query($id: ID!) { node(id: $id) { ... on Order { number total { amount } buyer { handle } shippingAddress { line1 } } } }`
		if w := (&accessWorld{a: a, tokens: map[string]string{"app": catalogApp}}); w.sees("app", q, map[string]any{"id": shopOrder}) {
			t.Fatal("node(id:) shows the order to a catalog:read app")
		}
		var nodes struct{ Nodes []*struct{ Number string } }
		a.ok(catalogApp, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { number } } }`, map[string]any{"ids": []string{shopOrder}}, &nodes)
		if len(nodes.Nodes) != 1 || nodes.Nodes[0] != nil {
			t.Fatalf("nodes(ids:) = %+v", nodes.Nodes)
		}
		var shop struct {
			Shop struct{ Orders *struct{ Edges []any } }
		}
		resp := a.post(catalogApp, `query($h: String!) { shop(handle: $h) { orders { edges { cursor } } } }`, map[string]any{"h": "alpha-shop"})
		_ = json.Unmarshal(resp.Data, &shop)
		if shop.Shop.Orders != nil {
			t.Fatalf("Shop.orders = %+v", shop.Shop.Orders)
		}
	})
	t.Run("OrdersAppSeesItsShopsOrders", func(t *testing.T) {
		var out struct{ Order *struct{ Number string } }
		a.ok(ordersApp, `query($id: ID!) { order(id: $id) { number } }`, map[string]any{"id": shopOrder}, &out)
		if out.Order == nil {
			t.Fatal("an orders:read app cannot read its own shop's order")
		}
	})
	t.Run("OrdersAppReadsNotItsOwnersPurchases", func(t *testing.T) {
		for _, q := range []string{`query($id: ID!) { order(id: $id) { number } }`, `query($id: ID!) { node(id: $id) { id } }`} {
			var out map[string]any
			a.ok(ordersApp, q, map[string]any{"id": personalOrder}, &out)
			for k, v := range out {
				if v != nil {
					t.Fatalf("%s = %v", k, v)
				}
			}
		}
	})
	t.Run("OrdersAppCancelsNotItsOwnersPurchase", func(t *testing.T) {
		if _, resp := a.change(ordersApp, cancelMutation, map[string]any{"id": personalOrder}); resp.code() != "NOT_FOUND" {
			t.Fatalf("cancelOrder = %s %+v", resp.Data, resp.Errors)
		}
		if _, resp := a.change(ordersApp, fulfillMutation, map[string]any{"id": personalOrder}); resp.code() != "NOT_FOUND" {
			t.Fatalf("fulfillOrder = %s %+v", resp.Data, resp.Errors)
		}
		if s := a.orderStatus(personalOrder); s != "PAID" {
			t.Fatalf("the owner's personal order is %s", s)
		}
	})
	t.Run("WriteOnlyAppChangesButDoesNotReadItsShopsOrder", func(t *testing.T) {
		writer, _ := a.appToken(shopA.sellerToken, shopA.shopID, []string{"orders:write"})
		o, resp := a.change(writer, fulfillMutation, map[string]any{"id": shopOrder})
		if len(resp.Errors) > 0 || o.Order != nil || len(o.UserErrors) > 0 {
			t.Fatalf("fulfillOrder by an orders:write app = %s %+v", resp.Data, resp.Errors)
		}
		if s := a.orderStatus(shopOrder); s != "FULFILLED" {
			t.Fatalf("the order is %s", s)
		}
	})
	t.Run("OrdersAppReadsNotItsOwnersCart", func(t *testing.T) {
		for _, q := range []string{`query($id: ID!) { node(id: $id) { ... on Cart { lines { quantity } } } }`,
			`query($id: ID!) { nodes(ids: [$id]) { ... on Cart { lines { quantity } } } }`} {
			resp := a.post(ordersApp, q, map[string]any{"id": cartID})
			if strings.Contains(string(resp.Data), "quantity") {
				t.Fatalf("%s: %s", q, resp.Data)
			}
		}
		if resp := a.post(ordersApp, `{ viewer { cart { lines { quantity } } } }`, nil); strings.Contains(string(resp.Data), "quantity") {
			t.Fatalf("viewer.cart: %s", resp.Data)
		}
	})
	t.Run("ContentAppEndsNotItsOwnersLiveForAnotherShop", func(t *testing.T) {
		for _, m := range []string{
			`mutation($id: ID!) { endLiveSession(id: $id) { liveSession { status } } }`,
			`mutation($id: ID!) { startLiveSession(id: $id) { liveSession { status } } }`,
		} {
			if resp := a.post(ordersApp, m, map[string]any{"id": sessionB}); resp.code() != "FORBIDDEN" {
				t.Fatalf("%s = %s %+v", m, resp.Data, resp.Errors)
			}
		}
		resp := a.post(ordersApp, `mutation($s: ID!, $p: ID!) { pinLiveProduct(sessionId: $s, productId: $p) { liveSession { id } } }`,
			map[string]any{"s": sessionB, "p": shopB.productID})
		if resp.code() != "FORBIDDEN" {
			t.Fatalf("pinLiveProduct = %s %+v", resp.Data, resp.Errors)
		}
		if s := a.liveStatus(sessionB); s != "LIVE" {
			t.Fatalf("the session is %s", s)
		}
		var pinned *int64
		_ = a.db.GetContext(context.Background(), &pinned, `SELECT pinned_product_id FROM contents WHERE id = $1`, mustID(t, sessionB))
		if pinned != nil {
			t.Fatalf("pinned product = %d", *pinned)
		}
	})
	t.Run("ContentAppPublishesNotForAnotherShop", func(t *testing.T) {
		before := a.count("contents")
		if resp := a.post(ordersApp, publishVideoMutation, videoInput(shopB.productID)); resp.code() != "FORBIDDEN" {
			t.Fatalf("publishVideo = %s %+v", resp.Data, resp.Errors)
		}
		if resp := a.post(ordersApp, scheduleLiveMutation, liveInput(shopB.productID)); resp.code() != "FORBIDDEN" {
			t.Fatalf("scheduleLiveSession = %s %+v", resp.Data, resp.Errors)
		}
		if after := a.count("contents"); after != before {
			t.Fatalf("contents %d -> %d", before, after)
		}
	})
	t.Run("MetricsAppSeesNotItsOwnersFiguresForAnotherShop", func(t *testing.T) {
		resp := a.post(ordersApp, `query($id: ID!) { liveSession(id: $id) { metrics { views gmv { amount } orders } } }`, map[string]any{"id": sessionB})
		if resp.code() != "FORBIDDEN" || strings.Contains(string(resp.Data), `"amount"`) {
			t.Fatalf("metrics = %s %+v", resp.Data, resp.Errors)
		}
		// The owner in person, the session's host, still sees them.
		if resp := a.post(shopA.sellerToken, `query($id: ID!) { liveSession(id: $id) { metrics { gmv { amount } } } }`, map[string]any{"id": sessionB}); len(resp.Errors) > 0 {
			t.Fatalf("host's own figures: %+v", resp.Errors)
		}
	})
	t.Run("AppWithoutCatalogScopeListsNoDrafts", func(t *testing.T) {
		a.product(shopA.sellerToken, shopA.shopID, "alpha-draft", map[string]any{"status": "DRAFT"})
		var pv struct {
			PublishVideo struct{ Video struct{ ID string } }
		}
		a.ok(shopA.sellerToken, publishVideoMutation, videoInput(shopA.productID), &pv)
		q := `query($id: ID!) { video(id: $id) { shop { products { edges { node { title status } } } } } }`
		if resp := a.post(ordersApp, q, map[string]any{"id": pv.PublishVideo.Video.ID}); len(resp.Errors) > 0 || strings.Contains(string(resp.Data), "DRAFT") {
			t.Fatalf("a content:read app lists drafts: %s %+v", resp.Data, resp.Errors)
		}
		// The owner in person, and an app with catalog:read, do list them.
		for _, token := range []string{shopA.sellerToken, catalogApp} {
			if resp := a.post(token, `query($h: String!) { shop(handle: $h) { products { edges { node { status } } } } }`,
				map[string]any{"h": "alpha-shop"}); !strings.Contains(string(resp.Data), "DRAFT") {
				t.Fatalf("the shop's managers do not see the draft: %s %+v", resp.Data, resp.Errors)
			}
		}
	})
	t.Run("AppsSeeNoApps", func(t *testing.T) {
		_, appID := a.appToken(shopA.sellerToken, shopA.shopID, []string{"catalog:read"})
		resp := a.post(ordersApp, `query($id: ID!) { node(id: $id) { ... on App { clientId } } }`, map[string]any{"id": appID})
		if strings.Contains(string(resp.Data), "clientId") {
			t.Fatalf("node(App) = %s", resp.Data)
		}
	})
}

func globalIDOf(typeName string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typeName + ":" + strconv.FormatInt(id, 10)))
}

// The failure of issue 15, item 2: drafts leak through order and cart lines.
func TestDraftsDoNotLeakThroughLines(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("drafty")
	buyer, _ := a.user("keeper", false)
	orderID := a.buy(buyer, "before-draft", shop.variantIDs[0], 1)
	a.ok(buyer, `mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { cart { id } } }`,
		map[string]any{"l": []any{line(shop.variantIDs[0], 1)}}, nil)
	var up struct {
		UpdateProduct struct{ UserErrors []userError }
	}
	a.ok(shop.sellerToken, `mutation($in: UpdateProductInput!) { updateProduct(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"id": shop.productID, "status": "DRAFT", "title": "Secret relaunch", "description": "Not yet"}}, &up)
	if len(up.UpdateProduct.UserErrors) > 0 {
		t.Fatalf("updateProduct: %+v", up.UpdateProduct.UserErrors)
	}

	var me struct{ Viewer struct{ ID string } }
	a.ok(buyer, `{ viewer { id } }`, nil, &me)
	cartID := globalIDOf("Cart", mustID(t, me.Viewer.ID))
	const product = `product { title description status }`
	paths := map[string]struct {
		query string
		vars  map[string]any
	}{
		"node(P)":            {`query($id: ID!) { node(id: $id) { ... on Product { title description status } } }`, map[string]any{"id": shop.productID}},
		"product(id:)":       {`query($id: ID!) { product(id: $id) { title description status } }`, map[string]any{"id": shop.productID}},
		"node(variant)":      {`query($id: ID!) { node(id: $id) { ... on ProductVariant { ` + product + ` } } }`, map[string]any{"id": shop.variantIDs[0]}},
		"order lines":        {`query($id: ID!) { order(id: $id) { lines { title variant { ` + product + ` } } } }`, map[string]any{"id": orderID}},
		"node(order) lines":  {`query($id: ID!) { node(id: $id) { ... on Order { lines { variant { ` + product + ` } } } } }`, map[string]any{"id": orderID}},
		"viewer orders":      {`{ viewer { orders { edges { node { lines { variant { ` + product + ` } } } } } } }`, nil},
		"viewer cart lines":  {`{ viewer { cart { lines { quantity variant { ` + product + ` } } } } }`, nil},
		"cart through nodes": {`query($ids: [ID!]!) { nodes(ids: $ids) { ... on Cart { lines { variant { ` + product + ` } } } } }`, map[string]any{"ids": []string{cartID}}},
	}
	for name, p := range paths {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			resp := a.post(buyer, p.query, p.vars)
			body := string(resp.Data)
			for _, leak := range []string{"Secret relaunch", "Not yet", "DRAFT"} {
				if strings.Contains(body, leak) {
					t.Fatalf("the buyer reads %q: %s", leak, body)
				}
			}
		})
	}
	// The line keeps the title it was sold under; the variant is null.
	var order struct {
		Order struct {
			Lines []struct {
				Title   string
				Variant *struct{ ID string }
			}
		}
	}
	a.ok(buyer, `query($id: ID!) { order(id: $id) { lines { title variant { id } } } }`, map[string]any{"id": orderID}, &order)
	if len(order.Order.Lines) != 1 || order.Order.Lines[0].Title != "drafty-serum" || order.Order.Lines[0].Variant != nil {
		t.Fatalf("order lines = %+v", order.Order.Lines)
	}
	var cart struct {
		Viewer struct {
			Cart struct {
				TotalQuantity int
				Lines         []struct {
					Quantity int
					Variant  *struct{ ID string }
				}
			}
		}
	}
	a.ok(buyer, `{ viewer { cart { totalQuantity lines { quantity variant { id } } } } }`, nil, &cart)
	if c := cart.Viewer.Cart; c.TotalQuantity != 1 || len(c.Lines) != 1 || c.Lines[0].Variant != nil {
		t.Fatalf("cart = %+v", c)
	}
	// The seller still sees the draft through the order's lines.
	var sellerView struct {
		Order struct {
			Lines []struct {
				Variant *struct{ Product struct{ Title string } }
			}
		}
	}
	a.ok(shop.sellerToken, `query($id: ID!) { order(id: $id) { lines { variant { product { title } } } } }`, map[string]any{"id": orderID}, &sellerView)
	if l := sellerView.Order.Lines; len(l) != 1 || l[0].Variant == nil || l[0].Variant.Product.Title != "Secret relaunch" {
		t.Fatalf("seller's view = %+v", l)
	}
	// Checkout of the cart refuses the drafted line and changes nothing.
	orders := a.count("orders")
	var co checkoutOut
	in := checkoutInput("cart-after-draft", "tok_ok")
	delete(in["in"].(map[string]any), "lines")
	in["in"].(map[string]any)["cartId"] = cartID
	a.ok(buyer, checkoutMutation, in, &co)
	if len(co.Checkout.Orders) != 0 || len(co.Checkout.UserErrors) == 0 {
		t.Fatalf("checkout of a drafted cart = %+v", co.Checkout)
	}
	// Buying the variant by ID (from the old order) is refused without naming the draft either.
	var direct checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("lines-after-draft", "tok_ok", line(shop.variantIDs[0], 1)), &direct)
	if len(direct.Checkout.Orders) != 0 || len(direct.Checkout.UserErrors) == 0 {
		t.Fatalf("checkout of a drafted variant = %+v", direct.Checkout)
	}
	for _, ue := range append(co.Checkout.UserErrors, direct.Checkout.UserErrors...) {
		if strings.Contains(ue.Message, "Secret relaunch") {
			t.Fatalf("checkout's user error names the draft: %+v", ue)
		}
	}
	if a.count("orders") != orders {
		t.Fatal("a checkout of a drafted product placed an order")
	}
}

// Live events carry products too: pinning a product that was set back to
// DRAFT reaches only the subscribers who may see the draft.
func TestLiveEventsAboutADraftReachOnlyThoseWhoMaySeeIt(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	srv, _ := a.liveServer()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := map[string]any{"id": w.session}
	a.ok(w.f.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, id, nil)
	// An affiliate's session with the same product, on air before it is drafted.
	creator, _ := a.user("affiliate", true)
	var sched struct {
		ScheduleLiveSession struct{ LiveSession struct{ ID string } }
	}
	a.ok(creator, scheduleLiveMutation, liveInput(w.other.ID), &sched)
	affiliateSession := sched.ScheduleLiveSession.LiveSession.ID
	a.ok(creator, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, map[string]any{"id": affiliateSession}, nil)
	a.ok(w.f.sellerToken, `mutation($in: UpdateProductInput!) { updateProduct(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"id": w.other.ID, "status": "DRAFT", "title": "Unreleased"}}, nil)
	// The affiliate may not see the draft, so may not pin it either.
	var pin struct {
		PinLiveProduct struct{ UserErrors []userError }
	}
	a.ok(creator, `mutation($s: ID!, $p: ID!) { pinLiveProduct(sessionId: $s, productId: $p) { userErrors { field code message } } }`,
		map[string]any{"s": affiliateSession, "p": w.other.ID}, &pin)
	if ue := pin.PinLiveProduct.UserErrors; len(ue) != 1 || ue[0].Code != "NOT_FOUND" {
		t.Fatalf("the affiliate pinned an invisible draft: %+v", ue)
	}
	var pinned *int64
	if err := a.db.GetContext(ctx, &pinned, `SELECT pinned_product_id FROM contents WHERE id = $1`, mustID(t, affiliateSession)); err != nil || pinned != nil {
		t.Fatalf("pinned = %v, %v", pinned, err)
	}
	watcher, err := dialLive(ctx, srv, "")
	if err != nil {
		t.Fatal(err)
	}
	seller, err := dialLive(ctx, srv, w.f.sellerToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClient{watcher, seller} {
		if err := c.subscribe("1", w.session); err != nil {
			t.Fatal(err)
		}
	}
	// Both are subscribed once each has seen the viewer count reach 2.
	for _, c := range []*wsClient{watcher, seller} {
		for {
			ev, err := c.next(true)
			if err != nil {
				t.Fatal(err)
			}
			if ev["__typename"] == "ViewerCountChanged" && ev["count"] == float64(2) {
				break
			}
		}
	}
	a.ok(w.f.sellerToken, `mutation($s: ID!, $p: ID!) { pinLiveProduct(sessionId: $s, productId: $p) { userErrors { code } } }`,
		map[string]any{"s": w.session, "p": w.other.ID}, nil)
	buyer, _ := a.user("asker", false)
	a.ok(buyer, `mutation($id: ID!) { commentOnContent(contentId: $id, body: "What is it?") { userErrors { code } } }`, id, nil)

	if ev, err := seller.next(false); err != nil || describe(ev) != "ProductPinned product.title=Unreleased" {
		t.Fatalf("the seller's next event = %v, %v", ev, err)
	}
	if ev, err := watcher.next(false); err != nil || ev["__typename"] != "CommentAdded" {
		t.Fatalf("the anonymous watcher's next event = %v, %v (the draft's pin must not reach it)", ev, err)
	}
	var out struct {
		LiveSession struct{ PinnedProduct *struct{ Title string } }
	}
	a.ok("", `query($id: ID!) { liveSession(id: $id) { pinnedProduct { title } } }`, id, &out)
	if out.LiveSession.PinnedProduct != nil {
		t.Fatalf("pinnedProduct = %+v", out.LiveSession.PinnedProduct)
	}
}
