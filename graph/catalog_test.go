package graph_test

import (
	"context"
	"testing"
)

func TestCreateProduct(t *testing.T) {
	a := newTestAPI(t)
	token, _ := a.user("sam", false)
	shopID := a.shop(token, "sams-shop")

	t.Run("OK", func(t *testing.T) {
		p := a.product(token, shopID, "glow-serum", nil)
		if p.Title != "glow-serum" || p.Status != "ACTIVE" || len(p.Variants.Edges) != 2 {
			t.Fatalf("product = %+v", p)
		}
		if p.PriceRange.Min.Amount != "19.90" || p.PriceRange.Max.Amount != "29.00" || p.PriceRange.Min.CurrencyCode != "USD" {
			t.Fatalf("priceRange = %+v", p.PriceRange)
		}
		small, large := p.Variants.Edges[0].Node, p.Variants.Edges[1].Node
		if !small.AvailableForSale || large.AvailableForSale || small.Stock != 5 {
			t.Fatalf("availability: small %+v large %+v", small, large)
		}
	})
	t.Run("Validation", func(t *testing.T) {
		var out struct {
			CreateProduct struct {
				Product    *productOut
				UserErrors []userError
			}
		}
		a.ok(token, createProductMutation, map[string]any{"in": map[string]any{
			"shopId": shopID, "title": "", "variants": []map[string]any{
				{"sku": "DUP", "title": "A", "price": map[string]any{"amount": "1.999", "currencyCode": "USD"}, "stock": 1},
				{"sku": "DUP", "title": "B", "price": map[string]any{"amount": "2.00", "currencyCode": "EUR"}, "stock": -1},
			}}}, &out)
		if out.CreateProduct.Product != nil {
			t.Fatal("invalid product was created")
		}
		want := map[string]string{
			"input.title":                         "REQUIRED",
			"input.variants.0.price.amount":       "INVALID",
			"input.variants.1.sku":                "TAKEN",
			"input.variants.1.price.currencyCode": "CURRENCY_MISMATCH",
			"input.variants.1.stock":              "INVALID",
		}
		got := map[string]string{}
		for _, e := range out.CreateProduct.UserErrors {
			got[join(e.Field)] = e.Code
		}
		for f, code := range want {
			if got[f] != code {
				t.Errorf("user error for %s = %q, want %q (all: %+v)", f, got[f], code, out.CreateProduct.UserErrors)
			}
		}
		var n int
		if err := a.db.GetContext(context.Background(), &n, `SELECT count(*) FROM products WHERE title = ''`); err != nil || n != 0 {
			t.Fatalf("rows written for invalid input: %d (%v)", n, err)
		}
	})
	t.Run("SKUTakenAcrossProducts", func(t *testing.T) {
		var out struct {
			CreateProduct struct{ UserErrors []userError }
		}
		a.ok(token, createProductMutation, map[string]any{"in": map[string]any{
			"shopId": shopID, "title": "copy", "variants": []map[string]any{
				{"sku": "glow-serum-S", "title": "A", "price": map[string]any{"amount": "1", "currencyCode": "USD"}, "stock": 1},
			}}}, &out)
		if len(out.CreateProduct.UserErrors) != 1 || out.CreateProduct.UserErrors[0].Code != "TAKEN" {
			t.Fatalf("userErrors = %+v", out.CreateProduct.UserErrors)
		}
	})
}

func TestUpdateProductAndInventory(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("ola")
	var upd struct {
		UpdateProduct struct {
			Product    productOut
			UserErrors []userError
		}
	}
	a.ok(f.sellerToken, `mutation($in: UpdateProductInput!) { updateProduct(input: $in) { product { id title status tags } userErrors { field code message } } }`,
		map[string]any{"in": map[string]any{"id": f.productID, "title": "Renamed", "tags": []string{"beauty", "glow"}}}, &upd)
	if p := upd.UpdateProduct.Product; p.Title != "Renamed" || len(p.Tags) != 2 || p.Status != "ACTIVE" {
		t.Fatalf("updateProduct = %+v", upd)
	}
	var inv struct {
		SetInventory struct {
			Variant struct {
				Stock            int
				AvailableForSale bool
			}
			UserErrors []userError
		}
	}
	a.ok(f.sellerToken, `mutation($in: SetInventoryInput!) { setInventory(input: $in) { variant { stock availableForSale } userErrors { field code } } }`,
		map[string]any{"in": map[string]any{"variantId": f.variantIDs[1], "stock": 7}}, &inv)
	if inv.SetInventory.Variant.Stock != 7 || !inv.SetInventory.Variant.AvailableForSale {
		t.Fatalf("setInventory = %+v", inv)
	}
	a.ok(f.sellerToken, `mutation($in: SetInventoryInput!) { setInventory(input: $in) { variant { stock } userErrors { field code } } }`,
		map[string]any{"in": map[string]any{"variantId": f.variantIDs[1], "stock": -3}}, &inv)
	if len(inv.SetInventory.UserErrors) != 1 || join(inv.SetInventory.UserErrors[0].Field) != "input.stock" {
		t.Fatalf("negative stock: %+v", inv)
	}
}

func TestDraftProductsAreVisibleOnlyToTheirSeller(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("dora")
	draft := a.product(f.sellerToken, f.shopID, "secret-launch", map[string]any{"status": "DRAFT"})
	strangerToken, _ := a.user("stranger", false)
	const q = `query($id: ID!, $shop: ID!) { product(id: $id) { id } node(id: $id) { id } products(filter: {shopId: $shop}) { edges { node { id } } } }`
	type out struct {
		Product  *struct{ ID string }
		Node     *struct{ ID string }
		Products struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	for name, token := range map[string]string{"Anonymous": "", "Stranger": strangerToken} {
		t.Run(name, func(t *testing.T) {
			var o out
			a.ok(token, q, map[string]any{"id": draft.ID, "shop": f.shopID}, &o)
			if o.Product != nil || o.Node != nil || len(o.Products.Edges) != 1 {
				t.Fatalf("draft leaked: %+v", o)
			}
		})
	}
	var o out
	a.ok(f.sellerToken, q, map[string]any{"id": draft.ID, "shop": f.shopID}, &o)
	if o.Product == nil || o.Node == nil || len(o.Products.Edges) != 2 {
		t.Fatalf("seller cannot see own draft: %+v", o)
	}
}

func TestSellersCannotTouchOtherSellersShops(t *testing.T) {
	a := newTestAPI(t)
	victim := a.fixture("victim")
	intruderToken, _ := a.user("intruder", false)
	a.shop(intruderToken, "intruder-shop")
	ctx := context.Background()
	snapshot := func() string {
		var s string
		err := a.db.GetContext(ctx, &s, `SELECT (SELECT string_agg(name || description, ',') FROM shops)
			|| (SELECT string_agg(title || status || shop_id, ',' ORDER BY id) FROM products)
			|| (SELECT string_agg(stock::text, ',' ORDER BY id) FROM product_variants)`)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	cases := map[string]struct {
		query string
		vars  map[string]any
	}{
		"UpdateShop": {`mutation($in: UpdateShopInput!) { updateShop(input: $in) { shop { id } } }`,
			map[string]any{"in": map[string]any{"id": victim.shopID, "name": "pwned"}}},
		"CreateProduct": {createProductMutation, map[string]any{"in": map[string]any{"shopId": victim.shopID, "title": "fake",
			"variants": []map[string]any{{"sku": "FAKE", "title": "x", "price": map[string]any{"amount": "1", "currencyCode": "USD"}, "stock": 1}}}}},
		"UpdateProduct": {`mutation($in: UpdateProductInput!) { updateProduct(input: $in) { product { id } } }`,
			map[string]any{"in": map[string]any{"id": victim.productID, "title": "pwned", "status": "ARCHIVED"}}},
		"SetInventory": {`mutation($in: SetInventoryInput!) { setInventory(input: $in) { variant { id } } }`,
			map[string]any{"in": map[string]any{"variantId": victim.variantIDs[0], "stock": 0}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp := a.post(intruderToken, c.query, c.vars)
			if resp.code() != "FORBIDDEN" {
				t.Fatalf("intruder got %+v", resp.Errors)
			}
			resp = a.post("", c.query, c.vars)
			if resp.code() != "UNAUTHENTICATED" {
				t.Fatalf("anonymous got %+v", resp.Errors)
			}
			if after := snapshot(); after != before {
				t.Fatalf("rows changed:\n%s\n%s", before, after)
			}
		})
	}
}

func join(path []string) string {
	s := ""
	for i, p := range path {
		if i > 0 {
			s += "."
		}
		s += p
	}
	return s
}
