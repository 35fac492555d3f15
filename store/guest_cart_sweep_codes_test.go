package store_test

import (
	"context"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// A guest cart holding a discount code is swept like any other: the code
// row refers to the guest, and a sweep that did not remove it failed
// whole on the guest's deletion, every time, so no guest cart was removed
// any more. A guest with orders loses its cart's codes with its lines.
func TestGuestCartSweepCartWithDiscountCode(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	seller, err := db.CreateUser(ctx, store.NewUser{Email: "sweepcode-seller@example.com", PasswordHash: "-", Handle: "sweepcodeseller", DisplayName: "Seller"})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := db.CreateShop(ctx, store.NewShop{OwnerID: seller.ID, Handle: "sweepcode-shop", Name: "Sweep", OperatingModel: store.SelfOperated, CurrencyCode: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.CreateProduct(ctx, store.NewProduct{ShopID: shop.ID, Title: "Mop", Status: store.ProductActive,
		Variants: []store.NewVariant{{SKU: "M-1", Title: "One", Price: store.Money{Minor: 1000, CurrencyCode: "USD"}, Stock: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	var variantID int64
	if err := db.GetContext(ctx, &variantID, `SELECT id FROM product_variants WHERE product_id = $1`, p.ID); err != nil {
		t.Fatal(err)
	}
	bps := 1000
	if _, problems, err := db.CreateDiscountCode(ctx, shop.ID, store.DiscountCodeFields{Code: "SWEEP10", PercentBps: &bps, Active: true}); err != nil || len(problems) > 0 {
		t.Fatalf("code: %v %v", problems, err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const retention = 24 * time.Hour
	newCart := func() int64 {
		t.Helper()
		id, _, err := db.CreateGuestCart(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := db.AddCartLines(ctx, id, []store.NewCartLine{{VariantID: variantID, Quantity: 1}}); err != nil || len(p) > 0 {
			t.Fatalf("add line: %v %v", p, err)
		}
		if p, err := db.SetCartDiscountCodes(ctx, id, []string{"sweep10"}); err != nil || len(p) > 0 {
			t.Fatalf("codes: %v %v", p, err)
		}
		exec(`UPDATE guest_carts SET created_at = now() - interval '2 days' WHERE user_id = $1`, id)
		exec(`UPDATE cart_lines SET created_at = now() - interval '2 days' WHERE buyer_id = $1`, id)
		return id
	}
	never := newCart()
	withOrders := newCart()
	exec(`INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status, updated_at) VALUES ($1, 'k', 'h', 'PAID', now() - interval '2 days')`, withOrders)

	sweeper := &store.GuestCartSweeper{DB: db, Retention: retention}
	got, err := sweeper.Sweep(ctx)
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if got.Removed != 1 || got.Emptied != 1 {
		t.Fatalf("swept %+v, want 1 removed and 1 emptied", got)
	}
	var guests, codes int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users WHERE id = $1), (SELECT count(*) FROM cart_discount_codes WHERE buyer_id = ANY(ARRAY[$1, $2]::bigint[]))`,
		never, withOrders).Scan(&guests, &codes); err != nil {
		t.Fatal(err)
	}
	if guests != 0 || codes != 0 {
		t.Fatalf("after the sweep: guest left %d, cart codes left %d; want 0 and 0", guests, codes)
	}
}
