package main

import (
	"context"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// TestCatalogStockReachesAnotherProcess runs two server processes on one
// database with CATALOG_CACHE_TTL=1m: a product's variants read through A
// are kept there (stock written by hand, unannounced, does not show), and stock a seller sets through B reaches A by a
// PostgreSQL notification, well within the TTL (up to 30 s waited).
func TestCatalogStockReachesAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	env := []string{"CATALOG_CACHE_TTL=1m"}
	a := startServerEnv(t, bin, dsn, env)
	b := startServerEnv(t, bin, dsn, env)

	var su struct{ SignUp struct{ Token string } }
	post(t, b.base, "", `mutation { signUp(input: {email: "stock@example.com", password: "long-enough-password", handle: "stock", displayName: "Stock"}) { token } }`, &su)
	token := su.SignUp.Token
	var shop struct {
		CreateShop struct{ Shop struct{ ID string } }
	}
	post(t, b.base, token, `mutation { createShop(input: {handle: "stockshop", name: "Stock Shop", operatingModel: SELF_OPERATED}) { shop { id } } }`, &shop)
	var product struct {
		CreateProduct struct {
			Product struct {
				ID       string
				Variants struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
		}
	}
	post(t, b.base, token, `mutation($shop: ID!) { createProduct(input: {shopId: $shop, title: "Stock serum", description: "d", tags: ["x"],
		variants: [{sku: "S-1", title: "One", price: {amount: "10", currencyCode: "USD"}, stock: 5}]}) {
		product { id variants { edges { node { id } } } } } }`, &product, map[string]any{"shop": shop.CreateShop.Shop.ID})
	productID := product.CreateProduct.Product.ID
	variantID := product.CreateProduct.Product.Variants.Edges[0].Node.ID

	stockOnA := func() int {
		var out struct {
			Node struct {
				Variants struct {
					Edges []struct{ Node struct{ Stock int } }
				}
			}
		}
		post(t, a.base, "", `query($id: ID!) { node(id: $id) { ... on Product { variants { edges { node { stock } } } } } }`,
			&out, map[string]any{"id": productID})
		if len(out.Node.Variants.Edges) != 1 {
			t.Fatalf("the product has %d variants on A", len(out.Node.Variants.Edges))
		}
		return out.Node.Variants.Edges[0].Node.Stock
	}
	if got := stockOnA(); got != 5 {
		t.Fatalf("stock on A is %d, want 5", got)
	}
	db, err := store.Open(context.Background(), dsn, store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), `UPDATE product_variants SET stock = 6 WHERE sku = 'S-1'`); err != nil {
		t.Fatal(err)
	}
	if got := stockOnA(); got != 5 {
		t.Fatalf("stock written by hand showed on A at once (%d): A keeps no variants", got)
	}
	setStockOn(t, b.base, token, variantID, 42)
	for deadline := time.Now().Add(30 * time.Second); stockOnA() != 42; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("stock set through B never reached A")
		}
	}
	// Stock a checkout through B takes reaches A with B's next stock
	// announcement, well inside A's minute of CATALOG_CACHE_TTL.
	var buyer struct{ SignUp struct{ Token string } }
	post(t, b.base, "", `mutation { signUp(input: {email: "stock-buyer@example.com", password: "long-enough-password", handle: "stockbuyer", displayName: "Buyer"}) { token } }`, &buyer)
	var bought struct {
		Checkout struct {
			Orders     []struct{ ID string }
			UserErrors []struct{ Code string }
		}
	}
	post(t, b.base, buyer.SignUp.Token, `mutation($in: CheckoutInput!) { checkout(input: $in) { orders { id } userErrors { code } } }`, &bought,
		map[string]any{"in": map[string]any{"lines": []any{map[string]any{"variantId": variantID, "quantity": 2}}, "idempotencyKey": "stock-1",
			"shippingAddress": costAddress("US"), "payment": map[string]any{"token": "tok_ok"}}})
	if len(bought.Checkout.Orders) != 1 {
		t.Fatalf("checkout through B: %+v", bought.Checkout)
	}
	for deadline := time.Now().Add(30 * time.Second); stockOnA() != 40; time.Sleep(200 * time.Millisecond) { // under the rate limit
		if time.Now().After(deadline) {
			t.Fatalf("stock a checkout took through B never reached A: %d", stockOnA())
		}
	}
}
