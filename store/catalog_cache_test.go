package store_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"showcase/media"
	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

// seededCatalog is a demo-seeded database and every content's id.
func seededCatalog(t *testing.T) (*store.DB, []int64) {
	t.Helper()
	ctx := context.Background()
	db := storetest.NewDB(t)
	dir, err := media.NewDir(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	opts := demo.DefaultOptions()
	opts.Media = dir
	if _, err := demo.Seed(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := db.SelectContext(ctx, &ids, `SELECT id FROM contents ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return db, ids
}

// counting returns a context counting the statements run with it.
func counting() (context.Context, func() int64) {
	ctx, n := store.WithStatementCounter(context.Background())
	return ctx, n.Load
}

// sameVariants fails unless got and want hold the same variants, every
// field (times compared as instants).
func sameVariants(t *testing.T, what string, got, want map[int64][]*store.ProductVariant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: variants of %d products, want %d", what, len(got), len(want))
	}
	for product, w := range want {
		g, ok := got[product]
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: product %d: %d variants (present %v), want %d", what, product, len(g), ok, len(w))
		}
		for i := range w {
			gv, wv := *g[i], *w[i]
			if !gv.CreatedAt.Equal(wv.CreatedAt) {
				t.Fatalf("%s: variant %d created %v, want %v", what, wv.ID, gv.CreatedAt, wv.CreatedAt)
			}
			gv.CreatedAt = wv.CreatedAt
			if !reflect.DeepEqual(gv, wv) {
				t.Fatalf("%s: product %d variant:\n%+v\nwant\n%+v", what, product, gv, wv)
			}
		}
	}
}

// A CatalogCache answers what the statements answer (cards in card order,
// inactive products left out, every variant field, campaign prices
// included), cold and warm, and a warm read runs no statement.
func TestCatalogCacheAnswersAsTheStatements(t *testing.T) {
	db, ids := seededCatalog(t)
	ctx := context.Background()
	// A product no longer active: its cards are left out.
	if _, err := db.ExecContext(ctx, `UPDATE products SET status = 'ARCHIVED'
		WHERE id = (SELECT product_id FROM content_products ORDER BY content_id, position LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, 1<<40) // an unknown content
	wantCards, wantVariants, err := db.CardsWithVariantsByContentIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	c := store.NewCatalogCache(time.Hour)
	c.SetListening(true) // as Listen does once it has begun
	for _, round := range []string{"cold", "warm"} {
		cctx, statements := counting()
		cards, variants, err := c.Cards(cctx, db, ids, true)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{"cold": 1, "warm": 0}[round]; statements() != want {
			t.Errorf("%s cards: %d statements, want %d", round, statements(), want)
		}
		if !reflect.DeepEqual(cards, wantCards) {
			t.Fatalf("%s cards differ:\n%v\nwant\n%v", round, cards, wantCards)
		}
		sameVariants(t, round+" cards", variants, wantVariants)
		onlyCards, none, err := c.Cards(ctx, db, ids, false)
		if err != nil || none != nil || !reflect.DeepEqual(onlyCards, wantCards) {
			t.Fatalf("%s cards without variants: %v, %v, %v", round, onlyCards, none, err)
		}
	}
	campaignPriced := 0
	var products []int64
	for id, vs := range wantVariants {
		products = append(products, id)
		for _, v := range vs {
			if v.CampaignPriceAmount != nil {
				campaignPriced++
			}
		}
	}
	if campaignPriced == 0 {
		t.Fatal("no variant on a card is campaign-priced: the test checks no campaign price")
	}
	// Variants by product: the catalogue page's read, on a fresh cache.
	products = append(products, 1<<40)
	want, err := db.VariantsByProductIDs(ctx, products)
	if err != nil {
		t.Fatal(err)
	}
	c = store.NewCatalogCache(time.Hour)
	c.SetListening(true) // as Listen does once it has begun
	for _, round := range []string{"cold", "warm"} {
		cctx, statements := counting()
		got, err := c.VariantsFor(cctx, db, products)
		if err != nil {
			t.Fatal(err)
		}
		if w := map[string]int64{"cold": 1, "warm": 0}[round]; statements() != w {
			t.Errorf("%s variants: %d statements, want %d", round, statements(), w)
		}
		sameVariants(t, round+" variants", got, want)
	}
}

// aCard is a content carrying one active product that no campaign holds,
// with one of its variants and its shop.
type aCard struct{ content, product, variant, shop int64 }

func findCard(t *testing.T, db *store.DB) aCard {
	t.Helper()
	var c aCard
	if err := db.QueryRowContext(context.Background(), `SELECT cp.content_id, p.id, v.id, p.shop_id
		FROM content_products cp JOIN products p ON p.id = cp.product_id JOIN product_variants v ON v.product_id = p.id
		WHERE p.status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM campaign_variants cv WHERE cv.product_id = p.id)
		ORDER BY cp.content_id, v.id LIMIT 1`).Scan(&c.content, &c.product, &c.variant, &c.shop); err != nil {
		t.Fatal(err)
	}
	return c
}

// cardOf reads, through c, card's product and variant.
func cardOf(t *testing.T, ctx context.Context, c *store.CatalogCache, db *store.DB, card aCard) (*store.Product, *store.ProductVariant) {
	t.Helper()
	cards, variants, err := c.Cards(ctx, db, []int64{card.content}, true)
	if err != nil {
		t.Fatal(err)
	}
	var p *store.Product
	for _, cp := range cards[card.content] {
		if cp.ID == card.product {
			p = cp
		}
	}
	for _, v := range variants[card.product] {
		if v.ID == card.variant {
			return p, v
		}
	}
	t.Fatalf("content %d: variant %d not among the cards' variants", card.content, card.variant)
	return nil, nil
}

// What is written without an announcement (stock taken by checkouts, rows
// written by hand) is kept for the TTL, and read again after it.
func TestCatalogCacheKeepsForTheTTL(t *testing.T) {
	db, _ := seededCatalog(t)
	card := findCard(t, db)
	var mu sync.Mutex
	now := time.Now()
	c := store.NewCatalogCache(time.Second)
	c.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c.SetListening(true)           // as Listen does once it has begun
	now = now.Add(time.Nanosecond) // reads begun when it began are not kept
	ctx := context.Background()
	_, before := cardOf(t, ctx, c, db, card)
	if _, err := db.ExecContext(ctx, `UPDATE product_variants SET stock = stock + 5 WHERE id = $1`, card.variant); err != nil {
		t.Fatal(err)
	}
	cctx, statements := counting()
	if _, v := cardOf(t, cctx, c, db, card); v.Stock != before.Stock || statements() != 0 {
		t.Fatalf("within the TTL: stock %d after %d statements, want the kept %d after none", v.Stock, statements(), before.Stock)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if _, v := cardOf(t, ctx, c, db, card); v.Stock != before.Stock+5 {
		t.Fatalf("after the TTL: stock %d, want %d", v.Stock, before.Stock+5)
	}
	// Variants by product expire alike.
	got, err := c.VariantsFor(ctx, db, []int64{card.product})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE product_variants SET stock = stock + 5 WHERE product_id = $1`, card.product); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(999 * time.Millisecond)
	mu.Unlock()
	if again, _ := c.VariantsFor(ctx, db, []int64{card.product}); again[card.product][0].Stock != got[card.product][0].Stock {
		t.Fatal("variants by product were read again within the TTL")
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if again, _ := c.VariantsFor(ctx, db, []int64{card.product}); again[card.product][0].Stock != got[card.product][0].Stock+5 {
		t.Fatal("variants by product were kept past the TTL")
	}
}

// While the listening connection is lost nothing is kept (a change
// announced meanwhile would not be heard); once it is back, reads are kept
// again.
func TestCatalogCacheKeepsNothingWhileDeaf(t *testing.T) {
	db, ids := seededCatalog(t)
	c := store.NewCatalogCache(time.Hour)
	c.SetListening(true) // as Listen does once it has begun
	c.SetListening(false)
	for range 2 {
		ctx, statements := counting()
		if _, _, err := c.Cards(ctx, db, ids, true); err != nil || statements() != 1 {
			t.Fatalf("deaf: %d statements (%v), want 1 every read", statements(), err)
		}
	}
	c.SetListening(true)
	c.Cards(context.Background(), db, ids, true)
	if ctx, statements := counting(); func() error { _, _, err := c.Cards(ctx, db, ids, true); return err }() != nil || statements() != 0 {
		t.Fatalf("listening again: %d statements, want none", statements())
	}
}

// Writes through the store forget what the process keeps before they
// return (the TTL is an hour and nothing is listened to here): a
// product's edit, a shop's stock, and an enrolment in a campaign, whose
// price then shows when the campaign starts, by the clock, without a
// write.
func TestCatalogCacheForgetsItsProcessWrites(t *testing.T) {
	db, _ := seededCatalog(t)
	card := findCard(t, db)
	c := store.NewCatalogCache(time.Hour)
	c.SetListening(true) // as Listen does once it has begun
	db.UseCatalogCache(c)
	ctx := context.Background()
	cardOf(t, ctx, c, db, card)
	title := "Renamed in the test"
	if _, err := db.UpdateProduct(ctx, card.product, store.ProductUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if p, _ := cardOf(t, ctx, c, db, card); p == nil || p.Title != title {
		t.Fatalf("after the edit the card is %+v, want title %q", p, title)
	}
	if _, err := db.SetInventory(ctx, card.variant, 4242); err != nil {
		t.Fatal(err)
	}
	if _, v := cardOf(t, ctx, c, db, card); v.Stock != 4242 {
		t.Fatalf("after setInventory the stock is %d, want 4242", v.Stock)
	}
	if vs, _ := c.VariantsFor(ctx, db, []int64{card.product}); len(vs[card.product]) == 0 {
		t.Fatal("no variants by product")
	}
	archived := "ARCHIVED"
	if _, err := db.UpdateProduct(ctx, card.product, store.ProductUpdate{Status: &archived}); err != nil {
		t.Fatal(err)
	}
	if cards, _, _ := c.Cards(ctx, db, []int64{card.content}, true); len(cards[card.content]) > 0 {
		for _, p := range cards[card.content] {
			if p.ID == card.product {
				t.Fatal("an archived product is still on the cards")
			}
		}
	}
	if vs, _ := c.VariantsFor(ctx, db, []int64{card.product}); vs[card.product][0].ProductState != archived {
		t.Fatalf("variants by product say the product is %s, want %s", vs[card.product][0].ProductState, archived)
	}
	active := store.ProductActive
	if _, err := db.UpdateProduct(ctx, card.product, store.ProductUpdate{Status: &active}); err != nil {
		t.Fatal(err)
	}

	// A campaign starting in two seconds: enrolling forgets the product
	// (its price changes at the start), and the kept price turns into the
	// campaign's at the start.
	var admin int64
	if err := db.GetContext(ctx, &admin, `SELECT id FROM users ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(2 * time.Second)
	k, err := db.CreateCampaign(ctx, store.NewCampaign{Handle: "soon", Name: "Soon", StartsAt: start, EndsAt: start.Add(time.Hour),
		MinPercentOff: 10, MaxPercentOff: 50, CreatedBy: admin})
	if err != nil {
		t.Fatal(err)
	}
	off := 20
	if p, err := db.Enrol(ctx, k.ID, card.shop, []store.Enrolment{{VariantID: card.variant, PercentOff: &off}}); err != nil || len(p) > 0 {
		t.Fatalf("enrol: %v, %v", p, err)
	}
	_, v := cardOf(t, ctx, c, db, card)
	if v.CampaignPriceAmount != nil || time.Now().After(start) {
		t.Skipf("the campaign started before the first read (slow machine): %+v", v)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, v = cardOf(t, ctx, c, db, card)
		if v.CampaignID != nil && *v.CampaignID == k.ID {
			t.Logf("campaign price shown %v after the start", time.Since(start))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the campaign's price never showed after its start")
		}
	}
	if vs, _ := c.VariantsFor(ctx, db, []int64{card.product}); func() bool {
		for _, x := range vs[card.product] {
			if x.ID == card.variant {
				return x.CampaignID == nil
			}
		}
		return true
	}() {
		t.Fatal("variants by product miss the campaign price after its start")
	}
}

// A kept price expires at its campaign's boundary as PostgreSQL counts it,
// whatever this host's clock says: here the cache's clock is an hour behind
// the database's, and the entry read a minute before a campaign starts is
// read again a minute later by the cache's clock (not an hour and a minute).
func TestCatalogCacheCampaignBoundaryByTheDatabaseClock(t *testing.T) {
	db, _ := seededCatalog(t)
	card := findCard(t, db)
	ctx := context.Background()
	var admin int64
	if err := db.GetContext(ctx, &admin, `SELECT id FROM users ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(time.Minute)
	k, err := db.CreateCampaign(ctx, store.NewCampaign{Handle: "later", Name: "Later", StartsAt: start, EndsAt: start.Add(time.Hour),
		MinPercentOff: 10, MaxPercentOff: 50, CreatedBy: admin})
	if err != nil {
		t.Fatal(err)
	}
	off := 20
	if p, err := db.Enrol(ctx, k.ID, card.shop, []store.Enrolment{{VariantID: card.variant, PercentOff: &off}}); err != nil || len(p) > 0 {
		t.Fatalf("enrol: %v, %v", p, err)
	}
	var mu sync.Mutex
	behind := time.Now().Add(-time.Hour)
	c := store.NewCatalogCache(time.Hour)
	c.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return behind })
	c.SetListening(true) // as Listen does once it has begun
	advance := func(d time.Duration) {
		mu.Lock()
		behind = behind.Add(d)
		mu.Unlock()
	}
	advance(time.Nanosecond) // reads begun when listening began are not kept
	cardOf(t, ctx, c, db, card)
	if _, err := c.VariantsFor(ctx, db, []int64{card.product}); err != nil {
		t.Fatal(err)
	}
	advance(30 * time.Second)
	cctx, statements := counting()
	cardOf(t, cctx, c, db, card)
	if _, err := c.VariantsFor(cctx, db, []int64{card.product}); err != nil {
		t.Fatal(err)
	}
	if statements() != 0 {
		t.Fatalf("half a minute before the campaign's start: %d statements, want the kept entries", statements())
	}
	advance(31 * time.Second) // past the start, by the cache's clock
	cctx, statements = counting()
	if _, err := c.VariantsFor(cctx, db, []int64{card.product}); err != nil {
		t.Fatal(err)
	}
	if statements() == 0 {
		t.Fatal("the variants were kept past their campaign's start as the database counts it (the host's clock is behind)")
	}
	cctx, statements = counting()
	cardOf(t, cctx, c, db, card)
	if statements() == 0 {
		t.Fatal("the cards were kept past their campaign's start as the database counts it (the host's clock is behind)")
	}
}

// A campaign change announces its products by looking them up after its
// commit: a request context ended by then (the client gone, the request
// timed out) still finds them, so the change is forgotten and announced
// (review7: UpdateCampaign and WithdrawFromCampaign forgot nothing then).
func TestProductsOfVariantsOutliveTheRequest(t *testing.T) {
	db, _ := seededCatalog(t)
	card := findCard(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := db.ProductsOfVariants(ctx, []int64{card.variant}); len(got) != 1 || got[0] != card.product {
		t.Fatalf("products of variant %d with an ended context: %v, want [%d]", card.variant, got, card.product)
	}
}
