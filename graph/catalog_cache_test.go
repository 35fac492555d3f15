package graph_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

// keepingCatalog gives db a CatalogCache of ttl that hears the other API
// processes on dsn, as server/main.go does.
func keepingCatalog(t *testing.T, db *store.DB, dsn string, ttl time.Duration) {
	t.Helper()
	keepingCatalogUnannounced(t, db, dsn, ttl)
	announcingStock(t, db)
}

// announcingStock runs db's stock announcements until the test ends, as
// the server does.
func announcingStock(t *testing.T, db *store.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		db.RunStockAnnouncements(ctx, store.StockAnnounceInterval)
	}()
	t.Cleanup(func() { cancel(); <-announced })
}

// twoKeepingProcesses is two API processes on one database, each keeping
// the catalogue for an hour (only notifications show changes) and
// counting statements.
func twoKeepingProcesses(t *testing.T) (a, b *testAPI) {
	a = newTestAPIWith(t, countingStatements)
	keepingCatalog(t, a.db, a.dsn, time.Hour)
	b = a.replica()
	keepingCatalog(t, b.db, a.dsn, time.Hour)
	return a, b
}

// keepingCatalogUnannounced is keepingCatalog without the stock
// announcements (RunStockAnnouncements): what the checkout path itself
// tells other processes.
func keepingCatalogUnannounced(t *testing.T, db *store.DB, dsn string, ttl time.Duration) {
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

// With a CatalogCache a warm catalogue page costs no statement (its page of
// products and their variants are kept) and a warm feed page reads no cards
// or variants; a
// product's edit and a shop's stock made through another API process show
// on this one by a PostgreSQL notification (the test waits up to 30 s; the
// TTL is an hour, so nothing else can show them), while stock written
// without an announcement (by hand here, as a checkout takes it) stays
// hidden for the TTL.
func TestCatalogChangesThroughAnotherProcessShow(t *testing.T) {
	a, b := twoKeepingProcesses(t)
	f := a.manyContents(4)
	a.titleAndStock(f.productID, f.variantIDs[0])
	a.titleAndStock(f.productID, f.variantIDs[0])
	if n := a.statements.Load(); n != 0 {
		t.Errorf("a warm catalogue page cost %d statements, want 0 (its page and variants are kept)", n)
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
// TTL is an hour), and the checkout itself tells no other process: no
// notification is sent on the hot path (without the process's batched
// stock announcements, another process keeps what it read;
// TestVariantChangesKeepUnfilteredPages has them reach it).
func TestCheckoutStockShowsInItsProcess(t *testing.T) {
	a := newTestAPIWith(t, func(*graph.Resolver) {})
	keepingCatalogUnannounced(t, a.db, a.dsn, time.Hour)
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
		t.Fatalf("another process shows stock %d within the TTL, want the kept %d (did the checkout send a notification?)", got, before)
	}
}

// listedTitles returns the titles on the first catalogue page, newest
// first.
func (a *testAPI) listedTitles() []string {
	a.t.Helper()
	return a.listedTitlesWhere(nil)
}

// A kept catalogue page (products(first: 20), newest first) shows a
// product created or drafted through another API process by a PostgreSQL
// notification (the TTL is an hour: nothing else can show it; the test
// waits up to 30 s), and one created or drafted through its own process
// at once; a warm page costs no statement.
func TestProductListChangesShow(t *testing.T) {
	a, b := twoKeepingProcesses(t)
	f := a.fixture("lister")
	if got := a.listedTitles(); !slices.Equal(got, []string{"lister-serum"}) {
		t.Fatalf("listed %q", got)
	}
	b.listedTitles()
	a.listedTitles()
	if n := a.statements.Load(); n != 0 {
		t.Errorf("a warm catalogue page cost %d statements, want 0", n)
	}

	b.product(f.sellerToken, f.shopID, "lister-toner", nil)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := a.listedTitles(); slices.Equal(got, []string{"lister-toner", "lister-serum"}) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a product created through another process never joined this one's list: %q", got)
		}
	}
	if got := b.listedTitles(); !slices.Equal(got, []string{"lister-toner", "lister-serum"}) {
		t.Fatalf("the creating process lists %q", got)
	}

	b.ok(f.sellerToken, `mutation($in: UpdateProductInput!) { updateProduct(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"id": f.productID, "status": "DRAFT"}}, nil)
	if got := b.listedTitles(); !slices.Equal(got, []string{"lister-toner"}) {
		t.Fatalf("the drafting process lists %q", got)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := a.listedTitles(); slices.Equal(got, []string{"lister-toner"}) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a product drafted through another process never left this one's list: %q", got)
		}
	}

	a.product(f.sellerToken, f.shopID, "lister-mask", nil)
	if got := a.listedTitles(); !slices.Equal(got, []string{"lister-mask", "lister-toner"}) {
		t.Fatalf("the creating process lists %q at once", got)
	}
}

// listedTitlesWhere is listedTitles for products(first: 20, filter: filter).
func (a *testAPI) listedTitlesWhere(filter map[string]any) []string {
	a.t.Helper()
	var p struct {
		Products struct {
			Edges []struct{ Node struct{ Title string } }
		}
	}
	a.ok("", `query($filter: ProductFilter) { products(first: 20, filter: $filter) { edges { node { title } } } }`,
		map[string]any{"filter": filter}, &p)
	var titles []string
	for _, e := range p.Products.Edges {
		titles = append(titles, e.Node.Title)
	}
	return titles
}

// Stock set through another API process (setInventory, a change to a
// product's variants alone) takes the product out of this process's kept
// page of available products at once (a notification; the TTL is an hour),
// while its kept page of every product, which stock cannot change, stays
// kept and costs no statement.
func TestVariantChangesKeepUnfilteredPages(t *testing.T) {
	a, b := twoKeepingProcesses(t)
	f := a.fixture("stocker")
	available := map[string]any{"available": true}
	if got := a.listedTitlesWhere(available); !slices.Equal(got, []string{"stocker-serum"}) {
		t.Fatalf("available: %q", got)
	}
	if got := a.listedTitles(); !slices.Equal(got, []string{"stocker-serum"}) {
		t.Fatalf("all: %q", got)
	}
	for _, v := range f.variantIDs {
		b.ok(f.sellerToken, `mutation($in: SetInventoryInput!) { setInventory(input: $in) { userErrors { code } } }`,
			map[string]any{"in": map[string]any{"variantId": v, "stock": 0}}, nil)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := a.listedTitlesWhere(available); len(got) == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a product sold out through another process is still listed as available here: %q", got)
		}
	}
	a.statements.Store(0)
	if got := a.listedTitles(); !slices.Equal(got, []string{"stocker-serum"}) {
		t.Fatalf("all after the sell-out: %q", got)
	}
	if n := a.statements.Load(); n != 0 {
		t.Errorf("the page of every product was forgotten with a stock change: %d statements", n)
	}
	if got := a.listedTitlesWhere(map[string]any{"available": false}); !slices.Equal(got, []string{"stocker-serum"}) {
		t.Fatalf("unavailable: %q", got)
	}

	// The last unit bought through this process: out of its available
	// page at once, and its page of every product still kept.
	b.setStock(f.sellerToken, f.variantIDs[0], 1)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := a.listedTitlesWhere(available); len(got) == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a product restocked through another process is not listed as available here: %q", got)
		}
	}
	if got := b.listedTitlesWhere(available); len(got) != 1 {
		t.Fatalf("the restocking process lists %q as available", got)
	}
	buyer, _ := a.user("stocker-buyer", false)
	var out checkoutOut
	a.ok(buyer, checkoutMutation, checkoutInput("last-unit", "tok_ok", line(f.variantIDs[0], 1)), &out)
	if len(out.Checkout.Orders) != 1 {
		t.Fatalf("checkout = %+v", out)
	}
	if got := a.listedTitlesWhere(available); len(got) != 0 {
		t.Fatalf("the product whose last unit this process sold is still listed as available: %q", got)
	}
	a.statements.Store(0)
	a.listedTitles()
	if n := a.statements.Load(); n != 0 {
		t.Errorf("the page of every product was forgotten with a checkout: %d statements", n)
	}
	// The other process hears of the sale (RunStockAnnouncements), and of
	// the stock a cancellation gives back, without waiting out its TTL.
	eventually := func(what string, want int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if got := b.listedTitlesWhere(available); len(got) == want {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("%s: the other process lists %q as available", what, got)
			}
		}
	}
	eventually("a sale through another process", 0)
	if o, resp := a.change(f.sellerToken, cancelMutation, map[string]any{"id": out.Checkout.Orders[0].ID}); o.Order == nil {
		t.Fatalf("cancel = %+v %+v", o, resp.Errors)
	}
	eventually("a cancellation through another process", 1)
}

// A process that keeps no catalogue (CATALOG_CACHE_TTL=0, or a read
// replica) still announces the stock its checkouts take and the products
// its sellers edit: other processes on the database may keep them.
func TestProcessWithoutACacheAnnounces(t *testing.T) {
	a := newTestAPIWith(t, func(*graph.Resolver) {})
	announcingStock(t, a.db)
	b := a.replica()
	keepingCatalog(t, b.db, a.dsn, time.Hour)
	f := a.fixture("uncached")
	buyer, _ := a.user("uncached-buyer", false)
	title, before := b.titleAndStock(f.productID, f.variantIDs[0])
	a.buy(buyer, "uncached-1", f.variantIDs[0], 2)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, got := b.titleAndStock(f.productID, f.variantIDs[0]); got == before-2 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a sale through a process without a cache never reached one with: stock %d (was %d)", got, before)
		}
	}
	a.ok(f.sellerToken, `mutation($in: UpdateProductInput!) { updateProduct(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"id": f.productID, "title": title + " (renamed)"}}, nil)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if gotTitle, _ := b.titleAndStock(f.productID, f.variantIDs[0]); gotTitle == title+" (renamed)" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("an edit through a process without a cache never reached one with: %q", gotTitle)
		}
	}
}
