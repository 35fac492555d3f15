package graph_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
)

const guestCheckoutMutation = `mutation($in: CheckoutInput!) { checkout(input: $in) {
	orderToken orders { id number status buyer { id handle displayName } } userErrors { field code message } } }`

type guestCheckoutOut struct {
	Checkout struct {
		OrderToken *string
		Orders     []struct {
			ID, Number, Status string
			Buyer              *buyerOut
		}
		UserErrors []userError
	}
}

type buyerOut struct{ ID, Handle, DisplayName string }

// guestCart makes a guest cart of one variant, anonymously, and returns its
// (keyed) ID.
func (a *testAPI) guestCart(variantID string) string {
	a.t.Helper()
	var gc struct {
		CartCreate struct{ Cart struct{ ID string } }
	}
	a.ok("", `mutation($l: [CartLineInput!]) { cartCreate(lines: $l) { cart { id } } }`,
		map[string]any{"l": []any{line(variantID, 1)}}, &gc)
	return gc.CartCreate.Cart.ID
}

// guestCheckout checks a guest cart out anonymously with key and email.
func (a *testAPI) guestCheckout(cartID, key, email string) guestCheckoutOut {
	a.t.Helper()
	in := checkoutInput(key, "tok_ok")
	m := in["in"].(map[string]any)
	delete(m, "lines")
	m["cartId"], m["email"] = cartID, email
	var out guestCheckoutOut
	a.ok("", guestCheckoutMutation, in, &out)
	return out
}

// tokenBuyers reads ordersByToken as token (a session, or "") and returns
// its orders' buyers.
func (a *testAPI) tokenBuyers(session, orderToken string) []*buyerOut {
	a.t.Helper()
	var out struct {
		OrdersByToken []struct{ Buyer *buyerOut }
	}
	a.ok(session, `query($t: String!) { ordersByToken(token: $t) { buyer { id handle displayName } } }`, map[string]any{"t": orderToken}, &out)
	buyers := make([]*buyerOut, len(out.OrdersByToken))
	for i, o := range out.OrdersByToken {
		buyers[i] = o.Buyer
	}
	return buyers
}

// nodeBuyer reads an order's buyer through node as session (nil: no order,
// or no buyer shown).
func (a *testAPI) nodeBuyer(session, orderID string) *buyerOut {
	a.t.Helper()
	var out struct {
		Node *struct{ Buyer *buyerOut }
	}
	a.ok(session, `query($id: ID!) { node(id: $id) { ... on Order { buyer { id handle displayName } } } }`, map[string]any{"id": orderID}, &out)
	if out.Node == nil {
		return nil
	}
	return out.Node.Buyer
}

// signUpWith signs up with a guest proof and returns the session's token.
func (a *testAPI) signUpWith(email, handle string, guest map[string]any) string {
	a.t.Helper()
	var out struct{ SignUp struct{ Token *string } }
	a.ok("", `mutation($in: SignUpInput!) { signUp(input: $in) { token } }`, map[string]any{"in": map[string]any{
		"email": email, "password": "correct-horse-battery", "handle": handle, "displayName": handle, "guest": guest}}, &out)
	if out.SignUp.Token == nil {
		a.t.Fatalf("signUp %s gave no token", handle)
	}
	return *out.SignUp.Token
}

// An order token shows the order, never who bought it: before adoption no
// guest user, after it not the adopting account. The shop's owner sees the
// buyer ("Guest", then the account), and so does the account in person.
func TestOrderTokenShowsNoBuyer(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("tokshop")
	buy := a.guestCheckout(a.guestCart(f.variantIDs[0]), "g-1", "Ada@example.com")
	if len(buy.Checkout.Orders) != 1 || buy.Checkout.OrderToken == nil {
		t.Fatalf("guest checkout = %+v", buy)
	}
	token, orderID := *buy.Checkout.OrderToken, buy.Checkout.Orders[0].ID
	if b := buy.Checkout.Orders[0].Buyer; b != nil {
		t.Fatalf("the guest's checkout reply shows buyer %+v, want null", b)
	}
	if b := a.tokenBuyers("", token); len(b) != 1 || b[0] != nil {
		t.Fatalf("ordersByToken before adoption: buyers %+v, want one null", b)
	}
	if b := a.nodeBuyer(f.sellerToken, orderID); b == nil || b.DisplayName != "Guest" {
		t.Fatalf("the shop owner sees buyer %+v, want the guest", b)
	}

	ada := a.signUpWith("ada@example.com", "ada.adopts", map[string]any{"orderTokens": []string{token}})
	for _, session := range []string{"", f.sellerToken} {
		if b := a.tokenBuyers(session, token); len(b) != 1 || (session == "" && b[0] != nil) {
			t.Fatalf("ordersByToken after adoption (signed in %v): buyers %+v", session != "", b)
		}
	}
	if b := a.tokenBuyers("", token); b[0] != nil {
		t.Fatalf("an anonymous token holder sees the adopter: %+v", b[0])
	}
	if b := a.tokenBuyers(f.sellerToken, token); b[0] == nil || b[0].Handle != "ada.adopts" {
		t.Fatalf("the shop owner through the token sees %+v, want the account", b[0])
	}
	if b := a.tokenBuyers(ada, token); b[0] == nil || b[0].Handle != "ada.adopts" {
		t.Fatalf("the account in person through the token sees %+v, want itself", b[0])
	}
	if b := a.nodeBuyer(f.sellerToken, orderID); b == nil || b.Handle != "ada.adopts" {
		t.Fatalf("the shop owner sees buyer %+v after adoption, want the account", b)
	}
	if b := a.nodeBuyer(ada, orderID); b == nil || b.Handle != "ada.adopts" {
		t.Fatalf("the account sees buyer %+v, want itself", b)
	}
	// Someone else signed in, with the token, sees no buyer either.
	other, _ := a.user("other.reader", false)
	if b := a.tokenBuyers(other, token); len(b) != 1 || b[0] != nil {
		t.Fatalf("another person through the token sees %+v", b)
	}
}

// A guest answers as no user at all on every path that takes a User ID:
// follow and unfollow (NOT_FOUND, as for an unknown id), node and nodes
// (null).
func TestGuestIsNoUser(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("ghost")
	a.guestCheckout(a.guestCart(f.variantIDs[0]), "g-1", "ghost@example.com")
	var guestID int64
	if err := a.db.Get(&guestID, `SELECT id FROM users WHERE is_guest`); err != nil {
		t.Fatal(err)
	}
	kol, _ := a.user("kol", true)
	for name, id := range map[string]string{"Guest": gid("User", guestID), "Unknown": gid("User", 999999)} {
		for _, on := range []bool{true, false} {
			out := a.follow(kol, id, on)
			if out.Node != nil || out.ViewerFollows || len(out.UserErrors) != 1 || out.UserErrors[0].Code != "NOT_FOUND" {
				t.Fatalf("%s: follow(on=%v) = %+v, want NOT_FOUND", name, on, out)
			}
		}
		resp := a.post(kol, `query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }`, map[string]any{"id": id})
		if string(resp.Data) != `{"node":null,"nodes":[null]}` || len(resp.Errors) != 0 {
			t.Fatalf("%s: node, nodes = %s %+v", name, resp.Data, resp.Errors)
		}
	}
	if n := a.followRows(`true`); n != 0 {
		t.Fatalf("%d follows rows", n)
	}
}

// A guest checkout whose payment stays pending, completed by the
// reconciler, has its email on record from the start (the shop's, and
// adoption's, whatever becomes of the reply); the guest's retry with the
// same key gets the order and the order token, which reads it.
func TestPendingGuestCheckoutIsRecordedAtReservation(t *testing.T) {
	var real *payment.TestProvider
	a := newTestAPIWith(t, func(r *graph.Resolver) {
		real = payment.NewTestProvider(r.DB.DB.DB)
		r.Payments = lostAnswerProvider{real}
		r.DB.PaymentSettings.SettleAfter = time.Millisecond
	})
	f := a.fixture("pend")
	cart := a.guestCart(f.variantIDs[0])
	first := a.guestCheckout(cart, "g-pend", "Pat@Example.com")
	if e := first.Checkout.UserErrors; len(e) != 1 || e[0].Code != "PAYMENT_PENDING" || first.Checkout.OrderToken != nil {
		t.Fatalf("checkout = %+v, want PAYMENT_PENDING", first)
	}
	var email string
	if err := a.db.Get(&email, `SELECT gc.email FROM guest_checkouts gc JOIN checkouts c ON c.id = gc.checkout_id
		WHERE c.idempotency_key = 'g-pend'`); err != nil || email != "pat@example.com" {
		t.Fatalf("recorded email %q (%v), want pat@example.com while the payment is pending", email, err)
	}
	// The guest never retries (yet): the reconciler completes the order.
	if n := a.reconcileUntil(real, func(n store.Reconciled) bool { return n.Completed == 1 }); n.Completed != 1 {
		t.Fatalf("reconcile = %+v", n)
	}
	late := a.guestCheckout(cart, "g-pend", "Pat@Example.com")
	if len(late.Checkout.Orders) != 1 || late.Checkout.Orders[0].Status != "PAID" || late.Checkout.OrderToken == nil {
		t.Fatalf("late retry = %+v", late)
	}
	var tokenOrders struct {
		OrdersByToken []struct{ Number, Status string }
	}
	a.ok("", `query($t: String!) { ordersByToken(token: $t) { number status } }`, map[string]any{"t": *late.Checkout.OrderToken}, &tokenOrders)
	if o := tokenOrders.OrdersByToken; len(o) != 1 || o[0].Number != late.Checkout.Orders[0].Number {
		b, _ := json.Marshal(tokenOrders)
		t.Fatalf("ordersByToken = %s", b)
	}
	var rows int
	if err := a.db.GetContext(context.Background(), &rows, `SELECT count(*) FROM guest_checkouts`); err != nil || rows != 1 {
		t.Fatalf("guest_checkouts rows = %d (%v), want 1", rows, err)
	}
	// The email on record adopts the orders with the cart's ID (the proof).
	pat := a.signUpWith("pat@example.com", "pat.adopts", map[string]any{"cartIds": []string{cart}})
	if b := a.nodeBuyer(pat, late.Checkout.Orders[0].ID); b == nil || b.Handle != "pat.adopts" {
		t.Fatalf("adopted order's buyer = %+v", b)
	}
}
