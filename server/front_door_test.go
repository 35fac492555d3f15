package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"showcase/store"
	"showcase/store/storetest"
)

// reply is a decoded GraphQL-over-HTTP response.
type reply struct {
	Status      int
	ContentType string
	Raw         []byte
	Data        json.RawMessage `json:"data"`
	Errors      []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// code returns the first error's extensions.code, or "".
func (r reply) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// send posts body (JSON text) to a server's /graphql with headers and
// decodes what comes back; event streams are left undecoded in Raw.
func send(t *testing.T, base, body string, headers map[string]string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Raw: raw}
	if !strings.HasPrefix(r.ContentType, "text/event-stream") {
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("status %d: %v: %s", res.StatusCode, err, raw)
		}
	}
	return r
}

func queryBody(query string, variables map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	return string(b)
}

// adminToken makes a user an admin and returns their token.
func adminToken(t *testing.T, db *store.DB, srvTokens interface {
	Issue(int64) (string, error)
}) string {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.NewUser{Email: "root@example.com", PasswordHash: "-", Handle: "root.admin", DisplayName: "Root"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE users SET is_admin = true WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	token, err := srvTokens.Issue(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestStandardIntrospectionQuery sends graphql-js 16.11.0's
// getIntrospectionQuery() (what code generators, Apollo and Relay tooling
// send; 13 deep) through the real routes: everyone may run it in
// development, only admins in production, and introspection documents
// that nest past their own bounds are still refused.
func TestStandardIntrospectionQuery(t *testing.T) {
	body := string(bytes.TrimSpace(runNode(t, "introspection.mjs")))
	db := storetest.NewDB(t)
	tokens := testTokens(t)
	admin := adminToken(t, db, tokens)
	dev := testServer(t, db, tokens, nil, nil)
	prod := testServer(t, db, tokens, nil, map[string]string{"APP_ENV": "production"})

	schemaOf := func(t *testing.T, r reply) {
		t.Helper()
		var data struct {
			Schema struct {
				QueryType struct{ Name string }
				Types     []struct{ Name string }
			} `json:"__schema"`
		}
		if r.Status != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Data, &data) != nil {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
		if data.Schema.QueryType.Name != "Query" || len(data.Schema.Types) < 20 {
			t.Fatalf("schema: %s", r.Raw[:min(len(r.Raw), 300)])
		}
	}
	t.Run("DevelopmentAnyone", func(t *testing.T) {
		schemaOf(t, send(t, dev.URL, body, nil))
	})
	t.Run("ProductionAdmin", func(t *testing.T) {
		schemaOf(t, send(t, prod.URL, body, map[string]string{"Authorization": "Bearer " + admin}))
	})
	t.Run("ProductionAnonymous", func(t *testing.T) {
		if r := send(t, prod.URL, body, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	})
	ofTypes := "{ __type(name: \"Query\") { " + strings.Repeat("ofType { ", 25) + "name" + strings.Repeat(" }", 25) + " } }"
	fanOut := "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
	fanOutByFragments := "{ __schema { types { ...A } } } fragment A on __Type { fields { type { ...B } } } " +
		"fragment B on __Type { interfaces { ...C } } fragment C on __Type { possibleTypes { name } }"
	for name, q := range map[string]string{"DeepOfType": ofTypes, "FieldsOfFieldsOfFields": fanOut, "ThroughFragments": fanOutByFragments} {
		t.Run("Refuses"+name, func(t *testing.T) {
			if r := send(t, dev.URL, queryBody(q, nil), nil); r.code() != "DEPTH_LIMIT_EXCEEDED" {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
		})
	}
}

// TestNoSuggestionsInProduction sends a mistake of each kind gqlparser's
// validation suggests a fix for: in production nobody but an admin is told
// the schema's names, in development everyone is.
func TestNoSuggestionsInProduction(t *testing.T) {
	db := storetest.NewDB(t)
	tokens := testTokens(t)
	admin := adminToken(t, db, tokens)
	prod := testServer(t, db, tokens, nil, map[string]string{"APP_ENV": "production"})
	dev := testServer(t, db, tokens, nil, nil)
	mistakes := map[string]struct {
		query     string
		variables map[string]any
	}{
		"Argument":         {`{ shops(frist: 1) { totalCount } }`, nil},
		"EnumValue":        {`{ shops { edges { node { metrics(window: LAST_HOURS) { views } } } } }`, nil},
		"Field":            {`{ feeed { totalCount } }`, nil},
		"InlineFragment":   {`{ feed { edges { node { caption } } } }`, nil},
		"InputField":       {`{ products(filter: { serch: "serum" }) { totalCount } }`, nil},
		"TypeName":         {`{ shops { edges { node { ...S } } } } fragment S on Shopp { name }`, nil},
		"SubfieldsMissing": {`{ feed }`, nil},
	}
	for name, m := range mistakes {
		t.Run(name, func(t *testing.T) {
			// The mistake is one gqlparser suggests a fix for.
			if r := send(t, dev.URL, queryBody(m.query, m.variables), nil); !strings.Contains(string(r.Raw), "Did you mean") {
				t.Fatalf("development does not suggest: %s", r.Raw)
			}
			r := send(t, prod.URL, queryBody(m.query, m.variables), nil)
			if len(r.Errors) == 0 {
				t.Fatalf("no error: %s", r.Raw)
			}
			if strings.Contains(string(r.Raw), "Did you mean") {
				t.Fatalf("production suggests to an anonymous caller: %s", r.Raw)
			}
			// The same over Server-Sent Events.
			r = send(t, prod.URL, queryBody(m.query, m.variables), map[string]string{"Accept": "text/event-stream"})
			if !strings.HasPrefix(r.ContentType, "text/event-stream") || !strings.Contains(string(r.Raw), "errors") ||
				strings.Contains(string(r.Raw), "Did you mean") {
				t.Fatalf("over SSE: %s: %s", r.ContentType, r.Raw)
			}
		})
	}
	for _, c := range []struct {
		name, base, token string
	}{{"Development", dev.URL, ""}, {"ProductionAdmin", prod.URL, admin}} {
		t.Run(c.name+"Suggests", func(t *testing.T) {
			headers := map[string]string{}
			if c.token != "" {
				headers["Authorization"] = "Bearer " + c.token
			}
			if r := send(t, c.base, queryBody(mistakes["Argument"].query, nil), headers); !strings.Contains(string(r.Raw), `Did you mean \"first\"?`) {
				t.Fatalf("no suggestion: %s", r.Raw)
			}
		})
	}
}

// urqlAccept is what urql (@urql/core 6) sends with every request.
const urqlAccept = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"

// TestContentNegotiation checks the response's media type against the
// Accept headers clients send: event streams only for subscriptions or when
// the client prefers them, JSON by the client's preference otherwise.
func TestContentNegotiation(t *testing.T) {
	db := storetest.NewDB(t)
	srv := testServer(t, db, testTokens(t), nil, nil)
	const (
		query        = `{ __typename }`
		mutation     = `mutation { recordEvents(events: []) { accepted } }`
		subscription = `subscription { liveSessionEvents(sessionId: "bm90LWFuLWlk") { __typename } }`
	)
	for _, c := range []struct {
		name, accept, document, want string
	}{
		{"UrqlQuery", urqlAccept, query, "application/graphql-response+json"},
		{"UrqlMutation", urqlAccept, mutation, "application/graphql-response+json"},
		{"UrqlSubscription", urqlAccept, subscription, "text/event-stream"},
		{"NoAccept", "", query, "application/json"},
		{"AnyType", "*/*", query, "application/json"},
		{"ApplicationAnything", "application/*", mutation, "application/json"},
		{"PlainJSON", "application/json", query, "application/json"},
		{"ByQuality", "application/json;q=0.5, application/graphql-response+json", query, "application/graphql-response+json"},
		{"ByOrder", "application/json, application/graphql-response+json", query, "application/json"},
		{"PrefersStream", "text/event-stream", query, "text/event-stream"},
		{"PrefersStreamByQuality", "application/json;q=0.1, text/event-stream", mutation, "text/event-stream"},
		{"JSONPreferredButSubscription", "application/json, text/event-stream;q=0.2", subscription, "text/event-stream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			headers := map[string]string{}
			if c.accept != "" {
				headers["Accept"] = c.accept
			}
			r := send(t, srv.URL, queryBody(c.document, nil), headers)
			if r.ContentType != c.want {
				t.Fatalf("Content-Type %q, want %q (status %d): %s", r.ContentType, c.want, r.Status, r.Raw)
			}
			if c.want == "text/event-stream" {
				if !strings.Contains(string(r.Raw), "event: next") || !strings.Contains(string(r.Raw), "event: complete") {
					t.Fatalf("not an event stream: %s", r.Raw)
				}
				return
			}
			if r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
		})
	}
}

// TestRequestErrorStatus checks the status and shape of the answers to
// requests that fail before execution, by media type: application/json
// answers 200 whenever there is a GraphQL response, the
// application/graphql-response+json answer is 400, and neither carries a
// "data" entry.
func TestRequestErrorStatus(t *testing.T) {
	db := storetest.NewDB(t)
	srv := testServer(t, db, testTokens(t), nil, nil)
	deep := "{ feed { edges { node { shop { products { edges { node { shop { products { edges { node { shop { products { edges { node { id } } } } } } } } } } } } } } } }"
	failures := map[string]struct {
		query     string
		variables map[string]any
		code      string
	}{
		"Parse":      {`{ feed {`, nil, "GRAPHQL_PARSE_FAILED"},
		"Validation": {`{ noSuchField }`, nil, "GRAPHQL_VALIDATION_FAILED"},
		"Variables":  {`query($n: Int!) { shops(first: $n) { totalCount } }`, map[string]any{"n": "many"}, "GRAPHQL_VALIDATION_FAILED"},
		"Depth":      {deep, nil, "DEPTH_LIMIT_EXCEEDED"},
	}
	for name, f := range failures {
		for accept, status := range map[string]int{"application/json": 200, "": 200, "*/*": 200, "application/graphql-response+json": 400} {
			t.Run(name+"/"+accept, func(t *testing.T) {
				r := send(t, srv.URL, queryBody(f.query, f.variables), map[string]string{"Accept": accept})
				if r.Status != status || r.code() != f.code || r.Data != nil {
					t.Fatalf("status %d, want %d and %s without data: %s", r.Status, status, f.code, r.Raw)
				}
			})
		}
	}
}

// TestWrongJSONTypes sends bodies whose parameters have the wrong JSON
// types: they are the client's mistake, so 400 BAD_REQUEST logged at info,
// never INTERNAL or an error line.
func TestWrongJSONTypes(t *testing.T) {
	var logs lockedBuffer
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(previous) })
	db := storetest.NewDB(t)
	srv := testServer(t, db, testTokens(t), nil, nil)
	for name, body := range map[string]string{
		"QueryNumber":         `{"query": 1}`,
		"QueryObject":         `{"query": {"obj": "ect"}}`,
		"OperationNameNumber": `{"query": "{ __typename }", "operationName": 0}`,
		"VariablesString":     `{"query": "{ __typename }", "variables": "x"}`,
		"VariablesArray":      `{"query": "{ __typename }", "variables": ["array"]}`,
		"ExtensionsFalse":     `{"query": "{ __typename }", "extensions": false}`,
		"NoQuery":             `{"qeury": "{ __typename }"}`,
	} {
		t.Run(name, func(t *testing.T) {
			for _, accept := range []string{"application/json", "application/graphql-response+json"} {
				r := send(t, srv.URL, body, map[string]string{"Accept": accept})
				if r.Status != http.StatusBadRequest || r.code() != "BAD_REQUEST" || r.ContentType != accept {
					t.Fatalf("Accept %s: status %d, Content-Type %s: %s", accept, r.Status, r.ContentType, r.Raw)
				}
			}
		})
	}
	for name, params := range map[string]string{
		"GETVariablesString":  "query=%7B+__typename+%7D&variables=x",
		"GETVariablesArray":   "query=%7B+__typename+%7D&variables=%5B1%5D",
		"GETExtensionsNumber": "query=%7B+__typename+%7D&extensions=1",
		"GETVariablesBadJSON": "query=%7B+__typename+%7D&variables=%7B",
	} {
		t.Run(name, func(t *testing.T) {
			res, err := http.Get(srv.URL + "/graphql?" + params)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `"code":"BAD_REQUEST"`) {
				t.Fatalf("status %d: %s", res.StatusCode, raw)
			}
		})
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry struct{ Level, Msg, Code string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if entry.Level != "INFO" || entry.Msg != "request refused" || entry.Code != "BAD_REQUEST" {
			t.Errorf("logged %s", line)
		}
	}
	if !strings.Contains(logs.String(), `"code":"BAD_REQUEST"`) {
		t.Fatalf("nothing logged:\n%s", logs.String())
	}
}

// TestAddressInUse starts the server on a port already taken: it must say
// so, and how to choose another, before creating or seeding any database.
func TestAddressInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dataDir := filepath.Join(t.TempDir(), "data")
	previous := slog.Default() // run sets its own
	t.Cleanup(func() { slog.SetDefault(previous) })
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"-addr", taken.Addr().String(), "-data-dir", dataDir},
		func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "ADDR") || !strings.Contains(err.Error(), "-addr") {
		t.Fatalf("error %v", err)
	}
	if _, statErr := os.Stat(dataDir); !os.IsNotExist(statErr) {
		t.Fatalf("the data folder was created before the address was checked: %v", statErr)
	}
}
