package store_test

import (
	"context"
	"reflect"
	"testing"
)

// CardsWithVariantsByContentIDs answers in one statement what
// ProductsByContentIDs and VariantsByContentIDs answer in two, campaign
// prices included (the demo data's running campaign), for every content.
func TestCardsWithVariantsEqualCardsAndVariants(t *testing.T) {
	ctx := context.Background()
	db, ids := seededCatalog(t)
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
	sameVariants(t, "variants", variants, wantVariants)
	campaignPriced := 0
	for _, want := range wantVariants {
		for _, w := range want {
			if w.CampaignPriceAmount != nil {
				campaignPriced++
			}
		}
	}
	if campaignPriced == 0 {
		t.Fatal("no variant on a card is campaign-priced: the test checks no campaign price")
	}
}
