package graph

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

func FuzzParseGlobalID(f *testing.F) {
	for _, seed := range []string{globalID(typeProduct, 1), globalID(typeOrder, 9_223_372_036_854_775_807), "", "garbage", "VXNlcjox", "UHJvZHVjdDotMQ"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, gid string) {
		typeName, id, err := parseGlobalID(gid)
		if err != nil {
			return
		}
		if id <= 0 || !knownTypes[typeName] || globalID(typeName, id) != gid {
			t.Fatalf("%q decoded to %s %d, which does not encode back", gid, typeName, id)
		}
	})
}

func FuzzRequestGuard(f *testing.F) {
	for _, seed := range []string{`{"query": "{ __typename }"}`, `[{"query": "{ a }"}]`, ``, `{`, `  {"query": 1}  `, "\x00"} {
		f.Add([]byte(seed))
	}
	passed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := GuardRequests(nil, 0, passed)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusTeapot, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if rec.Code != http.StatusTeapot && len(body) > 8 && bytes.Contains(rec.Body.Bytes(), body) {
			t.Fatalf("the body was echoed: %q", body)
		}
	})
}

func FuzzShapeLimits(f *testing.F) {
	for _, seed := range []string{"{ shops { totalCount } }", "fragment A on Shop { ...A } { shops { edges { node { ...A } } } }",
		"{ a: b c: d }", "query { feed { edges { node { id } } } }", "{", "subscription { x }"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		_ = shapeLimits{}.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: query})
	})
}
