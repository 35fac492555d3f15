package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"showcase/graph"
)

// TestCatalogPageStatements: products(first: 20) with variants and price
// ranges costs two SQL statements (the page, then every product's variants
// at once), whether the variants are asked for directly or through
// fragments, gives the same answer as the loader alone (without priming),
// and a page that asks for no variants costs one statement.
func TestCatalogPageStatements(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	token, _ := a.user("catalog-seller", false)
	shop := a.shop(token, "catalog-shop")
	for i := range 25 {
		a.product(token, shop, fmt.Sprintf("catalog-%02d", i), nil)
	}
	type page struct {
		Products struct {
			Edges []struct {
				Node struct {
					Title      string
					PriceRange struct{ Min struct{ Amount string } }
					Variants   struct {
						Edges []struct{ Node struct{ SKU string } }
					}
				}
			}
		}
	}
	check := func(name, query string, wantStatements int64, withVariants bool) []byte {
		t.Helper()
		resp := a.post("", query, nil)
		if len(resp.Errors) > 0 {
			t.Fatalf("%s: %+v", name, resp.Errors)
		}
		if got := a.statements.Load(); got != wantStatements {
			t.Errorf("%s: %d SQL statements, want %d", name, got, wantStatements)
		}
		var out page
		if err := json.Unmarshal(resp.Data, &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Products.Edges) != 20 {
			t.Fatalf("%s: %d products, want 20", name, len(out.Products.Edges))
		}
		if withVariants {
			for _, e := range out.Products.Edges {
				n := e.Node
				if len(n.Variants.Edges) != 2 || n.Variants.Edges[0].Node.SKU != n.Title+"-S" || n.Variants.Edges[1].Node.SKU != n.Title+"-L" {
					t.Errorf("%s: %s has variants %+v", name, n.Title, n.Variants.Edges)
				}
			}
		}
		return resp.Data
	}
	direct := check("direct", catalogPageQuery, 2, true)
	check("fragments", `{ products(first: 20) { ...page } }
		fragment page on ProductConnection { edges { node { ... on Product { title variants { edges { node { sku } } } } } } }`, 2, true)
	check("price range only", `{ products(first: 20) { edges { node { title priceRange { min { amount } } } } } }`, 2, false)
	check("no variants", `{ products(first: 20) { edges { node { title } } } }`, 1, false)
	check("variants skipped", `{ products(first: 20) { edges { node { title variants @skip(if: true) { edges { node { sku } } } } } } }`, 1, false)

	graph.SetPriming(false)
	defer graph.SetPriming(true)
	if loaded := check("loader alone", catalogPageQuery, 2, true); !bytes.Equal(loaded, direct) {
		t.Errorf("primed page differs from the loader's:\n%s\n%s", direct, loaded)
	}
}

// TestCatalogPageListsInline: on the catalogue page (variants primed, every
// field read from loaded rows) the product edges and each product's variant
// edges marshal one after another (21 lists inline), in the same statements
// and with the same answer as with a goroutine per element; a page whose
// products ask for a field that waits on a loader (shop) keeps the
// goroutines for its product edges, so the shops still load in one batch.
func TestCatalogPageListsInline(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	token, _ := a.user("inline-seller", false)
	shop := a.shop(token, "inline-shop")
	for i := range 25 {
		a.product(token, shop, fmt.Sprintf("inline-%02d", i), nil)
	}
	run := func(name, query string, wantStatements int64, wantInline int64) []byte {
		t.Helper()
		before := graph.InlineListCount()
		resp := a.post("", query, nil)
		if len(resp.Errors) > 0 {
			t.Fatalf("%s: %+v", name, resp.Errors)
		}
		if got := a.statements.Load(); got != wantStatements {
			t.Errorf("%s: %d SQL statements, want %d", name, got, wantStatements)
		}
		if got := graph.InlineListCount() - before; got != wantInline {
			t.Errorf("%s: %d lists marshalled inline, want %d", name, got, wantInline)
		}
		return resp.Data
	}
	withShop := `{ products(first: 20) { edges { node { id title shop { name } variants { edges { node { sku price { amount } } } } } } } }`
	withImage := `{ products(first: 20) { edges { node { id variants { edges { node { sku image { url } } } } } } } }`
	page := run("catalogue page", catalogPageQuery, 2, 21)
	shopPage := run("with shop", withShop, 3, 20)            // the variant lists only
	imagePage := run("with variant images", withImage, 3, 0) // the variant images load in one batch
	graph.SetInlineLists(false)
	defer graph.SetInlineLists(true)
	for _, c := range []struct {
		name, query string
		statements  int64
		inline      []byte
	}{{"catalogue page", catalogPageQuery, 2, page}, {"with shop", withShop, 3, shopPage}, {"with variant images", withImage, 3, imagePage}} {
		if got := run(c.name+", goroutines", c.query, c.statements, 0); !bytes.Equal(got, c.inline) {
			t.Errorf("%s: inline answer differs:\n%s\n%s", c.name, c.inline, got)
		}
	}
}
