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

// Checkout's short path prices the variants it reads, and re-finds the
// offer before taking the stock, with campaign_offer_rows inlined into the
// statement: no campaign_offer call (a SQL function PostgreSQL cannot
// inline, parsed and planned afresh on every execution of the statement)
// and no function scan, only campaign_variants read by index.
func TestCheckoutCampaignPricingIsInlined(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, sql string
		args      []any
	}{
		{"read", store.CheckoutReadVariantsSQL, []any{"{1,2}", "US", 0}},
		// Without ANALYZE nothing is written; the parameters' types come
		// from the statement, and their values (NULL) do not matter.
		{"reserve one", store.CheckoutReserveOneSQL, make([]any, 46)},
		{"reserve many", store.CheckoutReserveManySQL, make([]any, 46)},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := db.QueryContext(ctx, `EXPLAIN (VERBOSE, COSTS OFF) `+c.sql, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan strings.Builder
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
			if strings.Contains(got, "campaign_offer") || strings.Contains(got, "Function Scan on public.") {
				t.Errorf("campaign pricing is not inlined; plan:\n%s", got)
			}
			if !strings.Contains(got, "campaign_variants") {
				t.Errorf("plan does not read campaign_variants:\n%s", got)
			}
		})
	}
}
