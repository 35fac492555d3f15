package graph_test

import (
	"context"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

// keepingCatalog gives db a CatalogCache of ttl that hears the other API
// processes on dsn, as server/main.go does.
func keepingCatalog(t *testing.T, db *store.DB, dsn string, ttl time.Duration) {
	t.Helper()
	c := store.NewCatalogCache(ttl)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := c.Listen(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db.UseCatalogCache(c)
}

const stockPageQuery = `{ products(first: 20) { edges { node { id title variants { edges { node { id stock } } } } } } }`

type stockPage struct {
	Products struct {
		Edges []struct {
			Node struct {
				ID, Title string
				Variants  struct {
					Edges []struct {
						Node struct {
							ID    string
							Stock int
						}
					}
				}
			}
		}
	}
}

// titleAndStock returns product's title and variant's stock on the page.
func (a *testAPI) titleAndStock(product, variant string) (string, int) {
	a.t.Helper()
	var p stockPage
	a.ok("", stockPageQuery, nil, &p)
	for _, e := range p.Products.Edges {
		if e.Node.ID != product {
			continue
		}
		for _, v := range e.Node.Variants.Edges {
			if v.Node.ID == variant {
				return e.Node.Title, v.Node.Stock
			}
		}
	}
	a.t.Fatalf("product %s variant %s not on the page", product, variant)
	return "", 0
}

// With a CatalogCache a warm catalogue page reads only its page of products
// (the variants are kept) and a warm feed page no cards or variants; a
// product's edit and a shop's stock made through another API process show
// on this one by a PostgreSQL notification (the test waits up to 30 s; the
// TTL is an hour, so nothing else can show them), while stock written
// without an announcement (by hand here, as a checkout takes it) stays
// hidden for the TTL.
func TestCatalogChangesThroughAnotherProcessShow(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	keepingCatalog(t, a.db, a.dsn, time.Hour)
	b := a.replica()
	keepingCatalog(t, b.db, a.dsn, time.Hour)
	f := a.manyContents(4)
	a.titleAndStock(f.productID, f.variantIDs[0])
	a.titleAndStock(f.productID, f.variantIDs[0])
	if n := a.statements.Load(); n != 1 {
		t.Errorf("a warm catalogue page cost %d statements, want 1 (the page)", n)
	}
	feed := `{ feed(first: 10) { edges { node { id ... on Video { products(first: 3) { edges { node { title
		variants { edges { node { sku stock } } } } } } } } } } }`
	var page struct {
		Feed struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.ok("", feed, nil, &page)
	a.ok("", feed, nil, nil)
	warm := a.statements.Load()
	var contents []int64
	for _, e := range page.Feed.Edges {
		contents = append(contents, contentIDOf(t, e.Node.ID))
	}
	if len(contents) == 0 {
		t.Fatal("the feed page is empty")
	}
	a.db.CatalogCache().ForgetContents(contents...)
	a.ok("", feed, nil, nil)
	if cold := a.statements.Load(); warm != cold-1 {
		t.Errorf("a warm feed page cost %d statements, one whose cards were forgotten %d: want one fewer (the cards and variants)", warm, cold)
	}

	title, stock := a.titleAndStock(f.productID, f.variantIDs[0])
	if _, err := a.db.ExecContext(context.Background(), `UPDATE product_variants SET stock = stock + 1000 WHERE id = $1`,
		contentIDOf(t, f.variantIDs[0])); err != nil {
		t.Fatal(err)
	}
	if _, got := a.titleAndStock(f.productID, f.variantIDs[0]); got != stock {
		t.Fatalf("stock written without an announcement showed within the TTL: %d, then %d", stock, got)
	}

	b.titleAndStock(f.productID, f.variantIDs[0])
	b.ok(f.sellerToken, `mutation($in: UpdateProductInput!) { updateProduct(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"id": f.productID, "title": title + " (renamed)"}}, nil)
	b.ok(f.sellerToken, `mutation($in: SetInventoryInput!) { setInventory(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"variantId": f.variantIDs[0], "stock": 77}}, nil)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		gotTitle, gotStock := a.titleAndStock(f.productID, f.variantIDs[0])
		if gotTitle == title+" (renamed)" && gotStock == 77 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes through another process never reached this one: title %q, stock %d", gotTitle, gotStock)
		}
	}
	// The writer's own process shows them at once.
	if gotTitle, gotStock := b.titleAndStock(f.productID, f.variantIDs[0]); gotTitle != title+" (renamed)" || gotStock != 77 {
		t.Fatalf("the writing process shows title %q, stock %d", gotTitle, gotStock)
	}
}

// Stock a checkout takes shows at once in the process it went through (the
// TTL is an hour and nothing announces it), and in no other process before
// the TTL: no notification is sent on the hot path.
func TestCheckoutStockShowsInItsProcess(t *testing.T) {
	a := newTestAPIWith(t, func(*graph.Resolver) {})
	keepingCatalog(t, a.db, a.dsn, time.Hour)
	b := a.replica()
	keepingCatalog(t, b.db, a.dsn, time.Hour)
	f := a.fixture("stocked")
	buyer, _ := a.user("buyer", false)
	_, before := a.titleAndStock(f.productID, f.variantIDs[0])
	b.titleAndStock(f.productID, f.variantIDs[0])
	a.buy(buyer, "stock-1", f.variantIDs[0], 2)
	if _, got := a.titleAndStock(f.productID, f.variantIDs[0]); got != before-2 {
		t.Fatalf("after buying 2 of %d the buyer's process shows stock %d", before, got)
	}
	if _, got := b.titleAndStock(f.productID, f.variantIDs[0]); got != before {
		t.Fatalf("another process shows stock %d within the TTL, want the kept %d (was a notification sent?)", got, before)
	}
}
