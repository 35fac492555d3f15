package graph_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestNodeFetchesEveryType(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("nodes")
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(f.sellerToken, publishVideoMutation, videoInput(f.productID), &pv)
	var me struct {
		Viewer struct{ ID string }
	}
	a.ok(f.sellerToken, `{ viewer { id } }`, nil, &me)

	ids := map[string]string{
		"User": me.Viewer.ID, "Shop": f.shopID, "Product": f.productID,
		"ProductVariant": f.variantIDs[0], "Video": pv.PublishVideo.Video.ID,
	}
	for typ, id := range ids {
		var out struct {
			Node *struct {
				Typename string `json:"__typename"`
				ID       string
			}
		}
		a.ok("", `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": id}, &out)
		if out.Node == nil || out.Node.Typename != typ || out.Node.ID != id {
			t.Errorf("node(%s) = %+v, want a %s", id, out.Node, typ)
		}
	}

	var many struct {
		Nodes []*struct {
			ID string
		}
	}
	unknown := base64.RawURLEncoding.EncodeToString([]byte("Shop:987654"))
	a.ok("", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{f.productID, unknown, f.shopID}}, &many)
	if len(many.Nodes) != 3 || many.Nodes[0].ID != f.productID || many.Nodes[1] != nil || many.Nodes[2].ID != f.shopID {
		t.Fatalf("nodes = %+v", many.Nodes)
	}
}

func TestMalformedIDsAreBadUserInput(t *testing.T) {
	a := newTestAPI(t)
	for _, id := range []string{"", "garbage", base64.RawURLEncoding.EncodeToString([]byte("Shop:abc")),
		base64.RawURLEncoding.EncodeToString([]byte("Coupon:1")), base64.RawURLEncoding.EncodeToString([]byte("Shop:-4"))} {
		resp := a.post("", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("node(%q): %+v", id, resp.Errors)
		}
	}
	shop := base64.RawURLEncoding.EncodeToString([]byte("Shop:1"))
	if resp := a.post("", `query($id: ID!) { product(id: $id) { id } }`, map[string]any{"id": shop}); resp.code() != "BAD_USER_INPUT" {
		t.Errorf("product(shop id): %+v", resp.Errors)
	}
	var out struct{ Product *struct{ ID string } }
	a.ok("", `query($id: ID!) { product(id: $id) { id } }`, map[string]any{"id": base64.RawURLEncoding.EncodeToString([]byte("Product:42"))}, &out)
	if out.Product != nil {
		t.Fatalf("unknown product = %+v", out.Product)
	}
}

func TestGraphQLOverHTTP(t *testing.T) {
	a := newTestAPI(t)
	t.Run("ResponseMediaType", func(t *testing.T) {
		// No Accept means application/json (the spec's legacy default).
		resp := a.post("", `{ __typename }`, nil)
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type = %q", ct)
		}
	})
	t.Run("ValidationErrorIs400", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": "{ noSuchField }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/graphql-response+json")
		resp := a.serve(req)
		if resp.Status != http.StatusBadRequest || resp.code() != "GRAPHQL_VALIDATION_FAILED" || resp.Data != nil {
			t.Fatalf("status %d data %s errors %+v", resp.Status, resp.Data, resp.Errors)
		}
	})
	t.Run("GETServesQueries", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ shops { totalCount } }`), nil)
		resp := a.serve(req)
		if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
			t.Fatalf("status %d errors %+v", resp.Status, resp.Errors)
		}
	})
	t.Run("GETRefusesMutations", func(t *testing.T) {
		q := `mutation { logIn(input: {email: "a@b.c", password: "12345678"}) { token } }`
		req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(q), nil)
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code < 400 {
			t.Fatalf("GET mutation got status %d: %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("InternalErrorsAreHidden", func(t *testing.T) {
		a.db.Close() // every statement now fails inside the driver
		resp := a.post("", `{ shops { totalCount } }`, nil)
		if resp.code() != "INTERNAL" || resp.Errors[0].Message != "internal error" {
			t.Fatalf("errors %+v", resp.Errors)
		}
	})
}
