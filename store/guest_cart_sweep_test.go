package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// The guest cart sweep removes carts idle past the retention and nothing
// else: a fresh cart, an adopted one, one with a pending checkout and one
// whose line a checkout claimed stay whole; a guest with orders keeps them
// and its cart key, losing only its cart's contents; a second replica's
// sweep skips while one runs.
func TestGuestCartSweepRemovesOnlyAbandonedCarts(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	seller, err := db.CreateUser(ctx, store.NewUser{Email: "sweep-seller@example.com", PasswordHash: "-", Handle: "sweepseller", DisplayName: "Seller"})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := db.CreateShop(ctx, store.NewShop{OwnerID: seller.ID, Handle: "sweep-shop", Name: "Sweep", OperatingModel: store.SelfOperated, CurrencyCode: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.CreateProduct(ctx, store.NewProduct{ShopID: shop.ID, Title: "Broom", Status: store.ProductActive,
		Variants: []store.NewVariant{{SKU: "B-1", Title: "One", Price: store.Money{Minor: 1000, CurrencyCode: "USD"}, Stock: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	var variantID int64
	if err := db.GetContext(ctx, &variantID, `SELECT id FROM product_variants WHERE product_id = $1`, p.ID); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	type cart struct {
		id  int64
		key string
	}
	// newCart makes a guest cart holding one line, last changed age ago.
	newCart := func(age time.Duration) cart {
		t.Helper()
		id, key, err := db.CreateGuestCart(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := db.AddCartLines(ctx, id, []store.NewCartLine{{VariantID: variantID, Quantity: 1}}); err != nil || len(p) > 0 {
			t.Fatalf("add line: %v %v", p, err)
		}
		if _, err := db.SetCartDestination(ctx, id, "US", nil); err != nil {
			t.Fatal(err)
		}
		secs := age.Seconds()
		exec(`UPDATE guest_carts SET created_at = now() - make_interval(secs => $2) WHERE user_id = $1`, id, secs)
		exec(`UPDATE cart_lines SET created_at = now() - make_interval(secs => $2) WHERE buyer_id = $1`, id, secs)
		exec(`UPDATE cart_destinations SET updated_at = now() - make_interval(secs => $2) WHERE buyer_id = $1`, id, secs)
		return cart{id, key}
	}
	checkout := func(c cart, key, status string, age time.Duration) int64 {
		t.Helper()
		var id int64
		if err := db.GetContext(ctx, &id, `INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status, updated_at)
			VALUES ($1, $2, 'h', $3, now() - make_interval(secs => $4)) RETURNING id`, c.id, key, status, age.Seconds()); err != nil {
			t.Fatal(err)
		}
		return id
	}
	const retention = 24 * time.Hour
	old := 2 * retention

	abandoned := newCart(old)
	fresh := newCart(time.Hour)
	pending := newCart(old)
	checkout(pending, "p", "PENDING", old)
	claimed := newCart(old)
	claim := checkout(claimed, "c", "DECLINED", old)
	exec(`UPDATE cart_lines SET checkout_id = $2 WHERE buyer_id = $1`, claimed.id, claim)
	paid := newCart(old)
	checkout(paid, "paid", "PAID", old)
	recentlyPaid := newCart(old)
	checkout(recentlyPaid, "paid", "PAID", time.Minute)
	adopted := newCart(old)
	exec(`UPDATE guest_carts SET adopted_by = $2 WHERE user_id = $1`, adopted.id, seller.ID)

	// Another replica's sweep is running: this one skips.
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7311540020)`); err != nil {
		t.Fatal(err)
	}
	s := &store.GuestCartSweeper{DB: db, Retention: retention}
	if got, err := s.Sweep(ctx); err != nil || !got.Skipped || got.Removed+got.Emptied != 0 {
		t.Fatalf("sweep while another runs: %+v %v", got, err)
	}
	_ = tx.Rollback()

	got, err := s.Sweep(ctx)
	if err != nil || got != (store.GuestCartsSwept{Removed: 1, Emptied: 1}) {
		t.Fatalf("sweep: %+v %v, want 1 removed (abandoned) and 1 emptied (paid)", got, err)
	}
	lines := func(c cart) int {
		t.Helper()
		var n int
		if err := db.GetContext(ctx, &n, `SELECT count(*) FROM cart_lines WHERE buyer_id = $1`, c.id); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := db.OpenGuestCart(ctx, abandoned.id, abandoned.key); !errors.Is(err, store.ErrCartNotFound) {
		t.Errorf("the abandoned cart still opens: %v", err)
	}
	var guests int
	_ = db.GetContext(ctx, &guests, `SELECT count(*) FROM users WHERE id = $1`, abandoned.id)
	if guests != 0 || lines(abandoned) != 0 {
		t.Errorf("the abandoned guest is kept: %d users, %d lines", guests, lines(abandoned))
	}
	for name, c := range map[string]cart{"fresh": fresh, "pending": pending, "claimed": claimed, "recently paid": recentlyPaid} {
		if err := db.OpenGuestCart(ctx, c.id, c.key); err != nil || lines(c) != 1 {
			t.Errorf("%s cart: open %v, %d lines, want it whole", name, err, lines(c))
		}
	}
	if lines(adopted) != 1 {
		t.Errorf("the adopted cart's rows were touched")
	}
	if err := db.OpenGuestCart(ctx, paid.id, paid.key); err != nil || lines(paid) != 0 {
		t.Errorf("paid guest: open %v, %d lines; want its key kept and its cart emptied", err, lines(paid))
	}
	// Nothing left to do: the emptied guest is not taken again.
	if again, err := s.Sweep(ctx); err != nil || again != (store.GuestCartsSwept{}) {
		t.Fatalf("second sweep: %+v %v", again, err)
	}
}
