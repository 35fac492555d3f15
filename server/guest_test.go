package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

// guestReply is a GraphQL answer with the first error's code.
type guestReply struct {
	Status int
	Data   map[string]json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
	Raw string
}

func (r guestReply) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// field decodes data.<name> into out.
func (r guestReply) field(t *testing.T, name string, out any) {
	t.Helper()
	if err := json.Unmarshal(r.Data[name], out); err != nil {
		t.Fatalf("data.%s: %v: %s", name, err, r.Raw)
	}
}

// guestPost sends a GraphQL request as a browser would (no Cache-Control, so
// anonymous queries go through the shared response cache), with a bearer
// token when token is not empty.
func guestPost(t *testing.T, base, token, query string, vars map[string]any) guestReply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(queryBody(query, vars)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := guestReply{Status: res.StatusCode, Raw: string(raw)}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d: %v: %s", res.StatusCode, err, raw)
	}
	return out
}

// mustOK fails on any error in the reply.
func (r guestReply) mustOK(t *testing.T, what string) guestReply {
	t.Helper()
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", what, r.Status, r.Raw)
	}
	return r
}

const (
	guestCartFields   = `id totalQuantity lines { id quantity variant { id } }`
	guestCartCreate   = `mutation($l: [CartLineInput!]) { cartCreate(lines: $l) { cart { ` + guestCartFields + ` } userErrors { field code message } } }`
	guestCartQuery    = `query($id: ID!) { cart(id: $id) { ` + guestCartFields + ` } }`
	guestCheckoutMut  = `mutation($in: CheckoutInput!) { checkout(input: $in) { orderToken orders { id number status buyer { handle displayName } total { amount } lines { quantity } } userErrors { field code message } } }`
	guestOrdersQuery  = `query($t: String!) { ordersByToken(token: $t) { id number status lines { quantity sku } } }`
	guestViewerOrders = `{ viewer { orders(first: 10) { edges { node { id number } } } cart { totalQuantity lines { quantity } } } }`
)

type guestCart struct {
	ID            string
	TotalQuantity int
	Lines         []struct {
		ID       string
		Quantity int
	}
}

type guestCheckout struct {
	OrderToken *string
	Orders     []struct {
		ID, Number, Status string
		Buyer              *struct{ Handle, DisplayName string }
	}
	UserErrors []struct {
		Field   []string
		Code    string
		Message string
	}
}

// guestFixture seeds a small catalogue and returns the server, the database
// and an active variant's global ID with its stock.
func guestFixture(t *testing.T, env map[string]string) (base string, db *store.DB, variant string, variantID int64, stock int) {
	t.Helper()
	db = storetest.NewDB(t)
	if _, err := demo.Seed(context.Background(), db, demo.SeedOptions{Users: 8, Creators: 2, Shops: 2, Products: 3, Videos: 2, LiveSessions: 1, Seed: 17}); err != nil {
		t.Fatal(err)
	}
	variantID, stock = activeVariant(t, db.DB, 10)
	srv := testServer(t, db, testTokens(t), nil, env)
	return srv.URL, db, globalIDFor("ProductVariant", variantID), variantID, stock
}

func createGuestCart(t *testing.T, base, variant string, qty int) guestCart {
	t.Helper()
	r := guestPost(t, base, "", guestCartCreate, map[string]any{"l": []map[string]any{{"variantId": variant, "quantity": qty}}}).mustOK(t, "cartCreate")
	var p struct {
		Cart       guestCart
		UserErrors []any
	}
	r.field(t, "cartCreate", &p)
	if len(p.UserErrors) > 0 || p.Cart.TotalQuantity != qty {
		t.Fatalf("cartCreate: %s", r.Raw)
	}
	return p.Cart
}

func guestCheckoutInput(cartID, key, email string) map[string]any {
	in := map[string]any{"cartId": cartID, "idempotencyKey": key, "payment": map[string]any{"token": "tok_ok"},
		"shippingAddress": map[string]any{"name": "Guest Buyer", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "countryCode": "US"}}
	if email != "" {
		in["email"] = email
	}
	return map[string]any{"in": in}
}

func guestBuy(t *testing.T, base, cartID, key, email string) guestCheckout {
	t.Helper()
	r := guestPost(t, base, "", guestCheckoutMut, guestCheckoutInput(cartID, key, email)).mustOK(t, "guest checkout")
	var c guestCheckout
	r.field(t, "checkout", &c)
	return c
}

// wrongKey returns a cart or line ID with the same id and another key, and
// the same ID with no key at all.
func wrongKey(t *testing.T, gid string) (wrong, bare string) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		t.Fatal(err)
	}
	plain, key, ok := strings.Cut(string(raw), "?key=")
	if !ok || len(key) != 43 {
		t.Fatalf("ID %q (%s) carries no 256-bit key", gid, raw)
	}
	other := store.NewSecret()
	return base64.RawURLEncoding.EncodeToString([]byte(plain + "?key=" + other)), base64.RawURLEncoding.EncodeToString([]byte(plain))
}

func signUp(t *testing.T, base, email, handle string, guest map[string]any) string {
	t.Helper()
	in := map[string]any{"email": email, "password": "correct-horse", "handle": handle, "displayName": handle}
	if guest != nil {
		in["guest"] = guest
	}
	r := guestPost(t, base, "", `mutation($i: SignUpInput!) { signUp(input: $i) { token userErrors { field message } } }`, map[string]any{"i": in}).mustOK(t, "signUp")
	var p struct{ Token *string }
	r.field(t, "signUp", &p)
	if p.Token == nil {
		t.Fatalf("signUp %s: %s", email, r.Raw)
	}
	return *p.Token
}

func logIn(t *testing.T, base, email string, guest map[string]any) string {
	t.Helper()
	in := map[string]any{"email": email, "password": "correct-horse"}
	if guest != nil {
		in["guest"] = guest
	}
	r := guestPost(t, base, "", `mutation($i: LogInInput!) { logIn(input: $i) { token userErrors { message } } }`, map[string]any{"i": in}).mustOK(t, "logIn")
	var p struct{ Token *string }
	r.field(t, "logIn", &p)
	if p.Token == nil {
		t.Fatalf("logIn %s: %s", email, r.Raw)
	}
	return *p.Token
}

type accountView struct {
	Orders []string
	Cart   int
}

func account(t *testing.T, base, token string) accountView {
	t.Helper()
	r := guestPost(t, base, token, guestViewerOrders, nil).mustOK(t, "viewer")
	var v struct {
		Orders struct {
			Edges []struct{ Node struct{ ID, Number string } }
		}
		Cart struct{ TotalQuantity int }
	}
	r.field(t, "viewer", &v)
	out := accountView{Cart: v.Cart.TotalQuantity}
	for _, e := range v.Orders.Edges {
		out.Orders = append(out.Orders, e.Node.Number)
	}
	return out
}

// TestGuestCartCheckoutAndAdoption: an anonymous buyer gets a cart by a
// cart key carried in its ID, checks out with an email, reads the order with
// its order token, and adopts cart and orders on sign-up and on log-in by
// presenting them; a stranger with the same email and no proof adopts
// nothing.
func TestGuestCartCheckoutAndAdoption(t *testing.T) {
	base, db, variant, variantID, stock := guestFixture(t, map[string]string{"AUTH_RATE_LIMIT_BURST": "1000"})
	ctx := context.Background()

	cart := createGuestCart(t, base, variant, 2)
	_, key, _ := strings.Cut(mustDecode(t, cart.ID), "?key=")
	var stored int
	if err := db.GetContext(ctx, &stored, `SELECT count(*) FROM guest_carts WHERE key_hash = $1`, store.HashSecret(key)); err != nil || stored != 1 {
		t.Fatalf("guest cart key stored hashed: %d rows, %v", stored, err)
	}
	if err := db.GetContext(ctx, &stored, `SELECT count(*) FROM guest_carts WHERE key_hash = $1`, key); err != nil || stored != 0 {
		t.Fatalf("the key itself is stored: %d, %v", stored, err)
	}

	// The cart is read and changed with its ID, on every path.
	var got *guestCart
	guestPost(t, base, "", guestCartQuery, map[string]any{"id": cart.ID}).mustOK(t, "cart").field(t, "cart", &got)
	if got == nil || got.TotalQuantity != 2 || got.ID != cart.ID {
		t.Fatalf("cart(id) = %+v", got)
	}
	r := guestPost(t, base, "", `mutation($c: ID!, $l: [CartLineInput!]!) { cartLinesAdd(cartId: $c, lines: $l) { cart { totalQuantity } userErrors { message } } }`,
		map[string]any{"c": cart.ID, "l": []map[string]any{{"variantId": variant, "quantity": 1}}}).mustOK(t, "cartLinesAdd")
	if !strings.Contains(r.Raw, `"totalQuantity":3`) {
		t.Fatalf("cartLinesAdd: %s", r.Raw)
	}
	// No stale shared answer: the cart query right after the change sees it.
	if r := guestPost(t, base, "", guestCartQuery, map[string]any{"id": cart.ID}).mustOK(t, "cart again"); !strings.Contains(r.Raw, `"totalQuantity":3`) {
		t.Fatalf("cart after cartLinesAdd: %s", r.Raw)
	}
	r = guestPost(t, base, "", `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Cart { totalQuantity } ... on CartLine { quantity } } }`,
		map[string]any{"ids": []string{cart.ID, cart.Lines[0].ID}}).mustOK(t, "nodes")
	if !strings.Contains(r.Raw, `"totalQuantity":3`) || !strings.Contains(r.Raw, `"quantity":3`) {
		t.Fatalf("nodes with the key: %s", r.Raw)
	}
	r = guestPost(t, base, "", `mutation($c: ID!, $l: [CartLineUpdateInput!]!) { cartLinesUpdate(cartId: $c, lines: $l) { cart { totalQuantity } userErrors { message } } }`,
		map[string]any{"c": cart.ID, "l": []map[string]any{{"id": cart.Lines[0].ID, "quantity": 2}}}).mustOK(t, "cartLinesUpdate")
	if !strings.Contains(r.Raw, `"totalQuantity":2`) {
		t.Fatalf("cartLinesUpdate: %s", r.Raw)
	}

	t.Run("WrongOrMissingKeyOpensNothing", func(t *testing.T) {
		strangerToken := signUp(t, base, "stranger1@example.com", "stranger.one", nil)
		wrongCart, bareCart := wrongKey(t, cart.ID)
		wrongLine, bareLine := wrongKey(t, cart.Lines[0].ID)
		for _, who := range []string{"", strangerToken} {
			for _, id := range []string{wrongCart, bareCart} {
				if r := guestPost(t, base, who, guestCartQuery, map[string]any{"id": id}).mustOK(t, "cart, wrong key"); string(r.Data["cart"]) != "null" {
					t.Fatalf("cart(%s) = %s", id, r.Data["cart"])
				}
			}
			r := guestPost(t, base, who, `query($id: ID!, $ids: [ID!]!) { node(id: $id) { id } nodes(ids: $ids) { id } }`,
				map[string]any{"id": wrongCart, "ids": []string{wrongCart, bareCart, wrongLine, bareLine}}).mustOK(t, "node, wrong key")
			if string(r.Data["node"]) != "null" || string(r.Data["nodes"]) != "[null,null,null,null]" {
				t.Fatalf("node/nodes with a wrong or no key: %s", r.Raw)
			}
			for name, doc := range map[string]string{
				"cartLinesAdd":    `mutation($c: ID!, $v: ID!) { cartLinesAdd(cartId: $c, lines: [{variantId: $v, quantity: 5}]) { cart { id } } }`,
				"cartLinesUpdate": `mutation($c: ID!, $line: ID!) { cartLinesUpdate(cartId: $c, lines: [{id: $line, quantity: 9}]) { cart { id } } }`,
				"cartLinesRemove": `mutation($c: ID!, $line: ID!) { cartLinesRemove(cartId: $c, lineIds: [$line]) { cart { id } } }`,
			} {
				for _, id := range []string{wrongCart, bareCart} {
					vars := map[string]any{"c": id, "line": cart.Lines[0].ID}
					if name == "cartLinesAdd" {
						vars = map[string]any{"c": id, "v": variant}
					}
					r := guestPost(t, base, who, doc, vars)
					if r.code() != "NOT_FOUND" {
						t.Fatalf("%s with cartId %s: %s", name, id, r.Raw)
					}
				}
			}
			for _, id := range []string{wrongCart, bareCart} {
				r := guestPost(t, base, who, guestCheckoutMut, guestCheckoutInput(id, "wrong-key-"+who[:min(len(who), 4)], "thief@example.com"))
				if r.code() != "NOT_FOUND" {
					t.Fatalf("checkout of %s: %s", id, r.Raw)
				}
			}
		}
		// Over Server-Sent Events too (the same resolvers).
		sse := map[string]string{"Accept": "text/event-stream"}
		if r := send(t, base, queryBody(guestCartQuery, map[string]any{"id": wrongCart}), sse); !strings.Contains(string(r.Raw), `"cart":null`) {
			t.Fatalf("cart with a wrong key over SSE: %s", r.Raw)
		}
		if r := send(t, base, queryBody(guestCartQuery, map[string]any{"id": cart.ID}), sse); !strings.Contains(string(r.Raw), `"totalQuantity":2`) {
			t.Fatalf("cart over SSE: %s", r.Raw)
		}
		// Nothing changed.
		if r := guestPost(t, base, "", guestCartQuery, map[string]any{"id": cart.ID}).mustOK(t, "cart"); !strings.Contains(r.Raw, `"totalQuantity":2`) {
			t.Fatalf("the cart changed: %s", r.Raw)
		}
	})

	// Guest checkout: email required and validated.
	for email, code := range map[string]string{"": "REQUIRED", "not an email": "INVALID"} {
		c := guestBuy(t, base, cart.ID, "k-bad-email", email)
		if len(c.UserErrors) != 1 || c.UserErrors[0].Code != code || strings.Join(c.UserErrors[0].Field, ".") != "input.email" || len(c.Orders) != 0 {
			t.Fatalf("email %q: %+v", email, c)
		}
	}
	// Signed out without a guest cart: sign in first.
	if r := guestPost(t, base, "", `mutation($v: ID!) { checkout(input: {lines: [{variantId: $v, quantity: 1}], idempotencyKey: "x", shippingAddress: {name: "a", line1: "b", city: "c", postalCode: "1", countryCode: "US"}, payment: {token: "tok_ok"}}) { orders { id } } }`,
		map[string]any{"v": variant}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous checkout of lines: %s", r.Raw)
	}

	first := guestBuy(t, base, cart.ID, "guest-key-1", "Victim@Example.com")
	if len(first.UserErrors) > 0 || len(first.Orders) != 1 || first.Orders[0].Status != "PAID" || first.OrderToken == nil {
		t.Fatalf("guest checkout: %+v", first)
	}
	if first.Orders[0].Buyer != nil {
		t.Fatalf("buyer of a guest order, to the guest: %+v, want null (a guest is shown as no user)", first.Orders[0].Buyer)
	}
	// The same key again buys nothing more and answers the same, token too.
	again := guestBuy(t, base, cart.ID, "guest-key-1", "Victim@Example.com")
	if len(again.Orders) != 1 || again.Orders[0].Number != first.Orders[0].Number || again.OrderToken == nil || *again.OrderToken != *first.OrderToken {
		t.Fatalf("retry with the same key: %+v, first %+v", again, first)
	}
	var left int
	if err := db.GetContext(ctx, &left, `SELECT stock FROM product_variants WHERE id = $1`, variantID); err != nil || left != stock-2 {
		t.Fatalf("stock %d, want %d (%v)", left, stock-2, err)
	}
	var charges int
	if err := db.GetContext(ctx, &charges, `SELECT count(*) FROM payments p JOIN checkouts c ON c.id = p.checkout_id
		JOIN users u ON u.id = c.buyer_id WHERE u.is_guest AND p.status = 'CAPTURED'`); err != nil || charges != 1 {
		t.Fatalf("captured guest payments: %d (%v)", charges, err)
	}
	// The cart was bought: empty now.
	if r := guestPost(t, base, "", guestCartQuery, map[string]any{"id": cart.ID}).mustOK(t, "cart after"); !strings.Contains(r.Raw, `"totalQuantity":0`) {
		t.Fatalf("cart after checkout: %s", r.Raw)
	}

	// The order token reads the order; nothing else does.
	token := *first.OrderToken
	r = guestPost(t, base, "", guestOrdersQuery, map[string]any{"t": token}).mustOK(t, "ordersByToken")
	if !strings.Contains(r.Raw, first.Orders[0].Number) || !strings.Contains(r.Raw, `"PAID"`) {
		t.Fatalf("ordersByToken: %s", r.Raw)
	}
	for _, bad := range []string{"", "ot_" + store.NewSecret(), token + "x", strings.TrimPrefix(token, "ot_")} {
		if r := guestPost(t, base, "", guestOrdersQuery, map[string]any{"t": bad}).mustOK(t, "ordersByToken, bad"); string(r.Data["ordersByToken"]) != "[]" {
			t.Fatalf("ordersByToken(%q) = %s", bad, r.Data["ordersByToken"])
		}
	}
	strangerToken := signUp(t, base, "stranger2@example.com", "stranger.two", nil)
	orderID := first.Orders[0].ID
	for _, who := range []string{"", strangerToken} {
		r := guestPost(t, base, who, `query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }`, map[string]any{"id": orderID}).mustOK(t, "order node")
		if string(r.Data["node"]) != "null" || string(r.Data["nodes"]) != "[null]" {
			t.Fatalf("order by node for %q: %s", who, r.Raw)
		}
		if who != "" {
			if r := guestPost(t, base, who, `query($id: ID!) { order(id: $id) { id } }`, map[string]any{"id": orderID}); string(r.Data["order"]) != "null" {
				t.Fatalf("order(id) for a stranger: %s", r.Raw)
			}
		}
	}
	// A guest is not a profile.
	var guestID int64
	if err := db.GetContext(ctx, &guestID, `SELECT buyer_id FROM checkouts WHERE idempotency_key = 'guest-key-1'`); err != nil {
		t.Fatal(err)
	}
	if r := guestPost(t, base, "", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": globalIDFor("User", guestID)}).mustOK(t, "guest user"); string(r.Data["node"]) != "null" {
		t.Fatalf("a guest as a User node: %s", r.Raw)
	}

	t.Run("FromALiveSession", func(t *testing.T) {
		// A guest buying from a live session is announced without a handle.
		var pick struct {
			Content int64 `db:"content_id"`
			Variant int64 `db:"variant_id"`
		}
		if err := db.GetContext(ctx, &pick, `SELECT c.id AS content_id, v.id AS variant_id FROM contents c
			JOIN content_products cp ON cp.content_id = c.id JOIN products p ON p.id = cp.product_id AND p.status = 'ACTIVE'
			JOIN product_variants v ON v.product_id = p.id AND v.stock > 0 WHERE c.kind = 'LIVE' ORDER BY c.id, v.id LIMIT 1`); err != nil {
			t.Fatal(err)
		}
		r := guestPost(t, base, "", guestCartCreate, map[string]any{"l": []map[string]any{{
			"variantId": globalIDFor("ProductVariant", pick.Variant), "quantity": 1, "sourceContentId": globalIDFor("LiveSession", pick.Content)}}}).mustOK(t, "cartCreate")
		var p struct{ Cart guestCart }
		r.field(t, "cartCreate", &p)
		if c := guestBuy(t, base, p.Cart.ID, "guest-live", "live@example.com"); len(c.Orders) != 1 {
			t.Fatalf("guest checkout from a live session: %+v", c)
		}
	})

	t.Run("StrangerWithTheEmailAdoptsNothing", func(t *testing.T) {
		// The victim left lines in a second guest cart too.
		cart2 := createGuestCart(t, base, variant, 1)
		forged, _ := wrongKey(t, cart2.ID)
		thief := signUp(t, base, "victim@example.com", "not.the.victim", map[string]any{
			"cartIds": []string{forged}, "orderTokens": []string{"ot_" + store.NewSecret()}})
		if a := account(t, base, thief); len(a.Orders) != 0 || a.Cart != 0 {
			t.Fatalf("a stranger signing up with the victim's email sees %+v", a)
		}
		if r := guestPost(t, base, thief, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": orderID}).mustOK(t, "thief node"); string(r.Data["node"]) != "null" {
			t.Fatalf("the stranger reads the victim's order: %s", r.Raw)
		}
		// A stranger who logs in with the victim's email adopts nothing either.
		thief = logIn(t, base, "victim@example.com", nil)
		if a := account(t, base, thief); len(a.Orders) != 0 || a.Cart != 0 {
			t.Fatalf("after log-in the stranger sees %+v", a)
		}
		// The victim's cart and order are still theirs.
		if r := guestPost(t, base, "", guestCartQuery, map[string]any{"id": cart2.ID}).mustOK(t, "cart2"); !strings.Contains(r.Raw, `"totalQuantity":1`) {
			t.Fatalf("the victim's cart after the stranger's sign-up: %s", r.Raw)
		}
		// Proof for another email adopts nothing: the real token, the wrong account email.
		other := signUp(t, base, "someone.else@example.com", "someone.else", map[string]any{"orderTokens": []string{token}})
		if a := account(t, base, other); len(a.Orders) != 0 {
			t.Fatalf("an order token adopted into an account of another email: %+v", a)
		}
	})

	t.Run("AdoptedOnSignUp", func(t *testing.T) {
		cartA := createGuestCart(t, base, variant, 1)
		buy := guestBuy(t, base, cartA.ID, "guest-key-a", "ada@example.com")
		if len(buy.Orders) != 1 || buy.OrderToken == nil {
			t.Fatalf("checkout: %+v", buy)
		}
		// Lines added after the checkout stay in the guest cart until adopted.
		guestPost(t, base, "", `mutation($c: ID!, $v: ID!) { cartLinesAdd(cartId: $c, lines: [{variantId: $v, quantity: 3}]) { cart { id } } }`,
			map[string]any{"c": cartA.ID, "v": variant}).mustOK(t, "add after checkout")
		ada := signUp(t, base, "ADA@example.com", "ada.lovelace", map[string]any{"cartIds": []string{cartA.ID}})
		a := account(t, base, ada)
		if len(a.Orders) != 1 || a.Orders[0] != buy.Orders[0].Number || a.Cart != 3 {
			t.Fatalf("after sign-up with the cart: %+v, want order %s and 3 in the cart", a, buy.Orders[0].Number)
		}
		r := guestPost(t, base, ada, `query($id: ID!) { node(id: $id) { ... on Order { number buyer { handle } } } }`, map[string]any{"id": buy.Orders[0].ID}).mustOK(t, "adopted order")
		if !strings.Contains(r.Raw, `"ada.lovelace"`) {
			t.Fatalf("adopted order: %s", r.Raw)
		}
		// The adopted cart's ID opens nothing any more; the order token still reads.
		if r := guestPost(t, base, "", guestCartQuery, map[string]any{"id": cartA.ID}).mustOK(t, "adopted cart"); string(r.Data["cart"]) != "null" {
			t.Fatalf("adopted guest cart still opens: %s", r.Raw)
		}
		if r := guestPost(t, base, "", guestOrdersQuery, map[string]any{"t": *buy.OrderToken}).mustOK(t, "token after"); !strings.Contains(r.Raw, buy.Orders[0].Number) {
			t.Fatalf("order token after adoption: %s", r.Raw)
		}
	})

	t.Run("SignedInCartCreateIsTheOwnCart", func(t *testing.T) {
		carol := signUp(t, base, "carol@example.com", "carol.cart", nil)
		r := guestPost(t, base, carol, guestCartCreate, map[string]any{"l": []map[string]any{{"variantId": variant, "quantity": 2}}}).mustOK(t, "cartCreate signed in")
		var p struct{ Cart guestCart }
		r.field(t, "cartCreate", &p)
		if strings.Contains(mustDecode(t, p.Cart.ID), "?key=") || account(t, base, carol).Cart != 2 {
			t.Fatalf("signed-in cartCreate: %s", r.Raw)
		}
	})

	t.Run("ProofIsBounded", func(t *testing.T) {
		ids := make([]string, 11)
		for i := range ids {
			ids[i] = cart.ID
		}
		r := guestPost(t, base, "", `mutation($i: SignUpInput!) { signUp(input: $i) { token userErrors { field code } } }`, map[string]any{"i": map[string]any{
			"email": "many@example.com", "password": "correct-horse", "handle": "many.carts", "displayName": "Many", "guest": map[string]any{"cartIds": ids}}}).mustOK(t, "signUp")
		if !strings.Contains(r.Raw, `"token":null`) || !strings.Contains(r.Raw, `"cartIds"`) {
			t.Fatalf("11 cart IDs: %s", r.Raw)
		}
	})

	t.Run("AdoptedOnLogIn", func(t *testing.T) {
		bob := signUp(t, base, "bob@example.com", "bob.builder", nil)
		cartB := createGuestCart(t, base, variant, 1)
		buy := guestBuy(t, base, cartB.ID, "guest-key-b", "bob@example.com")
		if len(buy.Orders) != 1 {
			t.Fatalf("checkout: %+v", buy)
		}
		if a := account(t, base, bob); len(a.Orders) != 0 {
			t.Fatalf("adopted before log-in: %+v", a)
		}
		bob = logIn(t, base, "bob@example.com", map[string]any{"orderTokens": []string{*buy.OrderToken}})
		if a := account(t, base, bob); len(a.Orders) != 1 || a.Orders[0] != buy.Orders[0].Number {
			t.Fatalf("after log-in with the order token: %+v", a)
		}
	})
}

func mustDecode(t *testing.T, gid string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestGuestChecksAreRateLimited: signed out, cartCreate and checkout draw
// from the address's small bucket of credential checks (5 at once, then one
// per AUTH_RATE_LIMIT_PERIOD), as logIn does; signed in they do not.
func TestGuestChecksAreRateLimited(t *testing.T) {
	base, _, variant, _, _ := guestFixture(t, map[string]string{"AUTH_RATE_LIMIT_PERIOD": "1h"})
	cart := createGuestCart(t, base, variant, 1) // 1
	for i := 0; i < 3; i++ {                     // 2, 3, 4: refused checkouts count too
		guestPost(t, base, "", guestCheckoutMut, guestCheckoutInput(cart.ID, "k", "")).mustOK(t, "checkout")
	}
	if c := guestBuy(t, base, cart.ID, "rl-key", "rl@example.com"); len(c.Orders) != 1 { // 5
		t.Fatalf("fifth check: %+v", c)
	}
	r := guestPost(t, base, "", guestCartCreate, map[string]any{"l": []map[string]any{{"variantId": variant, "quantity": 1}}})
	if r.Status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" {
		t.Fatalf("sixth guest check: status %d: %s", r.Status, r.Raw)
	}
	r = guestPost(t, base, "", guestCheckoutMut, guestCheckoutInput(cart.ID, "rl-key", "rl@example.com"))
	if r.Status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" {
		t.Fatalf("seventh guest check (a retry): status %d: %s", r.Status, r.Raw)
	}
	// Reading the cart is not a credential check.
	guestPost(t, base, "", guestCartQuery, map[string]any{"id": cart.ID}).mustOK(t, "cart")
}
