package graph_test

import (
	"context"
	"strconv"
	"testing"

	"showcase/store"
)

// Orders written before shops had shipping rates (before migration 0010:
// no shipping title, no tax, total = subtotal) read, after migration 0018,
// as every order does: a "Free shipping" line at 0 (what they charged, and
// what an order from a shop without rates gets now), no tax, on every path
// that reaches an order (node, nodes, the buyer's orders).
func TestOrdersFromBeforeShippingRatesReadConsistently(t *testing.T) {
	a := newTestAPI(t)
	ctx := context.Background()
	f := a.fixture("oldship")
	buyer, _ := a.user("oldbuyer", false)
	var old, recent checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("old", "tok_ok", line(f.variantIDs[0], 1)), &old)
	a.ok(buyer, checkoutMutation, checkoutInput("new", "tok_ok", line(f.variantIDs[0], 2)), &recent)
	if len(old.Checkout.Orders) != 1 || len(recent.Checkout.Orders) != 1 {
		t.Fatalf("checkouts: %+v %+v", old.Checkout, recent.Checkout)
	}
	oldID := old.Checkout.Orders[0].ID

	// Write the first order back as 0009's schema left it (0010 added the
	// columns with these defaults), then migrate again.
	for _, q := range []string{
		`ALTER TABLE orders ALTER COLUMN shipping_title DROP NOT NULL, ALTER COLUMN shipping_title DROP DEFAULT`,
		`UPDATE orders SET shipping_title = NULL, shipping_amount = 0, tax_title = NULL, tax_rate_bps = 0, tax_amount = 0,
			taxes_included = false, total_amount = subtotal_amount WHERE id = ` + strconv.FormatInt(mustID(t, oldID), 10),
		`UPDATE order_lines SET tax_amount = 0 WHERE order_id = ` + strconv.FormatInt(mustID(t, oldID), 10),
		`DELETE FROM schema_migrations WHERE version = '0018_old_orders_shipping'`,
	} {
		if _, err := a.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := store.Migrate(ctx, a.db.DB.DB); err != nil {
		t.Fatal(err)
	}

	const fields = `id shippingLine { title price { amount currencyCode } } totalShipping { amount } totalTax { amount } taxLines { title }
		subtotal { amount } total { amount }`
	type orderView struct {
		ID           string
		ShippingLine *struct {
			Title string
			Price struct{ Amount, CurrencyCode string }
		}
		TotalShipping, TotalTax, Subtotal, Total struct{ Amount string }
		TaxLines                                 []struct{ Title string }
	}
	check := func(path string, o orderView) {
		t.Helper()
		if o.ShippingLine == nil || o.ShippingLine.Title != "Free shipping" || o.ShippingLine.Price.Amount != "0.00" || o.ShippingLine.Price.CurrencyCode != "USD" ||
			o.TotalShipping.Amount != "0.00" || o.TotalTax.Amount != "0.00" || len(o.TaxLines) != 0 || o.Total.Amount != o.Subtotal.Amount {
			t.Errorf("%s: order %s reads %+v", path, o.ID, o)
		}
	}
	var byNode struct{ Node orderView }
	a.ok(buyer, `query($id: ID!) { node(id: $id) { ... on Order { `+fields+` } } }`, map[string]any{"id": oldID}, &byNode)
	check("node", byNode.Node)
	var byNodes struct{ Nodes []orderView }
	a.ok(buyer, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { `+fields+` } } }`,
		map[string]any{"ids": []string{oldID, recent.Checkout.Orders[0].ID}}, &byNodes)
	for _, o := range byNodes.Nodes {
		check("nodes", o)
	}
	var mine struct {
		Viewer struct {
			Orders struct{ Edges []struct{ Node orderView } }
		}
	}
	a.ok(buyer, `{ viewer { orders(first: 10) { edges { node { `+fields+` } } } } }`, nil, &mine)
	if len(mine.Viewer.Orders.Edges) != 2 {
		t.Fatalf("viewer.orders: %+v", mine)
	}
	for _, e := range mine.Viewer.Orders.Edges {
		check("viewer.orders", e.Node)
	}
	var nullable string
	if err := a.db.GetContext(ctx, &nullable, `SELECT is_nullable FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'shipping_title'`); err != nil || nullable != "NO" {
		t.Fatalf("orders.shipping_title nullable = %q (%v), want NO", nullable, err)
	}
}
