package store_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"showcase/store"
)

// review4: what a CatalogCache keeps of product lists is bounded in
// memory, not only in pages. A list's key holds the client's filter.tag
// and `after` as sent: a tag longer than any tag can be (40 characters;
// such a list is empty), and a cursor padded with newlines (base64 skips
// them) or with JSON fields the cursor does not have, are accepted and
// each kept under a key as long as what was sent (a 1 MiB body, 30
// aliases: 31 keys of ~1 MB each a request, 10,000 kept). A key is at
// most 1 KiB here (a tag and a cursor the server writes are far shorter).
func TestCatalogCacheListKeysStayShort(t *testing.T) {
	db, _ := seededCatalog(t)
	ctx := context.Background()
	c := keepingLists(t, db)
	long := strings.Repeat("x", 64<<10)
	if _, err := db.ListProductsSorted(ctx, store.ProductList{Tag: long}, store.PageArgs{First: 5}); err != nil {
		t.Fatal(err)
	}
	_, cursors, _ := pageIDs(t, ctx, db, store.ProductList{}, store.PageArgs{First: 2})
	if len(cursors) == 0 {
		t.Fatal("no product listed")
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursors[0])
	if err != nil {
		t.Fatal(err)
	}
	padded := map[string]string{
		"newlines":      cursors[0][:4] + strings.Repeat("\n", 64<<10) + cursors[0][4:],
		"unknown field": base64.RawURLEncoding.EncodeToString([]byte(`{"pad":"` + long + `",` + string(raw[1:]))),
	}
	for name, after := range padded {
		if _, err := db.ListProductsSorted(ctx, store.ProductList{}, store.PageArgs{First: 5, After: after}); err != nil {
			t.Errorf("a cursor padded with %s: %v", name, err)
		}
	}
	if pages, longest, _, _ := c.ListsKept(); longest > 1<<10 {
		t.Errorf("%d pages kept, the longest key %d bytes", pages, longest)
	}
}

// review4: the product rows kept across list pages stay within the bound
// the cache keeps products to (100,000 rows, maxCachedCatalog). Every
// cursor past the newest product names the same page of 100, under a key
// of its own: 10,000 pages (maxCachedLists) keep a million copies of
// rows (title, description of up to 5,000 characters, tags): gigabytes,
// which stay until a product is written (nothing expires them), from one
// anonymous caller at the default rate limit in minutes. The pages share
// one copy of each row.
func TestCatalogCacheListRowsStayBounded(t *testing.T) {
	db, _ := seededCatalog(t)
	ctx := context.Background()
	var shop int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM shops ORDER BY id LIMIT 1`).Scan(&shop); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO products (shop_id, title, status)
		SELECT $1, 'bulk-' || g, 'ACTIVE' FROM generate_series(1, 100) g`, shop); err != nil {
		t.Fatal(err)
	}
	c := keepingLists(t, db)
	for i := range 1100 {
		after := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"s":"ID","r":true,"i":%d}`, 1_000_000_000+i))
		if _, err := db.ListProductsSorted(ctx, store.ProductList{Reverse: true}, store.PageArgs{First: 100, After: after}); err != nil {
			t.Fatal(err)
		}
	}
	var products int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM products`).Scan(&products); err != nil {
		t.Fatal(err)
	}
	if pages, _, rows, copies := c.ListsKept(); rows > 100_000 || copies > products {
		t.Errorf("%d pages kept hold %d product rows, %d copies of the %d products", pages, rows, copies, products)
	}
}

// keepingLists gives db a listening CatalogCache with a TTL of a minute
// (its clock stands still) for the test.
func keepingLists(t *testing.T, db *store.DB) *store.CatalogCache {
	var mu sync.Mutex
	now := time.Now()
	c := store.NewCatalogCache(time.Minute)
	c.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c.SetListening(true)
	mu.Lock()
	now = now.Add(time.Nanosecond)
	mu.Unlock()
	db.UseCatalogCache(c)
	t.Cleanup(func() { db.UseCatalogCache(nil) })
	return c
}
