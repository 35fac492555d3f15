package graph_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"showcase/auth"
	"showcase/graph"
)

func TestRefreshTokensRotateAndReuseRevokesTheSession(t *testing.T) {
	a := newTestAPI(t)
	var up struct{ SignUp authOut2 }
	a.ok("", `mutation { signUp(input: {email: "r@example.com", password: "long enough", handle: "rita", displayName: "Rita"}) {
		token tokenExpiresAt refreshToken userErrors { code } } }`, nil, &up)
	first := up.SignUp.RefreshToken
	if first == "" || up.SignUp.Token == "" || up.SignUp.TokenExpiresAt == "" {
		t.Fatalf("signUp = %+v", up)
	}
	refresh := func(token string) authOut2 {
		var out struct{ RefreshSession authOut2 }
		a.ok("", `mutation($t: String!) { refreshSession(refreshToken: $t) { token refreshToken userErrors { code } } }`, map[string]any{"t": token}, &out)
		return out.RefreshSession
	}
	second := refresh(first)
	if second.Token == "" || second.RefreshToken == "" || second.RefreshToken == first {
		t.Fatalf("refresh = %+v", second)
	}
	var viewer struct{ Viewer struct{ Handle string } }
	a.ok(second.Token, `{ viewer { handle } }`, nil, &viewer)
	if viewer.Viewer.Handle != "rita" {
		t.Fatalf("refreshed token's viewer = %+v", viewer)
	}
	// A thief replays the first token: the whole session ends, the good token too.
	if out := refresh(first); out.Token != "" || out.UserErrors[0].Code != "INVALID_REFRESH_TOKEN" {
		t.Fatalf("reused refresh token = %+v", out)
	}
	if out := refresh(second.RefreshToken); out.Token != "" {
		t.Fatalf("the family survived a reuse: %+v", out)
	}

	var login struct{ LogIn authOut2 }
	a.ok("", `mutation { logIn(input: {email: "r@example.com", password: "long enough"}) { refreshToken } }`, nil, &login)
	var out struct{ LogOut struct{ Ok bool } }
	a.ok("", `mutation($t: String!) { logOut(refreshToken: $t) { ok } }`, map[string]any{"t": login.LogIn.RefreshToken}, &out)
	if !out.LogOut.Ok || refresh(login.LogIn.RefreshToken).Token != "" {
		t.Fatal("logOut did not end the session")
	}
}

type authOut2 struct {
	Token, TokenExpiresAt, RefreshToken string
	UserErrors                          []userError
}

// appToken registers an app as the given user and gets a token for it.
func (a *testAPI) appToken(userToken string, shopID any, scopes []string) (token, appID string) {
	a.t.Helper()
	var out struct {
		CreateApp struct {
			App          struct{ ID, ClientID string }
			ClientSecret string
			UserErrors   []userError
		}
	}
	a.ok(userToken, `mutation($in: CreateAppInput!) { createApp(input: $in) { app { id clientId } clientSecret userErrors { field code } } }`,
		map[string]any{"in": map[string]any{"name": "Helper", "scopes": scopes, "shopId": shopID}}, &out)
	if len(out.CreateApp.UserErrors) > 0 {
		a.t.Fatalf("createApp: %+v", out.CreateApp.UserErrors)
	}
	status, body := a.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {out.CreateApp.App.ClientID},
		"client_secret": {out.CreateApp.ClientSecret}}, "")
	if status != http.StatusOK {
		a.t.Fatalf("token endpoint: %d %v", status, body)
	}
	return body["access_token"].(string), out.CreateApp.App.ID
}

func (a *testAPI) tokenRequest(form url.Values, basic string) (int, map[string]any) {
	a.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != "" {
		req.Header.Set("Authorization", "Basic "+basic)
	}
	rec := httptest.NewRecorder()
	auth.TokenEndpoint(a.tokens, a.db).ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

func TestAppTokensAreLimitedToTheirScopesAndShop(t *testing.T) {
	a := newTestAPI(t)
	mine := a.fixture("mine")
	theirs := a.fixture("theirs")
	reader, _ := a.appToken(mine.sellerToken, mine.shopID, []string{"catalog:read"})
	writer, writerID := a.appToken(mine.sellerToken, mine.shopID, []string{"catalog:read", "catalog:write"})

	var products struct{ Products struct{ Edges []any } }
	a.ok(reader, `{ products { edges { node { id } } } }`, nil, &products)
	if len(products.Products.Edges) != 2 {
		t.Fatalf("catalog:read app sees %d products", len(products.Products.Edges))
	}
	newProduct := map[string]any{"in": map[string]any{"shopId": mine.shopID, "title": "by-app",
		"variants": []map[string]any{{"sku": "APP-1", "title": "One", "price": map[string]any{"amount": "5", "currencyCode": "USD"}, "stock": 1}}}}
	cases := map[string]struct {
		token, query string
		vars         map[string]any
	}{
		"ReaderCreatesProduct":   {reader, createProductMutation, newProduct},
		"ReaderChecksOut":        {reader, checkoutMutation, checkoutInput("k", "tok_ok", line(mine.variantIDs[0], 1))},
		"WriterOnAnotherShop":    {writer, `mutation($in: UpdateProductInput!) { updateProduct(input: $in) { product { id } } }`, map[string]any{"in": map[string]any{"id": theirs.productID, "title": "pwned"}}},
		"WriterReadsMetrics":     {writer, `query($id: ID!) { product(id: $id) { metrics { views } } }`, map[string]any{"id": mine.productID}},
		"AppOnUnscopedRootField": {writer, recordEventsMutation, map[string]any{"events": []any{}}},
		"AppCreatesApps":         {writer, `mutation { createApp(input: {name: "x", scopes: ["catalog:read"]}) { app { id } } }`, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if resp := a.post(c.token, c.query, c.vars); resp.code() != "FORBIDDEN" {
				t.Fatalf("errors = %+v", resp.Errors)
			}
		})
	}
	var created struct {
		CreateProduct struct{ Product *struct{ ID string } }
	}
	a.ok(writer, createProductMutation, newProduct, &created)
	if created.CreateProduct.Product == nil {
		t.Fatal("catalog:write app could not create a product in its shop")
	}

	// Revoking the app cuts its tokens off at once.
	a.ok(mine.sellerToken, `mutation($id: ID!) { revokeApp(id: $id) { app { revokedAt } } }`, map[string]any{"id": writerID}, nil)
	if resp := a.post(writer, `{ products { edges { cursor } } }`, nil); resp.Status != http.StatusUnauthorized {
		t.Fatalf("revoked app token: %d %+v", resp.Status, resp.Errors)
	}
}

func TestTokenEndpoint(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("oauth")
	var out struct {
		CreateApp struct {
			App          struct{ ClientID string }
			ClientSecret string
		}
	}
	a.ok(f.sellerToken, `mutation($shop: ID!) { createApp(input: {name: "Sync", scopes: ["catalog:read", "orders:read"], shopId: $shop}) {
		app { clientId } clientSecret } }`, map[string]any{"shop": f.shopID}, &out)
	id, secret := out.CreateApp.App.ClientID, out.CreateApp.ClientSecret
	basic := func(u, p string) string {
		return base64Encode(url.QueryEscape(u) + ":" + url.QueryEscape(p))
	}
	cases := []struct {
		name   string
		form   url.Values
		basic  string
		status int
		err    string
	}{
		{"BasicAuth", url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}, basic(id, secret), 200, ""},
		{"BodyCredentials", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}, "", 200, ""},
		{"WrongSecret", url.Values{"grant_type": {"client_credentials"}}, basic(id, "nope"), 401, "invalid_client"},
		{"UnknownClient", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app_nobody"}, "client_secret": {"x"}}, "", 401, "invalid_client"},
		{"ScopeBeyondApp", url.Values{"grant_type": {"client_credentials"}, "scope": {"catalog:write"}}, basic(id, secret), 400, "invalid_scope"},
		{"PasswordGrant", url.Values{"grant_type": {"password"}}, basic(id, secret), 400, "unsupported_grant_type"},
		{"NoCredentials", url.Values{"grant_type": {"client_credentials"}}, "", 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := a.tokenRequest(c.form, c.basic)
			if status != c.status || (c.err != "" && body["error"] != c.err) || (c.err == "" && body["token_type"] != "Bearer") {
				t.Fatalf("status %d body %v", status, body)
			}
		})
	}
	_, body := a.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}, basic(id, secret))
	if resp := a.post(body["access_token"].(string), `{ products { edges { cursor } } }`, nil); resp.code() != "FORBIDDEN" {
		t.Fatalf("a token narrowed to orders:read reads the catalog: %+v", resp.Errors)
	}
}

func TestPlatformAppsAreForAdmins(t *testing.T) {
	a := newTestAPI(t)
	seller, _ := a.user("seller", false)
	if resp := a.post(seller, `mutation { createApp(input: {name: "x", scopes: ["catalog:read"]}) { app { id } } }`, nil); resp.code() != "FORBIDDEN" {
		t.Fatalf("seller registered a platform app: %+v", resp.Errors)
	}
	adminToken, admin := a.user("root", false)
	if _, err := a.db.Exec(`UPDATE users SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	token, _ := a.appToken(adminToken, nil, []string{"catalog:read", "catalog:write"})
	f := a.fixture("any")
	var out struct {
		UpdateProduct struct{ Product struct{ Title string } }
	}
	a.ok(token, `mutation($id: ID!) { updateProduct(input: {id: $id, title: "Moderated"}) { product { title } } }`, map[string]any{"id": f.productID}, &out)
	if out.UpdateProduct.Product.Title != "Moderated" {
		t.Fatalf("platform app update = %+v", out)
	}
}

func TestProductionHidesTheSchemaFromAllButAdmins(t *testing.T) {
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.Production = true })
	buyer, _ := a.user("buyer", false)
	adminToken, admin := a.user("root", false)
	if _, err := a.db.Exec(`UPDATE users SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	const q = `{ __schema { queryType { name } } }`
	for name, token := range map[string]string{"Anonymous": "", "Buyer": buyer} {
		if resp := a.post(token, q, nil); resp.code() != "FORBIDDEN" {
			t.Fatalf("%s introspected the schema in production: %+v", name, resp.Errors)
		}
	}
	a.ok(adminToken, q, nil, nil)
	if resp := a.post("", `{ shopz { totalCount } }`, nil); len(resp.Errors) == 0 || strings.Contains(resp.Errors[0].Message, "Did you mean") {
		t.Fatalf("suggestions in production: %+v", resp.Errors)
	}
	dev := newTestAPI(t)
	if resp := dev.post("", `{ shopz { totalCount } }`, nil); len(resp.Errors) == 0 || !strings.Contains(resp.Errors[0].Message, "Did you mean") {
		t.Fatalf("no suggestions in development: %+v", resp.Errors)
	}
	dev.ok("", q, nil, nil)
}

func TestNoMassAssignment(t *testing.T) {
	a := newTestAPI(t)
	mine := a.fixture("mine")
	theirs := a.fixture("theirs")
	for name, q := range map[string]string{
		"MoveProductToAnotherShop": `mutation($id: ID!, $shop: ID!) { updateProduct(input: {id: $id, shopId: $shop}) { product { id } } }`,
		"SetOrderTotals": `mutation($id: ID!, $shop: ID!) { checkout(input: {lines: [{variantId: $id, quantity: 1, price: "0.01"}],
			idempotencyKey: "k", shippingAddress: {name: "a", line1: "b", city: "c", postalCode: "d", countryCode: "US"},
			payment: {token: "tok_ok"}, shopId: $shop}) { orders { id } } }`,
	} {
		t.Run(name, func(t *testing.T) {
			resp := a.post(mine.sellerToken, q, map[string]any{"id": mine.productID, "shop": theirs.shopID})
			if resp.code() != "GRAPHQL_VALIDATION_FAILED" {
				t.Fatalf("errors = %+v", resp.Errors)
			}
		})
	}
	if a.count("orders") != 0 {
		t.Fatal("an order was written")
	}
}

func TestPrivateObjectsAreInvisibleThroughEveryPath(t *testing.T) {
	a := newTestAPI(t)
	owner := a.fixture("owner")
	stranger, _ := a.user("stranger", false)
	_, appID := a.appToken(owner.sellerToken, owner.shopID, []string{"catalog:read"})
	var me struct {
		Viewer struct{ Cart struct{ ID string } }
	}
	a.ok(owner.sellerToken, `{ viewer { cart { id } } }`, nil, &me)
	draft := a.product(owner.sellerToken, owner.shopID, "hidden", map[string]any{"status": "DRAFT"})
	order := a.buy(owner.sellerToken, "own", owner.variantIDs[0], 1)
	for name, id := range map[string]string{"Cart": me.Viewer.Cart.ID, "App": appID, "DraftProduct": draft.ID, "Order": order} {
		t.Run(name, func(t *testing.T) {
			for _, token := range []string{"", stranger} {
				var out struct {
					Node  *struct{ ID string }
					Nodes []*struct{ ID string }
				}
				a.ok(token, `query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }`, map[string]any{"id": id}, &out)
				if out.Node != nil || out.Nodes[0] != nil {
					t.Fatalf("visible to %q: %+v", token, out)
				}
			}
			var own struct{ Node *struct{ ID string } }
			a.ok(owner.sellerToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &own)
			if own.Node == nil {
				t.Fatal("invisible to its owner")
			}
		})
	}
}
