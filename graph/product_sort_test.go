package graph_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

// sortFixture is two shops (USD and EUR) with products whose creation
// times, prices and sales tie often, so every order leans on its
// tie-breaker.
type sortFixture struct {
	a           *testAPI
	usd, eur    *store.Shop
	usdToken    string
	buyer       string
	variantOf   map[int64]string // product id → first variant's global ID
	draftID     int64
	productTags map[int64][]string
}

func newSortFixture(t *testing.T) *sortFixture {
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.SalesRankLag = -1 })
	ctx := context.Background()
	f := &sortFixture{a: a, variantOf: map[int64]string{}, productTags: map[int64][]string{}}
	var owner1, owner2 *store.User
	f.usdToken, owner1 = a.user("usdseller", false)
	_, owner2 = a.user("eurseller", false)
	f.buyer, _ = a.user("sortbuyer", false)
	var err error
	if f.usd, err = a.db.CreateShop(ctx, store.NewShop{OwnerID: owner1.ID, Handle: "usd-shop", Name: "USD", OperatingModel: store.SelfOperated, CurrencyCode: "USD"}); err != nil {
		t.Fatal(err)
	}
	if f.eur, err = a.db.CreateShop(ctx, store.NewShop{OwnerID: owner2.ID, Handle: "eur-shop", Name: "EUR", OperatingModel: store.SelfOperated, CurrencyCode: "EUR"}); err != nil {
		t.Fatal(err)
	}
	prices := []int64{1500, 900, 1500, 2500, 900, 1500, 4000, 900, 1200, 1500, 700, 2500, 1500}
	for i, price := range prices {
		shop := f.usd
		if i%4 == 3 {
			shop = f.eur
		}
		status := store.ProductActive
		if i == 5 {
			status = store.ProductDraft
		}
		tags := []string{"all"}
		if i%2 == 0 {
			tags = append(tags, "even")
		}
		stock := 10
		if i%5 == 1 {
			stock = 0
		}
		p, err := a.db.CreateProduct(ctx, store.NewProduct{ShopID: shop.ID, Title: fmt.Sprintf("Sortable glow serum %d", i), Description: "serum",
			Tags: tags, Status: status, Variants: []store.NewVariant{
				{SKU: fmt.Sprintf("S%d-A", i), Title: "A", Price: store.Money{Minor: price, CurrencyCode: shop.CurrencyCode}, Stock: stock},
				{SKU: fmt.Sprintf("S%d-B", i), Title: "B", Price: store.Money{Minor: price + 500, CurrencyCode: shop.CurrencyCode}, Stock: 0},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if status == store.ProductDraft {
			f.draftID = p.ID
		}
		f.productTags[p.ID] = tags
		var vid int64
		if err := a.db.GetContext(ctx, &vid, `SELECT id FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1`, p.ID); err != nil {
			t.Fatal(err)
		}
		f.variantOf[p.ID] = base64URL("ProductVariant:" + fmt.Sprint(vid))
	}
	// Creation times tie in threes.
	if _, err := a.db.ExecContext(ctx, `UPDATE products SET created_at = timestamptz '2026-01-01' + (id / 3) * interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	// Sales: some products sell 1 to 3 units, several tie.
	for i, id := range f.ids() {
		for n := 0; n < i%3 && i%4 != 3 && id != f.draftID; n++ {
			if _, err := a.db.ExecContext(ctx, `UPDATE product_variants SET stock = stock + 1 WHERE id = (SELECT id FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1)`, id); err != nil {
				t.Fatal(err)
			}
			a.buy(f.buyer, fmt.Sprintf("sort-%d-%d", id, n), f.variantOf[id], 1)
		}
	}
	return f
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// ids lists every product id, ascending.
func (f *sortFixture) ids() []int64 {
	var ids []int64
	if err := f.a.db.SelectContext(context.Background(), &ids, `SELECT id FROM products ORDER BY id`); err != nil {
		f.a.t.Fatal(err)
	}
	return ids
}

const productListQuery = `query($first: Int, $after: String, $sort: ProductSortKeys, $reverse: Boolean, $filter: ProductFilter) {
	products(first: $first, after: $after, sortKey: $sort, reverse: $reverse, filter: $filter) {
		edges { cursor node { id } } pageInfo { hasNextPage endCursor } totalCount } }`

type productListOut struct {
	Products struct {
		Edges    []struct{ Node struct{ ID string } }
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
		TotalCount int
	}
}

func (f *sortFixture) page(token string, vars map[string]any) productListOut {
	var out productListOut
	f.a.ok(token, productListQuery, vars, &out)
	return out
}

// walk reads a whole list in pages of size, with between called after
// each page.
func (f *sortFixture) walk(token string, size int, vars map[string]any, between func(page int)) (ids []string, total int) {
	after := any(nil)
	for page := 0; ; page++ {
		v := map[string]any{"first": size, "after": after}
		for k, x := range vars {
			v[k] = x
		}
		out := f.page(token, v)
		total = out.Products.TotalCount
		for _, e := range out.Products.Edges {
			ids = append(ids, e.Node.ID)
		}
		if between != nil {
			between(page)
		}
		if !out.Products.PageInfo.HasNextPage {
			return ids, total
		}
		if page > 50 {
			f.a.t.Fatal("the walk does not end")
		}
		after = out.Products.PageInfo.EndCursor
	}
}

// expected computes an order in Go from the rows, as the schema documents it.
func (f *sortFixture) expected(sortKey string, reverse bool, keep func(r sortRow) bool) []string {
	var rows []sortRow
	if err := f.a.db.SelectContext(context.Background(), &rows, `SELECT p.id, p.created_at, p.status,
			(SELECT min(price_amount) FROM product_variants v WHERE v.product_id = p.id) AS price,
			(SELECT min(currency_code) FROM product_variants v WHERE v.product_id = p.id) AS currency,
			(SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
				WHERE l.product_id = p.id AND o.paid_at IS NOT NULL AND o.cancelled_at IS NULL) AS sold,
			EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id AND v.stock > 0) AS in_stock
		FROM products p`); err != nil {
		f.a.t.Fatal(err)
	}
	rows = slices.DeleteFunc(rows, func(r sortRow) bool { return r.Status != "ACTIVE" || (keep != nil && !keep(r)) })
	less := func(x, y sortRow) int {
		c := 0
		switch sortKey {
		case "CREATED_AT":
			c = x.CreatedAt.Compare(y.CreatedAt)
		case "PRICE":
			if c = strings.Compare(x.Currency, y.Currency); c == 0 {
				c = cmpInt(x.Price, y.Price)
			}
		case "BEST_SELLING":
			c = -cmpInt(x.Sold, y.Sold)
		}
		if c == 0 {
			c = cmpInt(x.ID, y.ID)
			if sortKey == "BEST_SELLING" {
				c = -c
			}
		}
		if reverse {
			c = -c
		}
		return c
	}
	sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) < 0 })
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = base64URL(fmt.Sprintf("Product:%d", r.ID))
	}
	return out
}

type sortRow struct {
	ID        int64     `db:"id"`
	CreatedAt time.Time `db:"created_at"`
	Status    string    `db:"status"`
	Price     int64     `db:"price"`
	Currency  string    `db:"currency"`
	Sold      int64     `db:"sold"`
	InStock   bool      `db:"in_stock"`
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestProductSortKeysPageExactly walks every sort key, both ways, in pages
// of 1, 3 and 4, and compares each walk with one full read and with the
// order computed from the rows as the schema documents it.
func TestProductSortKeysPageExactly(t *testing.T) {
	f := newSortFixture(t)
	for _, key := range []string{"ID", "CREATED_AT", "PRICE", "BEST_SELLING", "RELEVANCE", ""} {
		for _, reverse := range []bool{false, true} {
			vars := map[string]any{"reverse": reverse}
			if key != "" {
				vars["sort"] = key
			}
			if key == "RELEVANCE" {
				vars["filter"] = map[string]any{"search": "glow serum"}
			}
			full := f.page("", mergeVars(vars, map[string]any{"first": 100}))
			var fullIDs []string
			for _, e := range full.Products.Edges {
				fullIDs = append(fullIDs, e.Node.ID)
			}
			if len(fullIDs) != 12 || full.Products.TotalCount != 12 || full.Products.PageInfo.HasNextPage {
				t.Fatalf("%s reverse=%v: full read of %d (totalCount %d)", key, reverse, len(fullIDs), full.Products.TotalCount)
			}
			switch key {
			case "CREATED_AT", "PRICE", "BEST_SELLING":
				if want := f.expected(key, reverse, nil); !slices.Equal(fullIDs, want) {
					t.Errorf("%s reverse=%v:\n got %v\nwant %v", key, reverse, fullIDs, want)
				}
			case "", "ID":
				want := f.expected("", key == "" != reverse, nil) // the default is newest first
				if !slices.Equal(fullIDs, want) {
					t.Errorf("%q reverse=%v:\n got %v\nwant %v", key, reverse, fullIDs, want)
				}
			}
			for _, size := range []int{1, 3, 4} {
				walked, total := f.walk("", size, vars, nil)
				if !slices.Equal(walked, fullIDs) || total != 12 {
					t.Errorf("%s reverse=%v, pages of %d:\n walk %v\n full %v", key, reverse, size, walked, fullIDs)
				}
			}
		}
	}

	t.Run("a cursor of another order is refused", func(t *testing.T) {
		out := f.page("", map[string]any{"first": 2, "sort": "PRICE"})
		resp := f.a.post("", productListQuery, map[string]any{"first": 2, "sort": "CREATED_AT", "after": out.Products.PageInfo.EndCursor})
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("errors %+v", resp.Errors)
		}
		resp = f.a.post("", productListQuery, map[string]any{"first": 2, "sort": "PRICE", "reverse": true, "after": out.Products.PageInfo.EndCursor})
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("reversed: errors %+v", resp.Errors)
		}
		resp = f.a.post("", productListQuery, map[string]any{"first": 2, "sort": "RELEVANCE"})
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("RELEVANCE without search: errors %+v", resp.Errors)
		}
		resp = f.a.post("", productListQuery, map[string]any{"first": 101})
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("first: 101: errors %+v", resp.Errors)
		}
	})
}

func mergeVars(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestBestSellingWalkIsExactWhileSalesChange buys during a BEST_SELLING
// walk: the walk still lists every product once, in the order of its first
// page's moment, while a new walk ranks the new sales.
func TestBestSellingWalkIsExactWhileSalesChange(t *testing.T) {
	f := newSortFixture(t)
	vars := map[string]any{"sort": "BEST_SELLING"}
	before := f.expected("BEST_SELLING", false, nil)
	last := before[len(before)-1]
	var lastID int64
	if _, err := fmt.Sscanf(mustDecode(t, last), "Product:%d", &lastID); err != nil {
		t.Fatal(err)
	}
	walked, _ := f.walk("", 3, vars, func(page int) {
		if page == 0 {
			// The least sold product becomes the best seller mid-walk.
			if _, err := f.a.db.ExecContext(context.Background(), `UPDATE product_variants SET stock = stock + 5 WHERE id = (SELECT id FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1)`, lastID); err != nil {
				t.Fatal(err)
			}
			f.a.buy(f.buyer, "mid-walk", f.variantOf[lastID], 5)
		}
	})
	if !slices.Equal(walked, before) {
		t.Fatalf("walk during sales:\n got %v\nwant %v", walked, before)
	}
	after, _ := f.walk("", 100, vars, nil)
	if after[0] != last || !slices.Equal(after, f.expected("BEST_SELLING", false, nil)) {
		t.Fatalf("a new walk = %v; want %s first", after, last)
	}
}

func mustDecode(t *testing.T, gid string) string {
	s, err := base64Decode(gid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestProductFilters checks each filter (and totalCount) against the rows,
// walking in pages of 2 under PRICE.
func TestProductFilters(t *testing.T) {
	f := newSortFixture(t)
	usdShop := base64URL(fmt.Sprintf("Shop:%d", f.usd.ID))
	for _, tc := range []struct {
		name   string
		filter map[string]any
		keep   func(r sortRow) bool
	}{
		{"shop", map[string]any{"shopId": usdShop}, func(r sortRow) bool { return r.Currency == "USD" }},
		{"tag", map[string]any{"tag": "even"}, func(r sortRow) bool { return slices.Contains(f.productTags[r.ID], "even") }},
		{"price range in USD", map[string]any{"price": map[string]any{"min": "9.00", "max": "15", "currencyCode": "USD"}},
			func(r sortRow) bool { return r.Currency == "USD" && r.Price >= 900 && r.Price <= 1500 }},
		{"price from, in EUR", map[string]any{"price": map[string]any{"min": "12", "currencyCode": "EUR"}},
			func(r sortRow) bool { return r.Currency == "EUR" && r.Price >= 1200 }},
		{"available", map[string]any{"available": true}, func(r sortRow) bool { return r.InStock }},
		{"not available", map[string]any{"available": false}, func(r sortRow) bool { return !r.InStock }},
		{"tag and available in USD", map[string]any{"tag": "even", "available": true, "price": map[string]any{"max": "100", "currencyCode": "USD"}},
			func(r sortRow) bool {
				return slices.Contains(f.productTags[r.ID], "even") && r.InStock && r.Currency == "USD"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := f.expected("PRICE", false, tc.keep)
			got, total := f.walk("", 2, map[string]any{"sort": "PRICE", "filter": tc.filter}, nil)
			if !slices.Equal(got, want) || total != len(want) {
				t.Errorf("got %v (totalCount %d)\nwant %v", got, total, want)
			}
		})
	}
	t.Run("drafts only for the shop's owner", func(t *testing.T) {
		draft := base64URL(fmt.Sprintf("Product:%d", f.draftID))
		anon, anonTotal := f.walk("", 5, map[string]any{"filter": map[string]any{"shopId": usdShop}}, nil)
		owner, ownerTotal := f.walk(f.usdToken, 5, map[string]any{"filter": map[string]any{"shopId": usdShop}}, nil)
		if slices.Contains(anon, draft) || !slices.Contains(owner, draft) || ownerTotal != anonTotal+1 {
			t.Errorf("anonymous %v (%d), owner %v (%d)", anon, anonTotal, owner, ownerTotal)
		}
		shopCount := func(token string) int {
			var out struct {
				Shop struct{ Products struct{ TotalCount int } }
			}
			f.a.ok(token, `{ shop(handle: "usd-shop") { products(first: 1) { totalCount } } }`, nil, &out)
			return out.Shop.Products.TotalCount
		}
		if shopCount("") != anonTotal || shopCount(f.usdToken) != ownerTotal {
			t.Errorf("Shop.products totalCount: anonymous %d, owner %d; want %d, %d", shopCount(""), shopCount(f.usdToken), anonTotal, ownerTotal)
		}
		all, _ := f.walk(f.usdToken, 5, nil, nil)
		if slices.Contains(all, draft) {
			t.Errorf("a draft listed without its shop filter")
		}
	})
	t.Run("bad price filter", func(t *testing.T) {
		resp := f.a.post("", productListQuery, map[string]any{"filter": map[string]any{"price": map[string]any{"min": "ten", "currencyCode": "USD"}}})
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("errors %+v", resp.Errors)
		}
	})
}
