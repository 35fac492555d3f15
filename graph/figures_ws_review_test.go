package graph_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
)

// TestWebsocketCommercialFiguresAfterAPublicPage: the operations of one
// websocket share its loaders, so a feed page asking public figures only
// (whose ALL_TIME figures come from the FiguresCache, read without the
// sales) must not leave zero orders for a later operation on the same
// connection asking the content's commercial figures: the shop's owner
// sees the orders the content has.
func TestWebsocketCommercialFiguresAfterAPublicPage(t *testing.T) {
	a := newTestAPIWith(t, sharingFigures(t, "", time.Hour))
	f := a.manyContents(12)
	first, _ := a.figuresOf(f.sellerToken, `{ feed(first: 10) { edges { node { id ... on Video { metrics { views orders } } } } } }`)
	var id string
	for k := range first {
		id = k
		break
	}
	if id == "" {
		t.Fatal("the feed page has no videos with figures")
	}
	if _, err := a.db.ExecContext(context.Background(), `INSERT INTO content_sales_totals (content_id, currency_code, orders, units, gmv)
		VALUES ($1, 'USD', 3, 3, 3000)`, contentIDOf(t, id)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seller, err := dialLive(ctx, srv, f.sellerToken)
	if err != nil {
		t.Fatal(err)
	}
	defer seller.conn.Close(coderws.StatusNormalClosure, "")
	const ordersQuery = `query($id: ID!) { node(id: $id) { ... on Video { metrics { orders } } } }`
	orders := func(opID string) any {
		n, _ := wsOp(t, seller, opID, ordersQuery, map[string]any{"id": id})["node"].(map[string]any)
		m, _ := n["metrics"].(map[string]any)
		return m["orders"]
	}
	if got := orders("before"); got != float64(3) {
		t.Fatalf("the owner's orders of %s over a fresh websocket: %v, want 3", id, got)
	}
	seller2, err := dialLive(ctx, srv, f.sellerToken)
	if err != nil {
		t.Fatal(err)
	}
	defer seller2.conn.Close(coderws.StatusNormalClosure, "")
	seller = seller2
	wsOp(t, seller, "page", figuresFeedQuery, nil)
	if got := orders("after"); got != float64(3) {
		t.Fatalf("the owner's orders of %s after a public feed page on the same websocket: %v, want 3", id, got)
	}
}
