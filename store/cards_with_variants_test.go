package store_test

import (
	"context"
	"reflect"
	"testing"

	"showcase/media"
	"showcase/server/demo"
	"showcase/store/storetest"
)

// CardsWithVariantsByContentIDs answers in one statement what
// ProductsByContentIDs and VariantsByContentIDs answer in two, campaign
// prices included (the demo data's running campaign), for every content.
func TestCardsWithVariantsEqualCardsAndVariants(t *testing.T) {
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
	// A product on no card of the list, and an unknown content.
	ids = append(ids, 1<<40)
	cards, variants, err := db.CardsWithVariantsByContentIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	wantCards, err := db.ProductsByContentIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	wantVariants, err := db.VariantsByContentIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cards, wantCards) {
		t.Fatalf("cards differ:\n%v\nwant\n%v", cards, wantCards)
	}
	if len(variants) != len(wantVariants) {
		t.Fatalf("variants of %d products, want %d", len(variants), len(wantVariants))
	}
	campaignPriced := 0
	for product, want := range wantVariants {
		got := variants[product]
		if len(got) != len(want) {
			t.Fatalf("product %d: %d variants, want %d", product, len(got), len(want))
		}
		for i := range want {
			g, w := *got[i], *want[i]
			if !g.CreatedAt.Equal(w.CreatedAt) {
				t.Fatalf("product %d variant %d: created %v, want %v", product, w.ID, g.CreatedAt, w.CreatedAt)
			}
			g.CreatedAt = w.CreatedAt
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("product %d variant:\n%+v\nwant\n%+v", product, g, w)
			}
			if w.CampaignPriceAmount != nil {
				campaignPriced++
			}
		}
	}
	if campaignPriced == 0 {
		t.Fatal("no variant on a card is campaign-priced: the test checks no campaign price")
	}
}
