package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestResponsesCarryTheirLength: an executed operation's response, data
// only or with errors, goes out with a Content-Length equal to its body and
// unchunked, also when it is far larger than net/http's 2 KB buffer (a feed
// page), over a real connection.
func TestResponsesCarryTheirLength(t *testing.T) {
	a := newTestAPI(t)
	a.manyContents(30)
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	for _, c := range []struct{ name, query string }{
		{"feed page", benchFeedQuery},
		{"with errors", `{ feed(first: 20) { edges { node { id products(first: -1) { edges { node { title } } } } } } }`},
		{"small", `{ __typename }`},
	} {
		body, _ := json.Marshal(map[string]any{"query": c.query})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !json.Valid(got) {
			t.Fatalf("%s: status %d, body %.300s", c.name, resp.StatusCode, got)
		}
		if len(resp.TransferEncoding) > 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(got)) {
			t.Errorf("%s: Transfer-Encoding %v, Content-Length %q, body of %d bytes", c.name, resp.TransferEncoding, resp.Header.Get("Content-Length"), len(got))
		}
		if c.name == "feed page" && len(got) < 8<<10 {
			t.Errorf("%s: a body of %d bytes, want a large one", c.name, len(got))
		}
	}
}
