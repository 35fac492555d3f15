package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"showcase/store"
)

// pageIDs returns a page's product ids and cursors, and whether a next page
// exists.
func pageIDs(t *testing.T, ctx context.Context, db *store.DB, f store.ProductList, args store.PageArgs) ([]int64, []string, bool) {
	t.Helper()
	pg, err := db.ListProductsSorted(ctx, f, args)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	var cursors []string
	for _, e := range pg.Edges {
		ids = append(ids, e.Node.ID)
		cursors = append(cursors, e.Cursor)
	}
	return ids, cursors, pg.HasNextPage
}

// A CatalogCache keeps pages of the plainest product lists (by id or
// creation time, by shop, tag or availability) for its TTL, answering as
// the statement does and then costing none; it never keeps a list that
// changes without a product write (a collection's, a price filter's, by
// price or sales, a search, or one with drafts). A product drafted by hand
// (nothing announces it) leaves a kept page after the TTL.
func TestCatalogCacheKeepsProductListPages(t *testing.T) {
	db, _ := seededCatalog(t)
	card := findCard(t, db)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	c := store.NewCatalogCache(time.Second)
	c.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c.SetListening(true)
	mu.Lock()
	now = now.Add(time.Nanosecond)
	mu.Unlock()
	yes, no := true, false
	shop := card.shop
	var collection int64
	if err := db.QueryRowContext(ctx, `INSERT INTO collections (shop_id, handle, title) VALUES ($1, 'kept-lists', 'Kept lists') RETURNING id`, shop).Scan(&collection); err != nil {
		t.Fatal(err)
	}
	first := store.PageArgs{First: 5}
	kept := []store.ProductList{{}, {Reverse: true}, {ShopID: &shop}, {Tag: "skincare"}, {Available: &yes}, {Available: &no},
		{SortKey: store.SortCreatedAt}, {SortKey: store.SortCreatedAt, Reverse: true}}
	for i, f := range kept {
		wantIDs, wantCursors, wantNext := pageIDs(t, ctx, db, f, first) // no cache yet
		db.UseCatalogCache(c)
		gotIDs, gotCursors, gotNext := pageIDs(t, ctx, db, f, first)
		cctx, statements := counting()
		againIDs, _, _ := pageIDs(t, cctx, db, f, first)
		db.UseCatalogCache(nil)
		if !slices.Equal(gotIDs, wantIDs) || !slices.Equal(gotCursors, wantCursors) || gotNext != wantNext || !slices.Equal(againIDs, wantIDs) {
			t.Errorf("list %d (%+v): kept %v %v, statement %v", i, f, gotIDs, againIDs, wantIDs)
		}
		if statements() != 0 {
			t.Errorf("list %d (%+v): a kept page cost %d statements", i, f, statements())
		}
		if len(wantIDs) > 0 && wantNext {
			// the next page is kept by its cursor
			db.UseCatalogCache(c)
			after := store.PageArgs{First: 5, After: wantCursors[len(wantCursors)-1]}
			next, _, _ := pageIDs(t, ctx, db, f, after)
			cctx, statements := counting()
			again, _, _ := pageIDs(t, cctx, db, f, after)
			db.UseCatalogCache(nil)
			if slices.Equal(next, wantIDs) || !slices.Equal(again, next) || statements() != 0 {
				t.Errorf("list %d (%+v): next page %v, again %v after %d statements", i, f, next, again, statements())
			}
		}
	}
	db.UseCatalogCache(c)
	defer db.UseCatalogCache(nil)
	for i, f := range []store.ProductList{{CollectionID: &collection}, {IncludeDrafts: true, ShopID: &shop}, {PriceCurrency: "USD"},
		{SortKey: store.SortPrice}, {SortKey: store.SortBestSelling, SalesRankLag: -1}, {Search: "serum"}} {
		pageIDs(t, ctx, db, f, first)
		cctx, statements := counting()
		pageIDs(t, cctx, db, f, first)
		if statements() == 0 {
			t.Errorf("list %d (%+v) was kept", i, f)
		}
	}

	ids, _, _ := pageIDs(t, ctx, db, store.ProductList{ShopID: &shop}, first)
	if len(ids) == 0 {
		t.Fatal("the shop lists no product")
	}
	if _, err := db.ExecContext(ctx, `UPDATE products SET status = 'DRAFT' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := pageIDs(t, ctx, db, store.ProductList{ShopID: &shop}, first); !slices.Equal(again, ids) {
		t.Fatalf("within the TTL a page changed without an announcement: %v, then %v", ids, again)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if again, _, _ := pageIDs(t, ctx, db, store.ProductList{ShopID: &shop}, first); slices.Contains(again, ids[0]) {
		t.Fatalf("after the TTL the drafted product %d is still listed: %v", ids[0], again)
	}
	// A product forgotten (an edit through the API) forgets every page.
	ids, _, _ = pageIDs(t, ctx, db, store.ProductList{}, first)
	if _, err := db.ExecContext(ctx, `UPDATE products SET status = 'DRAFT' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	c.ForgetProducts(ids[0])
	if again, _, _ := pageIDs(t, ctx, db, store.ProductList{}, first); slices.Contains(again, ids[0]) {
		t.Fatalf("a forgotten product is still listed: %v", again)
	}

	// A product's variants forgotten (stock, prices) forget only the pages
	// filtered by availability.
	mu.Lock()
	now = now.Add(time.Nanosecond) // past the forget above
	mu.Unlock()
	plain, _, _ := pageIDs(t, ctx, db, store.ProductList{}, first)
	avail, _, _ := pageIDs(t, ctx, db, store.ProductList{Available: &yes}, first)
	if len(avail) == 0 {
		t.Fatal("no product is available")
	}
	if _, err := db.ExecContext(ctx, `UPDATE product_variants SET stock = 0 WHERE product_id = $1`, avail[0]); err != nil {
		t.Fatal(err)
	}
	c.ForgetVariants(avail[0])
	cctx, statements := counting()
	if again, _, _ := pageIDs(t, cctx, db, store.ProductList{}, first); !slices.Equal(again, plain) || statements() != 0 {
		t.Errorf("a variant change forgot the unfiltered page: %v after %d statements, was %v", again, statements(), plain)
	}
	if again, _, _ := pageIDs(t, ctx, db, store.ProductList{Available: &yes}, first); slices.Contains(again, avail[0]) {
		t.Errorf("a product sold out and forgotten is still listed as available: %v", again)
	}
}
