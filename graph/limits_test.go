package graph_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestQueryLimits(t *testing.T) {
	a := newTestAPI(t)
	deep := "{ feed { edges { node { shop { products { edges { node { shop { products { edges { node { shop { products { edges { node { id } } } } } } } } } } } } } } } }"
	var aliases []string
	for i := 0; i < 40; i++ {
		aliases = append(aliases, fmt.Sprintf("a%d: shops { totalCount }", i))
	}
	wide := "{ " + strings.Join(aliases, " ") + " }"
	costly := `{ shops(first: 100) { edges { node { products(first: 100) { edges { node { variants(first: 100) { edges { node { id } } } } } } } } } }`
	// Fragments that spread the next one twice: 2^30 paths if expanded naively.
	var bomb strings.Builder
	bomb.WriteString("{ shops { edges { node { ...F1 } } } }\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&bomb, "fragment F%d on Shop { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	bomb.WriteString("fragment F30 on Shop { id }\n")
	manyTokens := "{ " + strings.Repeat("__typename ", 6000) + "}"
	// Under the token and field limits, but quadratic (and worse) to
	// validate: the same field 3,000 times; 60 pages of 60 ids merged.
	repeated := "{ " + strings.Repeat("__typename ", 3000) + "}"
	nestedRepeats := "{ " + strings.Repeat("shops { edges { node { "+strings.Repeat("id ", 60)+"} } } ", 60) + "}"
	var fragmentRepeats strings.Builder
	fragmentRepeats.WriteString("{ ")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&fragmentRepeats, "...F%d ", i)
	}
	fragmentRepeats.WriteString("}\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&fragmentRepeats, "fragment F%d on Query { __typename }\n", i)
	}
	for name, c := range map[string]struct{ query, code string }{
		"Depth":        {deep, "DEPTH_LIMIT_EXCEEDED"},
		"Aliases":      {wide, "ALIAS_LIMIT_EXCEEDED"},
		"Complexity":   {costly, "COMPLEXITY_LIMIT_EXCEEDED"},
		"FragmentBomb": {bomb.String(), "COMPLEXITY_LIMIT_EXCEEDED"},
		"Tokens":       {manyTokens, ""},
		"Repeated":     {repeated, "COMPLEXITY_LIMIT_EXCEEDED"},
		"NestedRepeat": {nestedRepeats, "COMPLEXITY_LIMIT_EXCEEDED"},
		"SpreadRepeat": {fragmentRepeats.String(), "COMPLEXITY_LIMIT_EXCEEDED"},
	} {
		t.Run(name, func(t *testing.T) {
			before := a.statements.Load()
			a.statements.Store(0)
			resp := a.post("", c.query, nil)
			if len(resp.Errors) == 0 || (c.code != "" && resp.code() != c.code) {
				t.Fatalf("errors = %+v", resp.Errors)
			}
			if n := a.statements.Load(); n != 0 {
				t.Fatalf("%d SQL statements ran for a refused query (before: %d)", n, before)
			}
		})
	}
}

func TestHTTPRequestRules(t *testing.T) {
	a := newTestAPI(t)
	send := func(method, target, contentType string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		return rec
	}
	huge := []byte(`{"query": "{ __typename }", "x": "` + strings.Repeat("a", 1<<20) + `"}`)
	cases := map[string]struct {
		rec    *httptest.ResponseRecorder
		status int
		code   string
	}{
		"TooLarge":    {send(http.MethodPost, "/graphql", "application/json", huge), 413, "REQUEST_TOO_LARGE"},
		"Batch":       {send(http.MethodPost, "/graphql", "application/json", []byte(`[{"query":"{ __typename }"}]`)), 400, "BATCHING_NOT_SUPPORTED"},
		"BadJSON":     {send(http.MethodPost, "/graphql", "application/json", []byte(`{"query": "{ secret-token-123`)), 400, "BAD_REQUEST"},
		"EmptyBody":   {send(http.MethodPost, "/graphql", "application/json", nil), 400, "BAD_REQUEST"},
		"GETMutation": {send(http.MethodGet, "/graphql?query="+url.QueryEscape(`mutation { logOut(refreshToken: "x") { ok } }`), "", nil), 405, "METHOD_NOT_ALLOWED"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			body := c.rec.Body.String()
			if c.rec.Code != c.status || !strings.Contains(body, `"code":"`+c.code+`"`) {
				t.Fatalf("status %d body %s", c.rec.Code, body)
			}
			if strings.Contains(body, "secret-token-123") {
				t.Fatal("the body was echoed back")
			}
		})
	}
	if rec := cases["GETMutation"].rec; rec.Header().Get("Allow") != "POST" {
		t.Fatalf("Allow = %q", rec.Header().Get("Allow"))
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	a := newTestAPI(t)
	const query = `{ shops { totalCount } }`
	const hash = "e5d5b6d6b0e9a3c0c96c0b1f8a9c8b3e6a6f8a0f2f9b6d0e2c3a1b4c5d6e7f80" // not registered
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	resp := a.postExt("", "", ext)
	if resp.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %+v", resp.Errors)
	}
	real := sha256Hex(query)
	ext["persistedQuery"].(map[string]any)["sha256Hash"] = real
	if resp := a.postExt(query, "", ext); len(resp.Errors) > 0 {
		t.Fatalf("registering: %+v", resp.Errors)
	}
	if resp := a.postExt("", "", ext); len(resp.Errors) > 0 || !strings.Contains(string(resp.Data), "totalCount") {
		t.Fatalf("by hash: %+v %s", resp.Errors, resp.Data)
	}
}
