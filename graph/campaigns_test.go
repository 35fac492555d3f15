package graph_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

const campaignCreateMutation = `mutation($in: CampaignCreateInput!) { campaignCreate(input: $in) {
	campaign { id handle name running minPercentOff maxPercentOff } userErrors { field code message } } }`

const campaignEnrolMutation = `mutation($c: ID!, $s: ID!, $e: [CampaignEnrolmentInput!]!) { campaignEnrol(campaignId: $c, shopId: $s, enrolments: $e) {
	campaign { id } userErrors { field code message } } }`

const variantCampaignQuery = `query($id: ID!) { node(id: $id) { ... on ProductVariant { price { amount } compareAtPrice { amount } campaign { handle }
	product { campaign { handle } priceRange { min { amount } } } } } }`

type campaignPayloadOut struct {
	Campaign *struct {
		ID, Handle, Name string
		Running          bool
	}
	UserErrors []userError
}

// campaignWorld is an admin, a campaign starting in an hour (10% to 50%
// off), and a seller's shop with a product (variants 19.90 and 29.00).
type campaignWorld struct {
	a          *testAPI
	adminToken string
	campaignID string
	campaignDB int64
	f          fixture
}

func newCampaignWorld(t *testing.T, a *testAPI, handle string) campaignWorld {
	t.Helper()
	adminToken, admin := a.user(handle+"-admin", false)
	if _, err := a.db.Exec(`UPDATE users SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	var out struct{ CampaignCreate campaignPayloadOut }
	a.ok(adminToken, campaignCreateMutation, campaignInput(handle, time.Now().Add(time.Hour)), &out)
	if len(out.CampaignCreate.UserErrors) > 0 || out.CampaignCreate.Campaign == nil {
		t.Fatalf("campaignCreate: %+v", out.CampaignCreate.UserErrors)
	}
	var id int64
	if err := a.db.Get(&id, `SELECT id FROM campaigns WHERE handle = $1`, handle); err != nil {
		t.Fatal(err)
	}
	return campaignWorld{a: a, adminToken: adminToken, campaignID: out.CampaignCreate.Campaign.ID, campaignDB: id, f: a.fixture(handle + "-seller")}
}

func campaignInput(handle string, start time.Time) map[string]any {
	return map[string]any{"in": map[string]any{"handle": handle, "name": "Campaign " + handle,
		"startsAt": start.UTC().Format(time.RFC3339Nano), "endsAt": start.Add(24 * time.Hour).UTC().Format(time.RFC3339Nano),
		"minPercentOff": 10, "maxPercentOff": 50}}
}

// enrol enrols variants (id → price or percentOff) as token and returns the user errors.
func (w campaignWorld) enrol(token, shopID string, enrolments ...map[string]any) []userError {
	w.a.t.Helper()
	var out struct{ CampaignEnrol campaignPayloadOut }
	w.a.ok(token, campaignEnrolMutation, map[string]any{"c": w.campaignID, "s": shopID, "e": enrolments}, &out)
	return out.CampaignEnrol.UserErrors
}

// shift moves the campaign's window, as time passing would: it starts at
// now() + start and ends at now() + end.
func (w campaignWorld) shift(start, end string) {
	w.a.t.Helper()
	if _, err := w.a.db.Exec(`UPDATE campaigns SET starts_at = now() + $2::interval, ends_at = now() + $3::interval WHERE id = $1`,
		w.campaignDB, start, end); err != nil {
		w.a.t.Fatal(err)
	}
}

func (w campaignWorld) enrolments() int {
	w.a.t.Helper()
	var n int
	if err := w.a.db.Get(&n, `SELECT count(*) FROM campaign_variants WHERE campaign_id = $1`, w.campaignDB); err != nil {
		w.a.t.Fatal(err)
	}
	return n
}

func TestCampaignsOnlyAdminsCreateAndOnlyTheShopEnrols(t *testing.T) {
	a := newTestAPI(t)
	w := newCampaignWorld(t, a, "double11")

	t.Run("OnlyAdminsCreate", func(t *testing.T) {
		for _, token := range []string{w.f.sellerToken, ""} {
			resp := a.post(token, campaignCreateMutation, campaignInput("sneaky", time.Now().Add(time.Hour)))
			if len(resp.Errors) == 0 || (resp.code() != "FORBIDDEN" && resp.code() != "UNAUTHENTICATED") {
				t.Fatalf("non-admin campaignCreate: %+v", resp.Errors)
			}
		}
		var n int
		if err := a.db.Get(&n, `SELECT count(*) FROM campaigns`); err != nil || n != 1 {
			t.Fatalf("campaigns: %d, %v", n, err)
		}
	})
	t.Run("CreateRulesAreChecked", func(t *testing.T) {
		for name, in := range map[string]map[string]any{
			"BadHandle": campaignInput("Double 11!", time.Now().Add(time.Hour)),
			"Taken":     campaignInput("DOUBLE11", time.Now().Add(time.Hour)),
			"Past":      campaignInput("past", time.Now().Add(-time.Hour)),
		} {
			if name == "BadRules" {
				continue
			}
			var out struct{ CampaignCreate campaignPayloadOut }
			a.ok(w.adminToken, campaignCreateMutation, in, &out)
			if len(out.CampaignCreate.UserErrors) != 1 || out.CampaignCreate.Campaign != nil {
				t.Errorf("%s: %+v", name, out.CampaignCreate.UserErrors)
			}
		}
		in := campaignInput("badrules", time.Now().Add(time.Hour))
		in["in"].(map[string]any)["minPercentOff"] = 60
		var out struct{ CampaignCreate campaignPayloadOut }
		a.ok(w.adminToken, campaignCreateMutation, in, &out)
		if len(out.CampaignCreate.UserErrors) == 0 {
			t.Errorf("min above max accepted")
		}
	})
	t.Run("SellerEnrolsOwnVariantWithinRules", func(t *testing.T) {
		// 19.90 at 15.00 is 24.6% off: within 10–50%.
		if ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "price": "15.00"}); len(ue) > 0 {
			t.Fatalf("enrol: %+v", ue)
		}
		if n := w.enrolments(); n != 1 {
			t.Fatalf("enrolments %d", n)
		}
	})
	t.Run("OutOfRuleEnrolmentWritesNothing", func(t *testing.T) {
		for name, e := range map[string]map[string]any{
			"TooLittleOff":   {"variantId": w.f.variantIDs[1], "price": "28.00"},
			"TooMuchOff":     {"variantId": w.f.variantIDs[1], "price": "10.00"},
			"PercentTooHigh": {"variantId": w.f.variantIDs[1], "percentOff": 60},
			"PercentTooLow":  {"variantId": w.f.variantIDs[1], "percentOff": 5},
			"Both":           {"variantId": w.f.variantIDs[1], "percentOff": 20, "price": "20.00"},
			"BadPrice":       {"variantId": w.f.variantIDs[1], "price": "20.001"},
		} {
			// A good enrolment beside the bad one is not written either.
			ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "price": "12.00"}, e)
			if len(ue) != 1 || ue[0].Code != "INVALID" && ue[0].Code != "CAMPAIGN_RULE" {
				t.Errorf("%s: %+v", name, ue)
			}
		}
		var price int64
		if err := a.db.Get(&price, `SELECT price_amount FROM campaign_variants WHERE campaign_id = $1`, w.campaignDB); err != nil || price != 1500 || w.enrolments() != 1 {
			t.Fatalf("enrolment changed: price %d, %d enrolments, %v", price, w.enrolments(), err)
		}
	})
	t.Run("SellersEnrolOnlyTheirOwnShops", func(t *testing.T) {
		other := a.fixture("other")
		// Another seller names this shop: FORBIDDEN.
		resp := a.post(other.sellerToken, campaignEnrolMutation, map[string]any{"c": w.campaignID, "s": w.f.shopID,
			"e": []map[string]any{{"variantId": w.f.variantIDs[1], "percentOff": 20}}})
		if resp.code() != "FORBIDDEN" {
			t.Fatalf("other seller on this shop: %+v", resp.Errors)
		}
		// Another seller names their own shop but this shop's variant: NOT_FOUND.
		ue := w.enrol(other.sellerToken, other.shopID, map[string]any{"variantId": w.f.variantIDs[1], "percentOff": 20})
		if len(ue) != 1 || ue[0].Code != "NOT_FOUND" {
			t.Fatalf("other shop's variant: %+v", ue)
		}
		if n := w.enrolments(); n != 1 {
			t.Fatalf("enrolments %d", n)
		}
	})
	t.Run("AppsNeedCatalogWriteOfTheirShop", func(t *testing.T) {
		readOnly, _ := a.appToken(w.f.sellerToken, w.f.shopID, []string{"catalog:read"})
		resp := a.post(readOnly, campaignEnrolMutation, map[string]any{"c": w.campaignID, "s": w.f.shopID,
			"e": []map[string]any{{"variantId": w.f.variantIDs[1], "percentOff": 20}}})
		if resp.code() != "FORBIDDEN" {
			t.Fatalf("catalog:read app: %+v", resp.Errors)
		}
		writer, _ := a.appToken(w.f.sellerToken, w.f.shopID, []string{"catalog:write"})
		if ue := w.enrol(writer, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[1], "percentOff": 20}); len(ue) > 0 {
			t.Fatalf("catalog:write app: %+v", ue)
		}
		var price int64
		if err := a.db.Get(&price, `SELECT v.price_amount FROM campaign_variants v JOIN product_variants p ON p.id = v.variant_id
			WHERE v.campaign_id = $1 AND p.price_amount = 2900`, w.campaignDB); err != nil || price != 2320 {
			t.Fatalf("29.00 at 20%% off: %d, %v", price, err)
		}
	})
	t.Run("NodeAndRootFieldsAgree", func(t *testing.T) {
		q := `query($id: ID!, $h: String!) { node(id: $id) { ... on Campaign { handle figures { orders } } }
			nodes(ids: [$id]) { ... on Campaign { handle figures { orders } } }
			campaign(handle: $h) { id handle figures { orders } }
			campaigns(first: 5) { edges { node { id } } } }`
		for name, token := range map[string]string{"Anonymous": "", "Seller": w.f.sellerToken, "Admin": w.adminToken} {
			var out struct {
				Node *struct {
					Handle  string
					Figures *struct{ Orders int }
				}
				Nodes []*struct {
					Handle  string
					Figures *struct{ Orders int }
				}
				Campaign *struct {
					ID, Handle string
					Figures    *struct{ Orders int }
				}
				Campaigns struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
			a.ok(token, q, map[string]any{"id": w.campaignID, "h": "Double11"}, &out)
			if out.Node == nil || out.Nodes[0] == nil || out.Campaign == nil || out.Node.Handle != "double11" ||
				len(out.Campaigns.Edges) != 1 || out.Campaigns.Edges[0].Node.ID != w.campaignID {
				t.Fatalf("%s: %+v", name, out)
			}
			admin := name == "Admin"
			if (out.Node.Figures != nil) != admin || (out.Nodes[0].Figures != nil) != admin || (out.Campaign.Figures != nil) != admin {
				t.Errorf("%s: figures through node %v, nodes %v, campaign %v", name, out.Node.Figures, out.Nodes[0].Figures, out.Campaign.Figures)
			}
		}
		// An app without catalog:read gets null through node, as through campaign(handle:).
		app, _ := a.appToken(w.f.sellerToken, w.f.shopID, []string{"orders:read"})
		var out struct{ Node *struct{ Handle string } }
		a.ok(app, `query($id: ID!) { node(id: $id) { ... on Campaign { handle } } }`, map[string]any{"id": w.campaignID}, &out)
		if out.Node != nil {
			t.Errorf("orders:read app sees the campaign through node")
		}
		if resp := a.post(app, `{ campaign(handle: "double11") { id } }`, nil); resp.code() != "FORBIDDEN" {
			t.Errorf("orders:read app through campaign(handle:): %+v", resp.Errors)
		}
	})
	t.Run("EnrolmentClosesAtTheStart", func(t *testing.T) {
		w.shift("-1 minute", "1 hour")
		ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "price": "18.00"})
		if len(ue) != 1 || ue[0].Code != "CAMPAIGN_STARTED" {
			t.Fatalf("enrol after start: %+v", ue)
		}
		var out struct{ CampaignUpdate campaignPayloadOut }
		a.ok(w.adminToken, `mutation($in: CampaignUpdateInput!) { campaignUpdate(input: $in) { campaign { id name } userErrors { field code message } } }`,
			map[string]any{"in": map[string]any{"id": w.campaignID, "minPercentOff": 1}}, &out)
		if len(out.CampaignUpdate.UserErrors) != 1 || out.CampaignUpdate.UserErrors[0].Code != "CAMPAIGN_STARTED" {
			t.Fatalf("rules changed after start: %+v", out.CampaignUpdate.UserErrors)
		}
		a.ok(w.adminToken, `mutation($in: CampaignUpdateInput!) { campaignUpdate(input: $in) { campaign { id name } userErrors { field code message } } }`,
			map[string]any{"in": map[string]any{"id": w.campaignID, "name": "Double 11 (renamed)"}}, &out)
		if len(out.CampaignUpdate.UserErrors) != 0 {
			t.Fatalf("rename after start: %+v", out.CampaignUpdate.UserErrors)
		}
		var price int64
		if err := a.db.Get(&price, `SELECT v.price_amount FROM campaign_variants v JOIN product_variants p ON p.id = v.variant_id
			WHERE v.campaign_id = $1 AND p.price_amount = 1990`, w.campaignDB); err != nil || price != 1500 {
			t.Fatalf("campaign price moved after the start: %d, %v", price, err)
		}
	})
}

func TestCampaignPriceFollowsTheWindow(t *testing.T) {
	a := newTestAPI(t)
	w := newCampaignWorld(t, a, "window")
	if ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "price": "15.00"}); len(ue) > 0 {
		t.Fatalf("enrol: %+v", ue)
	}
	type variantOut struct {
		Node struct {
			Price          struct{ Amount string }
			CompareAtPrice *struct{ Amount string }
			Campaign       *struct{ Handle string }
			Product        struct {
				Campaign   *struct{ Handle string }
				PriceRange struct{ Min struct{ Amount string } }
			}
		}
	}
	check := func(when, price string, running bool) {
		t.Helper()
		var out variantOut
		a.ok("", variantCampaignQuery, map[string]any{"id": w.f.variantIDs[0]}, &out)
		n := out.Node
		if n.Price.Amount != price || (n.Campaign != nil) != running || (n.CompareAtPrice != nil) != running ||
			(n.Product.Campaign != nil) != running || n.Product.PriceRange.Min.Amount != price {
			t.Fatalf("%s: %+v", when, n)
		}
		if running && (n.CompareAtPrice.Amount != "19.90" || n.Campaign.Handle != "window") {
			t.Fatalf("%s: %+v", when, n)
		}
	}
	check("before the start", "19.90", false)
	w.shift("-1 hour", "1 hour")
	check("during", "15.00", true)
	w.shift("-2 hours", "-1 second")
	check("after the end", "19.90", false)

	t.Run("Boundaries", func(t *testing.T) {
		var start, end time.Time
		if err := a.db.QueryRow(`SELECT starts_at, ends_at FROM campaigns WHERE id = $1`, w.campaignDB).Scan(&start, &end); err != nil {
			t.Fatal(err)
		}
		var variantID int64
		if err := a.db.Get(&variantID, `SELECT variant_id FROM campaign_variants WHERE campaign_id = $1`, w.campaignDB); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at   time.Time
			want bool
		}{{start.Add(-time.Microsecond), false}, {start, true}, {end.Add(-time.Microsecond), true}, {end, false}} {
			offers, err := a.db.CampaignOffersAt(context.Background(), []int64{variantID}, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if o, ok := offers[variantID]; ok != c.want || (ok && o.Price != 1500) {
				t.Errorf("at %v (start %v, end %v): %+v, want running %v", c.at, start, end, offers, c.want)
			}
		}
	})
}

// TestCampaignCreditOnlyThroughEnrolment buys the same variant before,
// during and after a campaign, with and without a client-sent campaign tag,
// and a cart added before the start and checked out during it.
func TestCampaignCreditOnlyThroughEnrolment(t *testing.T) {
	a := newTestAPI(t)
	w := newCampaignWorld(t, a, "credit")
	if _, err := a.db.Exec(`UPDATE product_variants SET stock = 50`); err != nil {
		t.Fatal(err)
	}
	if ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "price": "15.00"},
		map[string]any{"variantId": w.f.variantIDs[1], "percentOff": 50}); len(ue) > 0 {
		t.Fatalf("enrol: %+v", ue)
	}
	buyerToken, _ := a.user("credit-buyer", false)
	creatorToken, _ := a.user("credit-creator", true)
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(creatorToken, publishVideoMutation, videoInput(w.f.productID), &pv)
	buy := func(key string, tag bool, qty int, variant string) checkoutOut {
		t.Helper()
		in := checkoutInput(key, "tok_ok", line(variant, qty))
		in["in"].(map[string]any)["sourceContentId"] = pv.PublishVideo.Video.ID
		if tag {
			in["in"].(map[string]any)["campaign"] = "credit"
		}
		var out checkoutOut
		a.ok(buyerToken, checkoutMutation, in, &out)
		if len(out.Checkout.UserErrors) > 0 {
			t.Fatalf("%s: %+v", key, out.Checkout.UserErrors)
		}
		return out
	}
	// Before the start, with the tag: list price, no credit.
	if out := buy("before", true, 1, w.f.variantIDs[0]); out.Checkout.Orders[0].Subtotal.Amount != "19.90" {
		t.Fatalf("before: %+v", out.Checkout.Orders[0])
	}
	// A cart line added before the start, at the list price.
	a.ok(buyerToken, `mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { cart { id } userErrors { code } } }`,
		map[string]any{"l": []map[string]any{line(w.f.variantIDs[0], 2)}}, nil)

	w.shift("-1 hour", "1 hour")
	// During, without a tag: campaign price, credited.
	if out := buy("during", false, 3, w.f.variantIDs[0]); out.Checkout.Orders[0].Subtotal.Amount != "45.00" {
		t.Fatalf("during: %+v", out.Checkout.Orders[0])
	}
	if out := buy("during-l", false, 1, w.f.variantIDs[1]); out.Checkout.Orders[0].Subtotal.Amount != "14.50" {
		t.Fatalf("during, 50%% off 29.00: %+v", out.Checkout.Orders[0])
	}
	// The cart shows the campaign price; checking it out at the total seen
	// before the start is TOTAL_CHANGED with PRICE_CHANGED, and writes nothing.
	var cart struct {
		Viewer struct {
			Cart struct {
				ID    string
				Cost  struct{ TotalAmount struct{ Amount string } }
				Lines []struct {
					Cost struct{ AmountPerQuantity struct{ Amount string } }
				}
			}
		}
	}
	a.ok(buyerToken, `{ viewer { cart { id cost { totalAmount { amount } } lines { cost { amountPerQuantity { amount } } } } } }`, nil, &cart)
	if cart.Viewer.Cart.Lines[0].Cost.AmountPerQuantity.Amount != "15.00" {
		t.Fatalf("cart line during the campaign: %+v", cart.Viewer.Cart)
	}
	stale := map[string]any{"in": map[string]any{"cartId": cart.Viewer.Cart.ID, "idempotencyKey": "cart-stale", "shippingAddress": address,
		"payment": map[string]any{"token": "tok_ok"}, "expectedTotal": map[string]any{"amount": "39.80", "currencyCode": "USD"}}}
	var refused checkoutOut
	a.ok(buyerToken, checkoutMutation, stale, &refused)
	codes := map[string]bool{}
	for _, e := range refused.Checkout.UserErrors {
		codes[e.Code] = true
	}
	if len(refused.Checkout.Orders) != 0 || !codes["TOTAL_CHANGED"] || !codes["PRICE_CHANGED"] {
		t.Fatalf("stale cart total: %+v", refused.Checkout)
	}
	// Without expectedTotal the line's seen price refuses it as well.
	delete(stale["in"].(map[string]any), "expectedTotal")
	stale["in"].(map[string]any)["idempotencyKey"] = "cart-stale-2"
	a.ok(buyerToken, checkoutMutation, stale, &refused)
	if len(refused.Checkout.Orders) != 0 || len(refused.Checkout.UserErrors) == 0 || refused.Checkout.UserErrors[0].Code != "PRICE_CHANGED" {
		t.Fatalf("stale cart line: %+v", refused.Checkout)
	}

	w.shift("-2 hours", "-1 second")
	// After the end, with the tag: list price, no credit.
	if out := buy("after", true, 1, w.f.variantIDs[0]); out.Checkout.Orders[0].Subtotal.Amount != "19.90" {
		t.Fatalf("after: %+v", out.Checkout.Orders[0])
	}

	var lines []struct {
		Key      string `db:"idempotency_key"`
		Campaign *int64 `db:"campaign_id"`
		Unit     int64  `db:"unit_price_amount"`
	}
	if err := a.db.Select(&lines, `SELECT c.idempotency_key, l.campaign_id, l.unit_price_amount FROM order_lines l
		JOIN orders o ON o.id = l.order_id JOIN checkouts c ON c.id = o.checkout_id ORDER BY l.id`); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(len(lines))
	for _, l := range lines {
		got += fmt.Sprintf(" %s:%d:%v", l.Key, l.Unit, l.Campaign != nil && *l.Campaign == w.campaignDB)
	}
	if want := "4 before:1990:false during:1500:true during-l:1450:true after:1990:false"; got != want {
		t.Fatalf("lines %s, want %s", got, want)
	}

	// The campaign's figures and the shop's CAMPAIGNS channel come from the
	// credited lines only.
	var fig struct {
		Campaign struct {
			Figures struct {
				Orders, UnitsSold int
				GmvByCurrency     []struct{ Amount, CurrencyCode string }
				TopProducts       []struct {
					Product       struct{ ID string }
					UnitsSold     int
					GmvByCurrency []struct{ Amount string }
				}
				TopContent []struct {
					Content   struct{ ID string }
					Orders    int
					UnitsSold int
				}
			}
		}
	}
	a.ok(w.adminToken, `{ campaign(handle: "credit") { figures { orders unitsSold gmvByCurrency { amount currencyCode }
		topProducts { product { id } unitsSold gmvByCurrency { amount } }
		topContent { content { ... on Video { id } } orders unitsSold } } } }`, nil, &fig)
	f := fig.Campaign.Figures
	if f.Orders != 2 || f.UnitsSold != 4 || fmt.Sprint(f.GmvByCurrency) != "[{59.50 USD}]" ||
		len(f.TopProducts) != 1 || f.TopProducts[0].Product.ID != w.f.productID || f.TopProducts[0].UnitsSold != 4 ||
		f.TopProducts[0].GmvByCurrency[0].Amount != "59.50" ||
		len(f.TopContent) != 1 || f.TopContent[0].Content.ID != pv.PublishVideo.Video.ID || f.TopContent[0].Orders != 2 {
		t.Fatalf("figures %+v", f)
	}
	var shop struct {
		Node struct {
			Metrics struct {
				ByChannel []struct {
					Channel string
					Orders  int
					Gmv     struct{ Amount string }
				}
			}
		}
	}
	a.ok(w.f.sellerToken, `query($id: ID!) { node(id: $id) { ... on Shop { metrics { byChannel { channel orders gmv { amount } } } } } }`,
		map[string]any{"id": w.f.shopID}, &shop)
	for _, c := range shop.Node.Metrics.ByChannel {
		if c.Channel == "CAMPAIGNS" && (c.Orders != 2 || c.Gmv.Amount != "59.50") {
			t.Fatalf("CAMPAIGNS channel %+v", c)
		}
	}
}

// TestCampaignEndUnderConcurrentCheckouts ends a campaign while checkouts
// of its variant run: every line is either at the campaign price and
// credited, or at the list price and not, whichever side of the end its
// transaction fell on.
func TestCampaignEndUnderConcurrentCheckouts(t *testing.T) {
	a := newTestAPI(t)
	w := newCampaignWorld(t, a, "race")
	if _, err := a.db.Exec(`UPDATE product_variants SET stock = 99`); err != nil {
		t.Fatal(err)
	}
	if ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "price": "15.00"}); len(ue) > 0 {
		t.Fatalf("enrol: %+v", ue)
	}
	w.shift("-1 hour", "1 hour")
	const buyers = 16
	tokens := make([]string, buyers)
	for i := range tokens {
		tokens[i], _ = a.user(fmt.Sprintf("race-%d", i), false)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for k := range 3 {
				resp := a.post(tokens[i], checkoutMutation, checkoutInput(fmt.Sprintf("race-%d-%d", i, k), "tok_ok", line(w.f.variantIDs[0], 1)))
				if len(resp.Errors) > 0 {
					t.Errorf("checkout: %+v", resp.Errors)
				}
			}
		}()
	}
	close(start)
	// End the campaign while they run.
	w.shift("-1 hour", "0 seconds")
	wg.Wait()
	var bad []string
	if err := a.db.Select(&bad, `SELECT l.id || ': ' || l.unit_price_amount || ' ' || coalesce(l.campaign_id::text, '-') FROM order_lines l
		WHERE NOT ((l.campaign_id IS NOT NULL AND l.unit_price_amount = 1500) OR (l.campaign_id IS NULL AND l.unit_price_amount = 1990))`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := a.db.Get(&n, `SELECT count(*) FROM order_lines`); err != nil || n != buyers*3 {
		t.Fatalf("lines %d, %v", n, err)
	}
	if len(bad) > 0 {
		t.Fatalf("lines priced and credited inconsistently: %v", bad)
	}
	var credited int
	if err := a.db.Get(&credited, `SELECT count(*) FROM order_lines WHERE campaign_id IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d lines credited before the end", credited, n)
}

// TestCampaignPriceUnderConcurrentRepricing buys a variant enrolled in a
// running campaign (15.00, list 19.90) while its list price flips between
// 19.90 and 14.00 (below the campaign price: no offer). The reservation
// finds the offer before it locks the variant, for the list price it read;
// every line must still be priced and credited as the locked row's list
// price says (15.00 credited, or 14.00 not), and no unit oversold.
func TestCampaignPriceUnderConcurrentRepricing(t *testing.T) {
	a := newTestAPI(t)
	w := newCampaignWorld(t, a, "reprice")
	const stock = 200
	if _, err := a.db.Exec(`UPDATE product_variants SET stock = $1`, stock); err != nil {
		t.Fatal(err)
	}
	if ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "price": "15.00"}); len(ue) > 0 {
		t.Fatalf("enrol: %+v", ue)
	}
	w.shift("-1 hour", "1 hour")
	var variantID int64
	if err := a.db.Get(&variantID, `SELECT variant_id FROM campaign_variants WHERE campaign_id = $1`, w.campaignDB); err != nil {
		t.Fatal(err)
	}
	const buyers, each = 8, 5
	tokens := make([]string, buyers)
	for i := range tokens {
		tokens[i], _ = a.user(fmt.Sprintf("reprice-%d", i), false)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() { // reprice (directly: the API refuses it once the campaign runs) until the buyers are done
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			price := []int64{1990, 1400}[i%2]
			if _, err := a.db.Exec(`UPDATE product_variants SET price_amount = $2 WHERE id = $1`, variantID, price); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				resp := a.post(tokens[i], checkoutMutation, checkoutInput(fmt.Sprintf("reprice-%d-%d", i, k), "tok_ok", line(w.f.variantIDs[0], 1)))
				if len(resp.Errors) > 0 {
					t.Errorf("checkout: %+v", resp.Errors)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	var bad []string
	if err := a.db.Select(&bad, `SELECT l.id || ': ' || l.unit_price_amount || ' ' || coalesce(l.campaign_id::text, '-') FROM order_lines l
		WHERE NOT ((l.campaign_id IS NOT NULL AND l.unit_price_amount = 1500) OR (l.campaign_id IS NULL AND l.unit_price_amount = 1400))`); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("lines priced and credited inconsistently: %v", bad)
	}
	var sold, left int
	if err := a.db.QueryRow(`SELECT (SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE variant_id = $1),
		(SELECT stock FROM product_variants WHERE id = $1)`, variantID).Scan(&sold, &left); err != nil {
		t.Fatal(err)
	}
	if sold != buyers*each || sold+left != stock {
		t.Fatalf("sold %d, left %d, want %d sold of %d", sold, left, buyers*each, stock)
	}
}

// TestFeedBoostsRunningCampaignContent: with FORYOU_CAMPAIGN, a video
// carrying a product enrolled in a running campaign outranks an otherwise
// alike video published after it; without the weight it does not.
func TestFeedBoostsRunningCampaignContent(t *testing.T) {
	for _, c := range []struct {
		weight    float64
		boostWins bool
	}{{0, false}, {10_000, true}} {
		settings := store.DefaultForYouSettings
		settings.Campaign = c.weight
		a := newTestAPIWith(t, func(r *graph.Resolver) { r.ForYou = &settings })
		w := newCampaignWorld(t, a, "feedboost")
		if ue := w.enrol(w.f.sellerToken, w.f.shopID, map[string]any{"variantId": w.f.variantIDs[0], "price": "15.00"}); len(ue) > 0 {
			t.Fatalf("enrol: %+v", ue)
		}
		other := a.product(w.f.sellerToken, w.f.shopID, "plain", nil)
		var boosted, plain struct {
			PublishVideo struct{ Video struct{ ID string } }
		}
		a.ok(w.f.sellerToken, publishVideoMutation, videoInput(w.f.productID), &boosted)
		a.ok(w.f.sellerToken, publishVideoMutation, videoInput(other.ID), &plain)
		w.shift("-1 hour", "1 hour")
		var feed struct {
			Feed struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		viewer, _ := a.user("feed-viewer", false)
		a.ok(viewer, `{ feed(first: 10) { edges { node { id } } } }`, nil, &feed)
		if len(feed.Feed.Edges) != 2 {
			t.Fatalf("feed %+v", feed)
		}
		if got := feed.Feed.Edges[0].Node.ID == boosted.PublishVideo.Video.ID; got != c.boostWins {
			t.Errorf("FORYOU_CAMPAIGN=%v: campaign video first %v, want %v", c.weight, got, c.boostWins)
		}
	}
}
