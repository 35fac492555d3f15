package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"showcase/store"
	"showcase/store/storetest"
)

// contents.card_categories (migration 0024), which the For You ranking
// scores a candidate's category affinity with, follows every write that
// changes a content's cards or a card product's category, including
// concurrent ones, and always equals what the cards say now.
func TestCardCategoriesFollowCardsAndProductTags(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.NewUser{Email: "s@example.com", PasswordHash: "-", Handle: "seller", DisplayName: "S"})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := db.CreateShop(ctx, store.NewShop{OwnerID: u.ID, Handle: "shop", Name: "Shop", OperatingModel: store.SelfOperated, CurrencyCode: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	product := func(title string, tags ...string) int64 {
		t.Helper()
		p, err := db.CreateProduct(ctx, store.NewProduct{ShopID: shop.ID, Title: title, Tags: tags, Status: store.ProductActive,
			Variants: []store.NewVariant{{SKU: title, Title: "one", Price: store.Money{Minor: 100, CurrencyCode: "USD"}, Stock: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	serum, lamp, plain := product("serum", "beauty", "serum"), product("lamp", "home"), product("plain")
	v, err := db.PublishVideo(ctx, store.NewVideo{AuthorID: u.ID, ShopID: &shop.ID, Caption: "c", PlaybackURL: "https://x/1",
		DurationSeconds: 10, ProductIDs: []int64{serum, lamp, plain}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(id int64, want ...string) {
		t.Helper()
		var got, fresh []string
		if err := db.QueryRowContext(ctx, `SELECT card_categories, (SELECT coalesce(array_agg(DISTINCT p.tags[1]) FILTER (WHERE p.tags[1] IS NOT NULL), '{}')
			FROM content_products cp JOIN products p ON p.id = cp.product_id WHERE cp.content_id = c.id) FROM contents c WHERE id = $1`, id).
			Scan(pq.Array(&got), pq.Array(&fresh)); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		slices.Sort(fresh)
		if want == nil {
			want = []string{}
		}
		if got == nil {
			got = []string{}
		}
		if !slices.Equal(got, want) || !slices.Equal(got, fresh) {
			t.Fatalf("content %d: card_categories %v, want %v (the cards say %v)", id, got, want, fresh)
		}
	}
	check(v.ID, "beauty", "home") // published with its cards; a product without tags has no category

	// A product's first tag edited: every content carrying it follows.
	if _, err := db.UpdateProduct(ctx, lamp, store.ProductUpdate{Tags: []string{"garden", "home"}, SetTags: true}); err != nil {
		t.Fatal(err)
	}
	check(v.ID, "beauty", "garden")
	// Another tag edited: the category is the same.
	if _, err := db.UpdateProduct(ctx, serum, store.ProductUpdate{Tags: []string{"beauty"}, SetTags: true}); err != nil {
		t.Fatal(err)
	}
	check(v.ID, "beauty", "garden")
	// A card removed or moved to another product (any path that writes the table).
	if _, err := db.ExecContext(ctx, `DELETE FROM content_products WHERE content_id = $1 AND product_id = $2`, v.ID, serum); err != nil {
		t.Fatal(err)
	}
	check(v.ID, "garden")
	if _, err := db.ExecContext(ctx, `UPDATE content_products SET product_id = $3 WHERE content_id = $1 AND product_id = $2`, v.ID, lamp, serum); err != nil {
		t.Fatal(err)
	}
	check(v.ID, "beauty")

	// Cards added to one content at once, each in its own transaction.
	live, err := db.ScheduleLiveSession(ctx, store.NewLiveSession{HostID: u.ID, ShopID: &shop.ID, Title: "live", ScheduledStartAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	check(live.ID)
	var wg sync.WaitGroup
	want := []string{}
	for i := range 8 {
		cat := fmt.Sprintf("cat%d", i)
		want = append(want, cat)
		p := product(cat, cat)
		wg.Go(func() {
			if _, err := db.ExecContext(ctx, `INSERT INTO content_products (content_id, product_id) VALUES ($1, $2)`, live.ID, p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	check(live.ID, want...)
}
