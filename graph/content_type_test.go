package graph_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRequestsOfTheWrongShapeGetACode: a POST that is not JSON (curl's -d
// default, text/plain), another method, or a GET without a query answer
// with a JSON error carrying a code and no data, never gqlgen's bare
// "transport not supported".
func TestRequestsOfTheWrongShapeGetACode(t *testing.T) {
	a := newTestAPI(t)
	for _, c := range []struct {
		name, method, contentType, body, code string
		status                                int
	}{
		{"FormBody", http.MethodPost, "application/x-www-form-urlencoded", `{"query":"{ __typename }"}`, "UNSUPPORTED_MEDIA_TYPE", 415},
		{"TextBody", http.MethodPost, "text/plain", `{"query":"{ __typename }"}`, "UNSUPPORTED_MEDIA_TYPE", 415},
		{"NoContentType", http.MethodPost, "", `{"query":"{ __typename }"}`, "UNSUPPORTED_MEDIA_TYPE", 415},
		{"Put", http.MethodPut, "application/json", `{"query":"{ __typename }"}`, "METHOD_NOT_ALLOWED", 405},
		{"GetWithoutQuery", http.MethodGet, "", "", "BAD_REQUEST", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "/graphql", strings.NewReader(c.body))
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			req.Header.Set("Accept", "application/json")
			resp, err := a.serveRaw(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != c.status || resp.code() != c.code || resp.Data != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("status %d, code %q, data %s, type %q; want %d %s as JSON without data", resp.Status, resp.code(), resp.Data,
					resp.Header.Get("Content-Type"), c.status, c.code)
			}
		})
	}
	// The right shape still works, with a charset too.
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if resp, err := a.serveRaw(req); err != nil || resp.Status != 200 || len(resp.Errors) > 0 {
		t.Fatalf("JSON with a charset: %+v, %v", resp, err)
	}
}
