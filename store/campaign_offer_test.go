package store_test

import (
	"context"
	"strings"
	"testing"

	"showcase/store"
	"showcase/store/storetest"
)

// A page of variants is campaign-priced by campaign_offer_rows inlined into
// the statement (migration 0025): its plan has no function scan and no
// campaign_offer call, only campaign_variants read by index per variant.
func TestVariantCampaignPricingIsInlined(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	var plan strings.Builder
	rows, err := db.QueryContext(ctx, `EXPLAIN (VERBOSE, COSTS OFF) `+store.VariantsByProductsSQL, "{1,2,3}")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	got := plan.String()
	if strings.Contains(got, "Function Scan") || strings.Contains(got, "campaign_offer") {
		t.Errorf("campaign pricing is not inlined; plan:\n%s", got)
	}
	if !strings.Contains(got, "campaign_variants") {
		t.Errorf("plan does not read campaign_variants:\n%s", got)
	}
}
