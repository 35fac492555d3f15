package graph_test

import (
	"encoding/json"
	"sync"
	"testing"
)

const orderFields = `order { id status carrier trackingNumber } userErrors { field code message }`

type orderChangeOut struct {
	Order *struct {
		ID, Status string
	}
	UserErrors []userError
}

// buy checks out one unit and returns the order's ID.
func (a *testAPI) buy(token, key, variantID string, qty int) string {
	a.t.Helper()
	var out checkoutOut
	a.ok(token, checkoutMutation, checkoutInput(key, "tok_ok", line(variantID, qty)), &out)
	if len(out.Checkout.Orders) != 1 {
		a.t.Fatalf("checkout = %+v", out)
	}
	return out.Checkout.Orders[0].ID
}

// change runs an order mutation and returns its payload.
func (a *testAPI) change(token, mutation string, vars map[string]any) (orderChangeOut, gqlResponse) {
	a.t.Helper()
	resp := a.post(token, mutation, vars)
	var data map[string]*orderChangeOut
	_ = json.Unmarshal(resp.Data, &data)
	for _, v := range data {
		if v != nil {
			return *v, resp
		}
	}
	return orderChangeOut{}, resp
}

const (
	fulfillMutation = `mutation($id: ID!) { fulfillOrder(input: {id: $id, carrier: "UPS", trackingNumber: "1Z999"}) { ` + orderFields + ` } }`
	deliverMutation = `mutation($id: ID!) { markDelivered(id: $id) { ` + orderFields + ` } }`
	cancelMutation  = `mutation($id: ID!) { cancelOrder(id: $id) { ` + orderFields + ` } }`
)

func TestOrderLifecycle(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("ship")
	buyer, _ := a.user("ana", false)
	orderID := a.buy(buyer, "k1", shop.variantIDs[0], 2)
	id := map[string]any{"id": orderID}

	if o, _ := a.change(shop.sellerToken, deliverMutation, id); o.Order != nil || o.UserErrors[0].Code != "INVALID_TRANSITION" {
		t.Fatalf("deliver before fulfil = %+v", o)
	}
	if _, resp := a.change(buyer, fulfillMutation, id); resp.code() != "FORBIDDEN" {
		t.Fatalf("buyer fulfil = %+v", resp.Errors)
	}
	if o, _ := a.change(shop.sellerToken, fulfillMutation, id); o.Order == nil || o.Order.Status != "FULFILLED" {
		t.Fatalf("fulfil = %+v", o)
	}
	if o, _ := a.change(buyer, cancelMutation, id); o.Order != nil {
		t.Fatalf("buyer cancelled a shipped order: %+v", o)
	}
	if o, _ := a.change(shop.sellerToken, deliverMutation, id); o.Order == nil || o.Order.Status != "DELIVERED" {
		t.Fatalf("deliver = %+v", o)
	}
}

func TestCancelRestocksAndRefundsExactlyOnce(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("cancel")
	buyer, _ := a.user("ana", false)
	orderID := a.buy(buyer, "k1", shop.variantIDs[0], 3)
	if a.stock(shop.variantIDs[0]) != 2 {
		t.Fatal("stock not taken")
	}
	var wg sync.WaitGroup
	statuses := make([]string, 2)
	for i, token := range []string{buyer, shop.sellerToken} {
		wg.Add(1)
		go func(i int, token string) {
			defer wg.Done()
			resp, err := a.postRaw(token, cancelMutation, map[string]any{"id": orderID})
			var data struct{ CancelOrder orderChangeOut }
			if err == nil && json.Unmarshal(resp.Data, &data) == nil && data.CancelOrder.Order != nil {
				statuses[i] = data.CancelOrder.Order.Status
			}
		}(i, token)
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		if s != "" {
			won++
			if s != "REFUNDED" {
				t.Fatalf("cancelled order status = %s, want REFUNDED", s)
			}
		}
	}
	if won != 1 || a.stock(shop.variantIDs[0]) != 5 || a.count("test_provider_refunds") != 1 {
		t.Fatalf("winners %d, stock %d, refunds %d; want 1, 5, 1", won, a.stock(shop.variantIDs[0]), a.count("test_provider_refunds"))
	}
}

func TestCancelRacingFulfilHasOneWinner(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("race")
	buyer, _ := a.user("ana", false)
	for round := 0; round < 5; round++ {
		orderID := a.buy(buyer, "k"+string(rune('a'+round)), shop.variantIDs[0], 1)
		var wg sync.WaitGroup
		winners := make([]bool, 2)
		for i, m := range []string{cancelMutation, fulfillMutation} {
			wg.Add(1)
			go func(i int, m string) {
				defer wg.Done()
				resp, err := a.postRaw(shop.sellerToken, m, map[string]any{"id": orderID})
				var data map[string]*orderChangeOut
				if err == nil && json.Unmarshal(resp.Data, &data) == nil {
					for _, v := range data {
						winners[i] = v != nil && v.Order != nil
					}
				}
			}(i, m)
		}
		wg.Wait()
		if winners[0] == winners[1] {
			t.Fatalf("round %d: cancel won %v, fulfil won %v; want exactly one", round, winners[0], winners[1])
		}
	}
}

func TestOrdersAreVisibleOnlyToBuyerSellerAndAdmin(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("priv")
	buyer, _ := a.user("ana", false)
	snoop, _ := a.user("snoop", false)
	adminToken, admin := a.user("root", false)
	if _, err := a.db.Exec(`UPDATE users SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	orderID := a.buy(buyer, "k1", shop.variantIDs[0], 1)
	const q = `query($id: ID!) { order(id: $id) { id } node(id: $id) { id } nodes(ids: [$id]) { id }
		viewer { orders { edges { node { id } } } }
		shop(handle: "priv-shop") { orders { edges { node { id } } } } }`
	type out struct {
		Order  *struct{ ID string }
		Node   *struct{ ID string }
		Nodes  []*struct{ ID string }
		Viewer struct {
			Orders *struct{ Edges []any }
		}
		Shop struct {
			Orders *struct{ Edges []any }
		}
	}
	var o out
	a.ok(snoop, q, map[string]any{"id": orderID}, &o)
	if o.Order != nil || o.Node != nil || o.Nodes[0] != nil || len(o.Viewer.Orders.Edges) != 0 || o.Shop.Orders != nil {
		t.Fatalf("snoop sees the order: %+v", o)
	}
	for name, token := range map[string]string{"Buyer": buyer, "Seller": shop.sellerToken, "Admin": adminToken} {
		var o out
		a.ok(token, q, map[string]any{"id": orderID}, &o)
		if o.Order == nil || o.Node == nil || o.Nodes[0] == nil {
			t.Fatalf("%s cannot see the order: %+v", name, o)
		}
	}
	if _, resp := a.change(snoop, cancelMutation, map[string]any{"id": orderID}); resp.code() != "NOT_FOUND" {
		t.Fatalf("snoop cancel = %+v", resp.Errors)
	}
}

func TestCartCheckout(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("cart")
	buyer, u := a.user("ana", false)
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(shop.sellerToken, publishVideoMutation, videoInput(shop.productID), &pv)
	const add = `mutation($lines: [CartLineInput!]!) { cartLinesAdd(lines: $lines) {
		cart { id totalQuantity lines { id quantity seenUnitPrice { amount } sourceContent { id } } } userErrors { field code } } }`
	var out struct {
		CartLinesAdd struct {
			Cart struct {
				ID            string
				TotalQuantity int
				Lines         []struct {
					ID            string
					Quantity      int
					SourceContent *struct{ ID string }
				}
			}
			UserErrors []userError
		}
	}
	lines := []map[string]any{{"variantId": shop.variantIDs[0], "quantity": 1, "sourceContentId": pv.PublishVideo.Video.ID}}
	a.ok(buyer, add, map[string]any{"lines": lines}, &out)
	a.ok(buyer, add, map[string]any{"lines": lines}, &out)
	cart := out.CartLinesAdd.Cart
	if cart.TotalQuantity != 2 || len(cart.Lines) != 1 || cart.Lines[0].SourceContent == nil {
		t.Fatalf("cart = %+v", out)
	}

	// The seller raises the price: checkout must refuse, not charge the new price.
	if _, err := a.db.Exec(`UPDATE product_variants SET price_amount = price_amount + 100`); err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"in": map[string]any{"cartId": cart.ID, "idempotencyKey": "c1", "shippingAddress": address, "payment": map[string]any{"token": "tok_ok"}}}
	var co checkoutOut
	a.ok(buyer, checkoutMutation, in, &co)
	if len(co.Checkout.Orders) != 0 || co.Checkout.UserErrors[0].Code != "PRICE_CHANGED" {
		t.Fatalf("repriced cart checkout = %+v", co)
	}
	// Adding again refreshes the price the buyer has seen.
	a.ok(buyer, `mutation($lines: [CartLineUpdateInput!]!) { cartLinesUpdate(lines: $lines) { userErrors { code } } }`,
		map[string]any{"lines": []map[string]any{{"id": cart.Lines[0].ID, "quantity": 1}}}, nil)
	a.ok(buyer, add, map[string]any{"lines": lines}, &out)
	in["in"].(map[string]any)["idempotencyKey"] = "c2"
	a.ok(buyer, checkoutMutation, in, &co)
	if len(co.Checkout.Orders) != 1 || co.Checkout.Orders[0].SourceContent == nil || co.Checkout.Orders[0].Total.Amount != "41.80" {
		t.Fatalf("cart checkout = %+v", co)
	}
	var after struct {
		Viewer struct {
			Cart struct{ TotalQuantity int }
		}
	}
	a.ok(buyer, `{ viewer { cart { totalQuantity } } }`, nil, &after)
	if after.Viewer.Cart.TotalQuantity != 0 {
		t.Fatalf("cart not emptied after checkout: %+v", after)
	}
	// Someone else's cart is not usable.
	other, _ := a.user("other", false)
	if resp := a.post(other, checkoutMutation, in); resp.code() != "NOT_FOUND" {
		t.Fatalf("checkout of another buyer's cart = %+v (cart of user %d)", resp.Errors, u.ID)
	}
}

func TestCartBatchWithABadLineAddsNothing(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("shop")
	buyer, _ := a.user("ana", false)
	var out struct {
		CartLinesAdd struct {
			Cart       struct{ TotalQuantity int }
			UserErrors []userError
		}
	}
	a.ok(buyer, `mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { cart { totalQuantity } userErrors { field code } } }`,
		map[string]any{"l": []map[string]any{{"variantId": f.variantIDs[0], "quantity": 2}, {"variantId": f.variantIDs[1], "quantity": 100}}}, &out)
	if len(out.CartLinesAdd.UserErrors) != 1 || join(out.CartLinesAdd.UserErrors[0].Field) != "lines.1.quantity" || out.CartLinesAdd.Cart.TotalQuantity != 0 {
		t.Fatalf("cartLinesAdd = %+v", out)
	}
}
