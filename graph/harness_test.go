package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"showcase/auth"
	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
	"showcase/store/storetest"
)

func TestMain(m *testing.M) {
	// One info line per request would drown the test output.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	storetest.Main(m)
}

// testAPI drives the real GraphQL handler, behind the real auth middleware,
// over a fresh database.
type testAPI struct {
	t        testing.TB
	db       *store.DB
	dsn      string
	tokens   *auth.Tokens
	handler  http.Handler
	payments *payment.TestProvider
	events   *store.EventBuffer
	// statements counts the SQL statements of the last request.
	statements atomic.Int64
	// allStatements counts the SQL statements of every request.
	allStatements atomic.Int64
}

func newTestAPI(t testing.TB) *testAPI {
	t.Helper()
	return newTestAPIWith(t, func(*graph.Resolver) {})
}

// newTestAPIWith lets a test change the resolver's configuration.
func newTestAPIWith(t testing.TB, configure func(*graph.Resolver)) *testAPI {
	t.Helper()
	return newTestAPICached(t, 0, configure)
}

// newTestAPICached is newTestAPIWith with the anonymous response cache on
// for ttl (off when 0).
func newTestAPICached(t testing.TB, ttl time.Duration, configure func(*graph.Resolver)) *testAPI {
	t.Helper()
	dsn := storetest.DSN(t)
	db, err := store.Open(context.Background(), dsn, store.PoolOptions{MaxOpenConns: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a := &testAPI{t: t, db: db, dsn: dsn, tokens: tokens, payments: payment.NewTestProvider(db.DB.DB), events: store.NewEventBuffer(db)}
	a.serveWith(ttl, configure)
	return a
}

// serveWith builds the handler over a's database, with the anonymous
// response cache on for ttl (off when 0).
func (a *testAPI) serveWith(ttl time.Duration, configure func(*graph.Resolver)) {
	r := &graph.Resolver{DB: a.db, Tokens: a.tokens, Payments: a.payments, Events: a.events, FeedWeights: store.DefaultFeedWeights}
	configure(r)
	api := endpoint(a.tokens, a.db, r, ttl)
	a.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, counter := store.WithStatementCounter(r.Context())
		api.ServeHTTP(w, r.WithContext(ctx))
		a.statements.Store(counter.Load())
		a.allStatements.Add(counter.Load())
	})
}

// replica is a second server process on a's database: its own pool, its
// own provider client and loaders, the same signing key.
func (a *testAPI) replica() *testAPI {
	a.t.Helper()
	db, err := store.Open(context.Background(), a.dsn, store.PoolOptions{MaxOpenConns: 20})
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { db.Close() })
	b := &testAPI{t: a.t, db: db, dsn: a.dsn, tokens: a.tokens, payments: payment.NewTestProvider(db.DB.DB), events: store.NewEventBuffer(db)}
	b.serveWith(0, func(*graph.Resolver) {})
	return b
}

// endpoint composes the GraphQL endpoint as server/routes.go does (without
// the rate limit and the request timeout), over r, with the anonymous
// response cache on for cacheTTL (off when 0).
func endpoint(tokens *auth.Tokens, db *store.DB, r *graph.Resolver, cacheTTL time.Duration) http.Handler {
	return graph.WithRequestID(auth.Middleware(tokens, db,
		graph.GuardRequests(r.Observer, r.MaxUploadBytes, graph.NewResponseCache(cacheTTL, r.Observer, r.RateLimiter).Middleware(graph.NewHandler(r)))))
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Header http.Header
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// code returns the extensions.code of the first error, or "".
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// post sends a POST /graphql request and decodes the reply.
func (a *testAPI) post(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	resp, err := a.postRaw(token, query, vars)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp
}

func (a *testAPI) serve(req *http.Request) gqlResponse {
	a.t.Helper()
	resp, err := a.serveRaw(req)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp
}

// serveRaw is serve for goroutines, which may not fail the test themselves.
func (a *testAPI) serveRaw(req *http.Request) (gqlResponse, error) {
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	var resp gqlResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		return resp, fmt.Errorf("decode response (status %d): %v: %s", rec.Code, err, rec.Body.String())
	}
	resp.Status = rec.Code
	resp.Header = rec.Header()
	return resp, nil
}

// postRaw is post for goroutines.
func (a *testAPI) postRaw(token, query string, vars map[string]any) (gqlResponse, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.serveRaw(req)
}

// ok sends a request that must succeed and decodes its data into out.
func (a *testAPI) ok(token, query string, vars map[string]any, out any) {
	a.t.Helper()
	resp := a.post(token, query, vars)
	if len(resp.Errors) > 0 || resp.Status != http.StatusOK {
		a.t.Fatalf("unexpected errors (status %d): %+v", resp.Status, resp.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			a.t.Fatalf("decode data: %v: %s", err, resp.Data)
		}
	}
}

// user creates an account directly in the store and returns its token.
func (a *testAPI) user(handle string, creator bool) (string, *store.User) {
	a.t.Helper()
	ctx := context.Background()
	u, err := a.db.CreateUser(ctx, store.NewUser{Email: handle + "@example.com", PasswordHash: "-", Handle: handle, DisplayName: handle})
	if err != nil {
		a.t.Fatal(err)
	}
	if creator {
		if _, err := a.db.ExecContext(ctx, `UPDATE users SET is_creator = true WHERE id = $1`, u.ID); err != nil {
			a.t.Fatal(err)
		}
	}
	token, err := a.tokens.Issue(u.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return token, u
}

type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

// fixture is a seller with a shop and one product of two variants.
type fixture struct {
	sellerToken string
	shopID      string
	productID   string
	variantIDs  []string
}

const createShopMutation = `mutation($in: CreateShopInput!) { createShop(input: $in) { shop { id handle currencyCode } userErrors { field message code } } }`

const createProductMutation = `mutation($in: CreateProductInput!) { createProduct(input: $in) {
	product { id title status tags priceRange { min { amount currencyCode } max { amount } }
		variants { edges { node { id sku price { amount currencyCode } availableForSale stock } } } }
	userErrors { field message code } } }`

func (a *testAPI) shop(token, handle string) string {
	a.t.Helper()
	var out struct {
		CreateShop struct {
			Shop       struct{ ID string }
			UserErrors []userError
		}
	}
	a.ok(token, createShopMutation, map[string]any{"in": map[string]any{
		"handle": handle, "name": "Shop " + handle, "operatingModel": "SELF_OPERATED"}}, &out)
	if len(out.CreateShop.UserErrors) > 0 {
		a.t.Fatalf("createShop: %+v", out.CreateShop.UserErrors)
	}
	return out.CreateShop.Shop.ID
}

type productOut struct {
	ID         string
	Title      string
	Status     string
	Tags       []string
	PriceRange struct {
		Min struct{ Amount, CurrencyCode string }
		Max struct{ Amount string }
	}
	Variants struct {
		Edges []struct {
			Node struct {
				ID               string
				SKU              string
				Price            struct{ Amount, CurrencyCode string }
				AvailableForSale bool
				Stock            int
			}
		}
	}
}

func (a *testAPI) product(token, shopID, title string, extra map[string]any) productOut {
	a.t.Helper()
	in := map[string]any{
		"shopId": shopID, "title": title, "description": "A " + title, "tags": []string{"skincare"},
		"variants": []map[string]any{
			{"sku": title + "-S", "title": "Small", "price": map[string]any{"amount": "19.90", "currencyCode": "USD"}, "stock": 5},
			{"sku": title + "-L", "title": "Large", "price": map[string]any{"amount": "29", "currencyCode": "USD"}, "stock": 0},
		},
	}
	for k, v := range extra {
		in[k] = v
	}
	var out struct {
		CreateProduct struct {
			Product    productOut
			UserErrors []userError
		}
	}
	a.ok(token, createProductMutation, map[string]any{"in": in}, &out)
	if len(out.CreateProduct.UserErrors) > 0 {
		a.t.Fatalf("createProduct: %+v", out.CreateProduct.UserErrors)
	}
	return out.CreateProduct.Product
}

func (a *testAPI) fixture(handle string) fixture {
	a.t.Helper()
	token, _ := a.user(handle, false)
	shopID := a.shop(token, handle+"-shop")
	p := a.product(token, shopID, handle+"-serum", nil)
	f := fixture{sellerToken: token, shopID: shopID, productID: p.ID}
	for _, e := range p.Variants.Edges {
		f.variantIDs = append(f.variantIDs, e.Node.ID)
	}
	return f
}

// jsonUnmarshalStrict decodes data, failing on fields the target lacks.
func jsonUnmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func base64Encode(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func base64Decode(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err
}

// httpPost sends a GraphQL request to a real server.
func httpPost(t *testing.T, srv *httptest.Server, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var resp gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		t.Fatal(err)
	}
	resp.Status = res.StatusCode
	return resp
}

// postExt sends a request with extensions (persisted queries).
func (a *testAPI) postExt(query, token string, ext map[string]any) gqlResponse {
	a.t.Helper()
	payload := map[string]any{"extensions": ext}
	if query != "" {
		payload["query"] = query
	}
	body, _ := json.Marshal(payload)
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.serve(req)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// reconcileUntil runs the payment reconciler's sweep until done says what it
// settled is enough (a payment becomes due only after its SettleAfter), or
// five seconds pass; it returns the last sweep's counts.
func (a *testAPI) reconcileUntil(p payment.Provider, done func(store.Reconciled) bool) store.Reconciled {
	a.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := a.db.ReconcilePayments(context.Background(), p)
		if err != nil {
			a.t.Fatal(err)
		}
		if done(n) || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}
