package graph_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

// oddBodies are GraphQL-over-HTTP requests whose JSON is unusual (review).
var oddBodies = []string{
	`{"query":"query($n: Int) { products(first: $n) { edges { node { title } } } }","variables":{"n":2}}`,
	`{"query":"query($n: Int) { products(first: $n) { edges { node { title } } } }","variables":{"n":2.0}}`,
	`{"query":"query($n: Int) { products(first: $n) { edges { node { title } } } }","variables":{"n":2e0}}`,
	`{"query":"query($n: Int) { products(first: $n) { edges { node { title } } } }","variables":{"n":99999999999999999999}}`,
	`{"query":"query($n: Int) { products(first: $n) { edges { node { title } } } }","variables":{"n":"2"}}`,
	`{"query":"query($n: Int) { products(first: $n) { edges { node { title } } } }","variables":null}`,
	`{"query":"query($n: Int) { products(first: $n) { edges { node { title } } } }","variables":{"n":1},"variables":{"n":2}}`,
	`{"query":"{ __typename }","query":"{ products(first: 1) { edges { node { title } } } }"}`,
	`{"query":"{ __typename }","query":null}`,
	`{"QUERY":"{ __typename }"}`,
	`{"query":"{ __typename }","Query":"{ products(first: 1) { edges { node { title } } } }"}`,
	`{"query":"{ __typename }","variables":[]}`,
	`{"query":"{ __typename }","variables":"{}"}`,
	`{"query":"{ __typename }","extensions":null,"operationName":null}`,
	`{"query":"query A { __typename } query B { products(first: 1) { edges { node { title } } } }","operationName":"B"}`,
	`{"query":"query A { __typename } query B { __typename }","operationName":"B","operationName":"C"}`,
	`{"query":"","extensions":{"PersistedQuery":{"version":1,"sha256Hash":"abc"}}}`,
	`{"query":"","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`,
	`{"query":"{ __typename }"} `,
	`{"query":"{ __typename }"}{}`,
	`{"query":"{ __typename }","x":1e999}`,
	`{"query":"{ __typename }","variables":{"a":1e999}}`,
	`{"query":"mutation { __typename }"}`,
	`{"query":"{ __typename \ud800 }"}`,
}

// TestGuardOddBodies (review): each odd body, sent twice (the second time
// the guard remembers it and the transport decodes it itself), gets the
// same answer both times; GET with the same parameters is answered too.
// With SHOWCASE_REVIEW_DUMP set it writes the answers to that file, to
// compare with another commit's.
func TestGuardOddBodies(t *testing.T) {
	a := newTestAPI(t)
	token, _ := a.user("odd-body-seller", false)
	shop := a.shop(token, "odd-body-shop")
	for i := range 3 {
		a.product(token, shop, fmt.Sprintf("odd-body-%d", i), nil)
	}
	send := func(req *http.Request) string {
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		return fmt.Sprintf("%d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	var dump bytes.Buffer
	for i, body := range oddBodies {
		var got [2]string
		for k := range got {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			got[k] = send(req)
		}
		if got[0] != got[1] {
			t.Errorf("body %d %s: first answer %s\nremembered %s", i, body, got[0], got[1])
		}
		fmt.Fprintf(&dump, "POST %d %s\n  %s\n", i, body, got[0])
	}
	q := `query($n: Int) { products(first: $n) { edges { node { title } } } }`
	for _, vars := range []string{`{"n":2}`, `{"n":2.0}`, `{"n":99999999999999999999}`, `null`, `{"n":1,"n":2}`} {
		req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(q)+"&variables="+url.QueryEscape(vars), nil)
		fmt.Fprintf(&dump, "GET %s\n  %s\n", vars, send(req))
	}
	if f := os.Getenv("SHOWCASE_REVIEW_DUMP"); f != "" {
		if err := os.WriteFile(f, dump.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
