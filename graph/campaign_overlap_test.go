package graph_test

import (
	"sync"
	"testing"
	"time"
)

// A variant is never enrolled in two campaigns whose windows overlap
// (CAMPAIGN_OVERLAP), however the overlap would come about: two
// enrolments of it in two overlapping campaigns at the same moment (each
// saw no other enrolment), or an admin moving a campaign's window over
// another's that already holds one of its variants.
func TestCampaignOverlapHoldsUnderConcurrencyAndWindowMoves(t *testing.T) {
	a := newTestAPI(t)
	w := newCampaignWorld(t, a, "first")
	start := time.Now().Add(time.Hour)
	var out struct{ CampaignCreate campaignPayloadOut }
	a.ok(w.adminToken, campaignCreateMutation, campaignInput("second", start.Add(time.Hour)), &out)
	if out.CampaignCreate.Campaign == nil {
		t.Fatalf("campaignCreate: %+v", out.CampaignCreate.UserErrors)
	}
	second := out.CampaignCreate.Campaign.ID
	overlapping := func() int {
		t.Helper()
		var n int
		if err := a.db.Get(&n, `SELECT count(*) FROM campaign_variants a JOIN campaign_variants b ON a.variant_id = b.variant_id AND a.campaign_id < b.campaign_id
			JOIN campaigns ca ON ca.id = a.campaign_id JOIN campaigns cb ON cb.id = b.campaign_id
			WHERE ca.starts_at < cb.ends_at AND cb.starts_at < ca.ends_at`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	withdraw := `mutation($c: ID!, $s: ID!, $v: [ID!]!) { campaignWithdraw(campaignId: $c, shopId: $s, variantIds: $v) { userErrors { code } } }`
	for round := 0; round < 20; round++ {
		for _, c := range []string{w.campaignID, second} {
			a.ok(w.f.sellerToken, withdraw, map[string]any{"c": c, "s": w.f.shopID, "v": w.f.variantIDs}, nil)
		}
		var wg sync.WaitGroup
		for _, c := range []string{w.campaignID, second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.post(w.f.sellerToken, campaignEnrolMutation, map[string]any{"c": c, "s": w.f.shopID,
					"e": []map[string]any{{"variantId": w.f.variantIDs[0], "percentOff": 20}}})
			}()
		}
		wg.Wait()
		if n := overlapping(); n != 0 {
			t.Fatalf("round %d: two enrolments at once put a variant in two overlapping campaigns", round)
		}
	}

	// The second campaign moves to a day later, where it overlaps nothing;
	// the variant is enrolled in both; then moving it back over the first
	// is refused.
	for _, c := range []string{w.campaignID, second} {
		a.ok(w.f.sellerToken, withdraw, map[string]any{"c": c, "s": w.f.shopID, "v": w.f.variantIDs}, nil)
	}
	update := `mutation($in: CampaignUpdateInput!) { campaignUpdate(input: $in) { campaign { id } userErrors { field code message } } }`
	var upd struct{ CampaignUpdate campaignPayloadOut }
	a.ok(w.adminToken, update, map[string]any{"in": map[string]any{"id": second,
		"startsAt": start.Add(48 * time.Hour).UTC().Format(time.RFC3339Nano), "endsAt": start.Add(72 * time.Hour).UTC().Format(time.RFC3339Nano)}}, &upd)
	if len(upd.CampaignUpdate.UserErrors) > 0 {
		t.Fatalf("move away: %+v", upd.CampaignUpdate.UserErrors)
	}
	if ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "percentOff": 20}); len(ue) > 0 {
		t.Fatalf("enrol in the first: %+v", ue)
	}
	var en struct{ CampaignEnrol campaignPayloadOut }
	a.ok(w.f.sellerToken, campaignEnrolMutation, map[string]any{"c": second, "s": w.f.shopID, "e": []map[string]any{{"variantId": w.f.variantIDs[0], "percentOff": 20}}}, &en)
	if len(en.CampaignEnrol.UserErrors) > 0 {
		t.Fatalf("enrol in the second, a day later: %+v", en.CampaignEnrol.UserErrors)
	}
	upd.CampaignUpdate = campaignPayloadOut{}
	a.ok(w.adminToken, update, map[string]any{"in": map[string]any{"id": second,
		"startsAt": start.Add(time.Hour).UTC().Format(time.RFC3339Nano), "endsAt": start.Add(25 * time.Hour).UTC().Format(time.RFC3339Nano)}}, &upd)
	if len(upd.CampaignUpdate.UserErrors) != 1 || upd.CampaignUpdate.UserErrors[0].Code != "CAMPAIGN_OVERLAP" {
		t.Fatalf("moving a campaign over another holding its variant: %+v", upd.CampaignUpdate.UserErrors)
	}
	if n := overlapping(); n != 0 {
		t.Fatal("the window move put a variant in two overlapping campaigns")
	}
}
