package graph_test

import (
	"testing"
	"time"
)

const publishVideoMutation = `mutation($in: PublishVideoInput!) { publishVideo(input: $in) {
	video { id caption tags author { handle } shop { handle } products { edges { node { id } } } }
	userErrors { field code message } } }`

const scheduleLiveMutation = `mutation($in: ScheduleLiveSessionInput!) { scheduleLiveSession(input: $in) {
	liveSession { id status title shop { id } } userErrors { field code message } } }`

const liveFields = `liveSession { id status startedAt endedAt pinnedProduct { id } } userErrors { field code message }`

type liveOut struct {
	LiveSession *struct {
		ID, Status    string
		StartedAt     *string
		EndedAt       *string
		PinnedProduct *struct{ ID string }
	}
	UserErrors []userError
}

// publishVideo publishes a video featuring the products as token's user
// and returns its ID.
func (a *testAPI) publishVideo(token string, productIDs ...string) string {
	a.t.Helper()
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(token, publishVideoMutation, videoInput(productIDs...), &pv)
	return pv.PublishVideo.Video.ID
}

func videoInput(productIDs ...string) map[string]any {
	return map[string]any{"in": map[string]any{
		"caption": "Morning routine #glow", "playbackUrl": "https://cdn.example/v/1.m3u8",
		"durationSeconds": 42, "tags": []string{"skincare"}, "productIds": append([]string{}, productIDs...),
	}}
}

func TestPublishVideo(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("brand")
	creatorToken, _ := a.user("kol", true)
	buyerToken, _ := a.user("buyer", false)
	type out struct {
		PublishVideo struct {
			Video *struct {
				ID       string
				Author   struct{ Handle string }
				Shop     *struct{ Handle string }
				Products struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
			UserErrors []userError
		}
	}
	t.Run("SellerOwnProduct", func(t *testing.T) {
		var o out
		a.ok(shop.sellerToken, publishVideoMutation, videoInput(shop.productID), &o)
		v := o.PublishVideo.Video
		if v == nil || v.Author.Handle != "brand" || v.Shop == nil || v.Shop.Handle != "brand-shop" || len(v.Products.Edges) != 1 {
			t.Fatalf("publishVideo = %+v", o)
		}
	})
	t.Run("CreatorAsAffiliate", func(t *testing.T) {
		var o out
		a.ok(creatorToken, publishVideoMutation, videoInput(shop.productID), &o)
		if v := o.PublishVideo.Video; v == nil || v.Author.Handle != "kol" || v.Shop.Handle != "brand-shop" {
			t.Fatalf("publishVideo = %+v", o)
		}
	})
	t.Run("BuyerCannotFeatureOthersProducts", func(t *testing.T) {
		if resp := a.post(buyerToken, publishVideoMutation, videoInput(shop.productID)); resp.code() != "FORBIDDEN" {
			t.Fatalf("errors = %+v", resp.Errors)
		}
	})
	t.Run("Validation", func(t *testing.T) {
		var o out
		in := videoInput()
		in["in"].(map[string]any)["playbackUrl"] = "ftp://nope"
		a.ok(creatorToken, publishVideoMutation, in, &o)
		if o.PublishVideo.Video != nil || len(o.PublishVideo.UserErrors) != 2 {
			t.Fatalf("publishVideo = %+v", o)
		}
	})
	t.Run("UnknownProduct", func(t *testing.T) {
		var o out
		a.ok(creatorToken, publishVideoMutation, videoInput(shop.productID, "UHJvZHVjdDo5OTk5OQ"), &o)
		if o.PublishVideo.Video != nil || len(o.PublishVideo.UserErrors) != 1 || o.PublishVideo.UserErrors[0].Code != "NOT_FOUND" {
			t.Fatalf("publishVideo = %+v", o)
		}
	})
}

func TestLiveSessionLifecycle(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("host")
	other := a.product(f.sellerToken, f.shopID, "not-on-show", nil)
	intruderToken, _ := a.user("intruder", true)

	var sched struct{ ScheduleLiveSession liveOut }
	a.ok(f.sellerToken, scheduleLiveMutation, map[string]any{"in": map[string]any{
		"title": "Friday glow sale", "scheduledStartAt": time.Now().Add(time.Hour).Format(time.RFC3339),
		"productIds": []string{f.productID}}}, &sched)
	ls := sched.ScheduleLiveSession.LiveSession
	if ls == nil || ls.Status != "SCHEDULED" {
		t.Fatalf("schedule = %+v", sched)
	}
	transition := func(token, mutation string, vars map[string]any) liveOut {
		t.Helper()
		var raw map[string]liveOut
		a.ok(token, mutation, vars, &raw)
		for _, v := range raw {
			return v
		}
		return liveOut{}
	}
	start := `mutation($id: ID!) { startLiveSession(id: $id) { ` + liveFields + ` } }`
	end := `mutation($id: ID!) { endLiveSession(id: $id) { ` + liveFields + ` } }`
	pin := `mutation($s: ID!, $p: ID!) { pinLiveProduct(sessionId: $s, productId: $p) { ` + liveFields + ` } }`
	id := map[string]any{"id": ls.ID}

	if o := transition(f.sellerToken, end, id); o.LiveSession != nil || o.UserErrors[0].Code != "INVALID_TRANSITION" {
		t.Fatalf("ending a session that never started = %+v", o)
	}
	if resp := a.post(intruderToken, start, id); resp.code() != "FORBIDDEN" {
		t.Fatalf("intruder start = %+v", resp.Errors)
	}
	if o := transition(f.sellerToken, start, id); o.LiveSession == nil || o.LiveSession.Status != "LIVE" || o.LiveSession.StartedAt == nil {
		t.Fatalf("start = %+v", o)
	}
	if o := transition(f.sellerToken, start, id); o.UserErrors[0].Code != "INVALID_TRANSITION" {
		t.Fatalf("second start = %+v", o)
	}
	if o := transition(f.sellerToken, pin, map[string]any{"s": ls.ID, "p": other.ID}); o.UserErrors[0].Code != "PRODUCT_NOT_ON_CONTENT" {
		t.Fatalf("pin foreign product = %+v", o)
	}
	if resp := a.post(intruderToken, pin, map[string]any{"s": ls.ID, "p": f.productID}); resp.code() != "FORBIDDEN" {
		t.Fatalf("intruder pin = %+v", resp.Errors)
	}
	if o := transition(f.sellerToken, pin, map[string]any{"s": ls.ID, "p": f.productID}); o.LiveSession.PinnedProduct == nil || o.LiveSession.PinnedProduct.ID != f.productID {
		t.Fatalf("pin = %+v", o)
	}
	if o := transition(f.sellerToken, end, id); o.LiveSession == nil || o.LiveSession.Status != "ENDED" || o.LiveSession.EndedAt == nil {
		t.Fatalf("end = %+v", o)
	}
	var q struct{ LiveSession struct{ Status string } }
	a.ok("", `query($id: ID!) { liveSession(id: $id) { status } }`, id, &q)
	if q.LiveSession.Status != "ENDED" {
		t.Fatalf("liveSession = %+v", q)
	}
}

func TestContentWhoseCardsAreAllInactiveHasNoCards(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("gone")
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(f.sellerToken, publishVideoMutation, videoInput(f.productID), &pv)
	a.ok(f.sellerToken, `mutation($id: ID!) { updateProduct(input: {id: $id, status: ARCHIVED}) { product { id } } }`,
		map[string]any{"id": f.productID}, nil)
	var out struct {
		Video struct {
			Products struct{ Edges []any }
		}
	}
	a.ok("", `query($id: ID!) { video(id: $id) { products { edges { cursor } } } }`, map[string]any{"id": pv.PublishVideo.Video.ID}, &out)
	if len(out.Video.Products.Edges) != 0 {
		t.Fatalf("cards = %+v", out.Video.Products.Edges)
	}
}
