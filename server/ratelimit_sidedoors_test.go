package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"showcase/store"
	"showcase/store/payment"
	"showcase/store/storetest"
)

// gqlReply is a GraphQL reply with its HTTP status and headers.
type gqlReply struct {
	status int
	header http.Header
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	raw string
}

func (r gqlReply) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// sendGQL posts payload (a JSON object) to /graphql, or with get sends it as a
// GET query string; accept sets the Accept header.
func sendGQL(t *testing.T, srv *httptest.Server, method, accept string, payload map[string]any) gqlReply {
	t.Helper()
	var req *http.Request
	if method == http.MethodGet {
		q := url.Values{}
		for k, v := range payload {
			if s, ok := v.(string); ok {
				q.Set(k, s)
			} else {
				b, _ := json.Marshal(v)
				q.Set(k, string(b))
			}
		}
		req, _ = http.NewRequest(http.MethodGet, srv.URL+"/graphql?"+q.Encode(), nil)
	} else {
		body, _ := json.Marshal(payload)
		req, _ = http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := gqlReply{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out)
	return out
}

func gql(t *testing.T, srv *httptest.Server, query string) gqlReply {
	t.Helper()
	return sendGQL(t, srv, http.MethodPost, "", map[string]any{"query": query})
}

// wantRateLimited fails unless r is a 429 with RATE_LIMITED, a Retry-After
// when retry is set, and no data.
func wantRateLimited(t *testing.T, what string, r gqlReply, retry bool) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" {
		t.Fatalf("%s: status %d, code %q, want 429 RATE_LIMITED: %s", what, r.status, r.code(), r.raw)
	}
	if retry && r.header.Get("Retry-After") == "" {
		t.Fatalf("%s: no Retry-After", what)
	}
	for k, v := range r.Data {
		if string(v) != "null" {
			t.Fatalf("%s: refused, yet data.%s = %s", what, k, v)
		}
	}
}

const badLogIn = `logIn(input: {email: "x@example.com", password: "wrong-password"}) { token }`

// TestCredentialChecksHaveNoSideDoors: every way of wrapping a credential
// check draws from the address's bucket of 5, one token per attempt.
func TestCredentialChecksHaveNoSideDoors(t *testing.T) {
	db := storetest.NewDB(t)
	tokens := testTokens(t)
	// Buckets of the default 5 that do not refill while a slow machine runs
	// the test (bcrypt under the race detector takes seconds).
	fresh := func(t *testing.T, env map[string]string) *httptest.Server {
		if env == nil {
			env = map[string]string{"AUTH_RATE_LIMIT_PERIOD": "1h"}
		}
		return testServer(t, db, tokens, nil, env)
	}
	// fiveThenRefused sends the same request until the sixth, which must be refused.
	fiveThenRefused := func(t *testing.T, srv *httptest.Server, request func() gqlReply) {
		t.Helper()
		for i := 1; i <= 5; i++ {
			if r := request(); r.status != http.StatusOK || r.code() != "" {
				t.Fatalf("attempt %d: status %d: %s", i, r.status, r.raw)
			}
		}
		for i := 6; i <= 8; i++ {
			wantRateLimited(t, fmt.Sprintf("attempt %d", i), request(), true)
		}
	}
	shapes := map[string]string{
		"Plain":          `mutation { ` + badLogIn + ` }`,
		"InlineFragment": `mutation { ... on Mutation { ` + badLogIn + ` } }`,
		"BareInline":     `mutation { ... { ` + badLogIn + ` } }`,
		"NamedFragment":  `mutation { ...Try } fragment Try on Mutation { ` + badLogIn + ` }`,
		"NestedFragment": `mutation { ...A } fragment A on Mutation { ... on Mutation { ...B } } fragment B on Mutation { ` + badLogIn + ` }`,
		"Variables":      `mutation($e: String!) { logIn(input: {email: $e, password: "wrong-password"}) { token } }`,
	}
	for name, query := range shapes {
		t.Run(name, func(t *testing.T) {
			srv := fresh(t, nil)
			fiveThenRefused(t, srv, func() gqlReply {
				return sendGQL(t, srv, http.MethodPost, "", map[string]any{"query": query, "variables": map[string]any{"e": "x@example.com"}})
			})
		})
	}
	t.Run("PersistedQuery", func(t *testing.T) {
		srv := fresh(t, nil)
		query := `mutation { ... on Mutation { ` + badLogIn + ` } }`
		sum := sha256.Sum256([]byte(query))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		first := true
		fiveThenRefused(t, srv, func() gqlReply {
			payload := map[string]any{"extensions": ext}
			if first {
				payload["query"], first = query, false
			}
			return sendGQL(t, srv, http.MethodPost, "", payload)
		})
	})
	t.Run("Aliases", func(t *testing.T) {
		srv := fresh(t, nil)
		var many strings.Builder
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&many, "a%d: %s\n", i, badLogIn)
		}
		r := gql(t, srv, "mutation { "+many.String()+" }")
		wantRateLimited(t, "30 aliased log-ins", r, false)
		if !strings.Contains(r.Errors[0].Message, "30 credential checks") {
			t.Fatalf("message %q does not say why", r.Errors[0].Message)
		}
		// Refused whole, it checked nothing and took nothing: 3 + 2 attempts
		// still fit, and then the bucket is empty.
		if r := gql(t, srv, "mutation { a: "+badLogIn+" b: "+badLogIn+" c: "+badLogIn+" }"); r.status != http.StatusOK {
			t.Fatalf("3 attempts after a refused request: %d %s", r.status, r.raw)
		}
		if r := gql(t, srv, "mutation { a: "+badLogIn+" b: "+badLogIn+" }"); r.status != http.StatusOK {
			t.Fatalf("2 more attempts: %d %s", r.status, r.raw)
		}
		wantRateLimited(t, "the sixth attempt", gql(t, srv, "mutation { "+badLogIn+" }"), true)
	})
	t.Run("SignUpAliasesCreateNothing", func(t *testing.T) {
		srv := fresh(t, nil)
		var many strings.Builder
		for i := 0; i < 6; i++ {
			fmt.Fprintf(&many, `s%d: signUp(input: {email: "new%d@example.com", password: "long-enough-password", handle: "new%d", displayName: "N"}) { token }`+"\n", i, i, i)
		}
		wantRateLimited(t, "6 aliased sign-ups", gql(t, srv, "mutation { "+many.String()+" }"), false)
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM users WHERE email LIKE 'new%@example.com'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d accounts created by a refused request (err %v)", n, err)
		}
	})
	t.Run("EveryCredentialCheckShares", func(t *testing.T) {
		srv := fresh(t, nil)
		for _, q := range []string{
			`mutation { ` + badLogIn + ` }`,
			`mutation { refreshSession(refreshToken: "guess-1") { token } }`,
			`mutation { logOut(refreshToken: "guess-2") { ok } }`,
			`mutation { signUp(input: {email: "bad", password: "x", handle: "h", displayName: "d"}) { token } }`,
			`mutation { refreshSession(refreshToken: "guess-3") { token } }`,
		} {
			if r := gql(t, srv, q); r.status != http.StatusOK {
				t.Fatalf("%s: %d %s", q, r.status, r.raw)
			}
		}
		wantRateLimited(t, "a log-out after 5 checks", gql(t, srv, `mutation { logOut(refreshToken: "guess-4") { ok } }`), true)
	})
	t.Run("Websocket", func(t *testing.T) {
		srv := fresh(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
			&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(coderws.StatusNormalClosure, "done")
		type msg struct {
			ID      string          `json:"id,omitempty"`
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload,omitempty"`
		}
		if err := wsjson.Write(ctx, conn, msg{Type: "connection_init", Payload: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		var ack msg
		if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
			t.Fatalf("ack: %v %+v", err, ack)
		}
		for i := 1; i <= 6; i++ {
			payload, _ := json.Marshal(map[string]any{"query": `mutation { ... on Mutation { ` + badLogIn + ` } }`})
			id := fmt.Sprint(i)
			if err := wsjson.Write(ctx, conn, msg{ID: id, Type: "subscribe", Payload: payload}); err != nil {
				t.Fatal(err)
			}
			var m msg
			for m.ID != id || (m.Type != "next" && m.Type != "error") {
				if err := wsjson.Read(ctx, conn, &m); err != nil {
					t.Fatal(err)
				}
			}
			limited := strings.Contains(string(m.Payload), "RATE_LIMITED")
			if limited != (i == 6) {
				t.Fatalf("websocket log-in %d: %s %s", i, m.Type, m.Payload)
			}
		}
	})
	t.Run("Setting", func(t *testing.T) {
		srv := fresh(t, map[string]string{"AUTH_RATE_LIMIT_BURST": "2", "AUTH_RATE_LIMIT_PERIOD": "1h"})
		for i := 1; i <= 2; i++ {
			if r := gql(t, srv, `mutation { `+badLogIn+` }`); r.status != http.StatusOK {
				t.Fatalf("attempt %d: %d", i, r.status)
			}
		}
		r := gql(t, srv, `mutation { `+badLogIn+` }`)
		wantRateLimited(t, "the third attempt with AUTH_RATE_LIMIT_BURST=2", r, true)
		if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 3000 { // about an hour: one more every hour
			t.Fatalf("Retry-After %d with AUTH_RATE_LIMIT_PERIOD=1h", ra)
		}
		roomy := fresh(t, map[string]string{"AUTH_RATE_LIMIT_BURST": "50", "AUTH_RATE_LIMIT_PERIOD": "1h"})
		for i := 1; i <= 20; i++ {
			if r := gql(t, roomy, `mutation { `+badLogIn+` }`); r.status != http.StatusOK {
				t.Fatalf("attempt %d with AUTH_RATE_LIMIT_BURST=50: %d", i, r.status)
			}
		}
	})
}

// manyFields is a query selecting n fields (a multiple of 10): ten aliased
// roots of n/10 - 1 fields each, so that no selection repeats a field often
// enough for the field-merge limit to refuse it.
func manyFields(n int) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "s%d: shops(first: 1) { %s} ", i, strings.Repeat("__typename ", n/10-1))
	}
	b.WriteString("}")
	return b.String()
}

// TestCostIsChargedOnWhatRuns: a persisted query, a GET and an SSE request
// cost what their operation selects, not one token each.
func TestCostIsChargedOnWhatRuns(t *testing.T) {
	db := storetest.NewDB(t)
	tokens := testTokens(t)
	// A bucket of 10 that does not refill within the test; 150 fields cost 4.
	env := map[string]string{"RATE_LIMIT_RPS": "0.0001", "RATE_LIMIT_BURST": "10", "RESPONSE_CACHE_TTL": "0"}
	query := manyFields(150)
	t.Run("PersistedHashOnly", func(t *testing.T) {
		srv := testServer(t, db, tokens, nil, env)
		sum := sha256.Sum256([]byte(query))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		if r := sendGQL(t, srv, http.MethodPost, "", map[string]any{"query": query, "extensions": ext}); r.status != 200 {
			t.Fatalf("registering: %d %s", r.status, r.raw)
		}
		if r := sendGQL(t, srv, http.MethodPost, "", map[string]any{"extensions": ext}); r.status != 200 {
			t.Fatalf("by hash with 6 tokens left: %d %s", r.status, r.raw)
		}
		wantRateLimited(t, "by hash with 2 tokens left", sendGQL(t, srv, http.MethodPost, "", map[string]any{"extensions": ext}), true)
	})
	t.Run("GET", func(t *testing.T) {
		srv := testServer(t, db, tokens, nil, env)
		for i := 1; i <= 2; i++ {
			if r := sendGQL(t, srv, http.MethodGet, "", map[string]any{"query": query}); r.status != 200 {
				t.Fatalf("GET %d: %d %s", i, r.status, r.raw)
			}
		}
		wantRateLimited(t, "a third GET of 150 fields", sendGQL(t, srv, http.MethodGet, "", map[string]any{"query": query}), true)
	})
	t.Run("SSE", func(t *testing.T) {
		srv := testServer(t, db, tokens, nil, env)
		for i := 1; i <= 2; i++ {
			if r := sendGQL(t, srv, http.MethodPost, "text/event-stream", map[string]any{"query": query}); r.status != 200 {
				t.Fatalf("SSE %d: %d %s", i, r.status, r.raw)
			}
		}
		r := sendGQL(t, srv, http.MethodPost, "text/event-stream", map[string]any{"query": query})
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.raw, "RATE_LIMITED") {
			t.Fatalf("a third SSE request: %d, Retry-After %q: %s", r.status, r.header.Get("Retry-After"), r.raw)
		}
	})
	t.Run("SharedAnswers", func(t *testing.T) {
		srv := testServer(t, db, tokens, nil, map[string]string{"RATE_LIMIT_RPS": "0.0001", "RATE_LIMIT_BURST": "10", "RESPONSE_CACHE_TTL": "1h"})
		for i := 1; i <= 10; i++ {
			if r := gql(t, srv, "{ __typename }"); r.status != 200 {
				t.Fatalf("request %d: %d %s", i, r.status, r.raw)
			}
		}
		wantRateLimited(t, "an 11th shared answer", gql(t, srv, "{ __typename }"), true)
	})
}

// TestViewsCannotBeBought: 500 identical VIEW events with one deviceId, sent
// four times, add one view and one click; each event costs rate-limit
// tokens, and a refused batch changes nothing.
func TestViewsCannotBeBought(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	u, err := db.CreateUser(ctx, store.NewUser{Email: "s@example.com", PasswordHash: "-", Handle: "seller", DisplayName: "S"})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := db.CreateShop(ctx, store.NewShop{OwnerID: u.ID, Handle: "shop", Name: "Shop", OperatingModel: store.SelfOperated, CurrencyCode: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.CreateProduct(ctx, store.NewProduct{ShopID: shop.ID, Title: "Serum", Status: store.ProductActive,
		Variants: []store.NewVariant{{SKU: "S-1", Title: "30 ml", Price: store.Money{Minor: 1990, CurrencyCode: "USD"}, Stock: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.PublishVideo(ctx, store.NewVideo{AuthorID: u.ID, ShopID: &shop.ID, Caption: "c", PlaybackURL: "https://x/1",
		DurationSeconds: 10, ProductIDs: []int64{p.ID}})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(t *testing.T, env map[string]string) (*httptest.Server, *store.EventBuffer) {
		cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		events := store.NewEventBuffer(db)
		api, _ := newServer(cfg, db, testTokens(t), payment.NewTestProvider(db.DB.DB), events, nil)
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		return srv, events
	}
	srv, events := serve(t, map[string]string{"RATE_LIMIT_BURST": "1000", "RATE_LIMIT_RPS": "1000", "RESPONSE_CACHE_TTL": "0"})
	var ids struct {
		Feed struct {
			Edges []struct {
				Node struct {
					ID       string
					Products struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
			}
		}
	}
	r := gql(t, srv, `{ feed(first: 1) { edges { node { id products(first: 1) { edges { node { id } } } } } } }`)
	if err := json.Unmarshal([]byte(r.raw), &struct{ Data any }{&ids}); err != nil || len(ids.Feed.Edges) != 1 {
		t.Fatalf("feed: %s", r.raw)
	}
	videoID, productID := ids.Feed.Edges[0].Node.ID, ids.Feed.Edges[0].Node.Products.Edges[0].Node.ID
	batch := func(n int, device string) map[string]any {
		evs := make([]map[string]any, n)
		for i := range evs {
			evs[i] = map[string]any{"type": "VIEW", "contentId": videoID, "watchMs": 1000, "deviceId": device}
			if i%2 == 1 {
				evs[i] = map[string]any{"type": "PRODUCT_CLICK", "contentId": videoID, "productId": productID, "deviceId": device}
			}
		}
		return map[string]any{"query": `mutation($e: [EngagementEventInput!]!) { recordEvents(events: $e) { accepted } }`, "variables": map[string]any{"e": evs}}
	}
	figures := func(t *testing.T, srv *httptest.Server, events *store.EventBuffer) (views, clicks, viewCount int) {
		t.Helper()
		if err := events.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var out struct {
			Video struct{ Metrics struct{ Views int } }
		}
		r := sendGQL(t, srv, http.MethodPost, "", map[string]any{"query": `query($id: ID!) { video(id: $id) { metrics(window: LAST_HOUR) { views } } }`,
			"variables": map[string]any{"id": videoID}})
		if err := json.Unmarshal([]byte(r.raw), &struct{ Data any }{&out}); err != nil {
			t.Fatalf("metrics: %s", r.raw)
		}
		if err := db.QueryRowContext(ctx, `SELECT coalesce(sum(product_clicks), 0), (SELECT view_count FROM contents WHERE id = $1)
			FROM content_event_counts WHERE content_id = $1`, v.ID).Scan(&clicks, &viewCount); err != nil {
			t.Fatal(err)
		}
		return out.Video.Metrics.Views, clicks, viewCount
	}
	t.Run("OncePerDevicePerWindow", func(t *testing.T) {
		for i := 1; i <= 4; i++ {
			if r := sendGQL(t, srv, http.MethodPost, "", batch(500, "d-81f2")); r.status != 200 || !strings.Contains(r.raw, `"accepted":500`) {
				t.Fatalf("batch %d: %d %s", i, r.status, r.raw)
			}
		}
		if views, clicks, viewCount := figures(t, srv, events); views != 1 || clicks != 1 || viewCount != 1 {
			t.Fatalf("2,000 views and clicks from one device: views %d, clicks %d, view_count %d; want 1 each", views, clicks, viewCount)
		}
		sendGQL(t, srv, http.MethodPost, "", batch(2, "another-device"))
		if views, clicks, _ := figures(t, srv, events); views != 2 || clicks != 2 {
			t.Fatalf("another device: views %d, clicks %d; want 2 each", views, clicks)
		}
	})
	t.Run("ChargedPerEvent", func(t *testing.T) {
		// The default bucket of 60: a batch of 500 costs 51 tokens, so a second
		// one at once is refused, and changes nothing.
		srv, events := serve(t, map[string]string{"RESPONSE_CACHE_TTL": "0"}) // the default rate limits
		before, _, _ := figures(t, srv, events)
		if r := sendGQL(t, srv, http.MethodPost, "", batch(500, "fresh-1")); r.status != 200 {
			t.Fatalf("first batch of 500: %d %s", r.status, r.raw)
		}
		wantRateLimited(t, "a second batch of 500 at once", sendGQL(t, srv, http.MethodPost, "", batch(500, "fresh-2")), true)
		if views, _, _ := figures(t, srv, events); views != before+1 {
			t.Fatalf("views %d, want %d: only the first batch's device counts", views, before+1)
		}
	})
}
