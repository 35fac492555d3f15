package graph_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

// interestTags are the worlds' topics: one creator and one shop each.
var interestTags = []string{"skincare", "fitness", "gadgets", "ootd", "snacks"}

// interestWorld is a catalogue where each topic has its own creator, shop,
// product (tagged with the topic) and videos (30 seconds, tagged with it).
type interestWorld struct {
	a       *testAPI
	videos  map[string][]int64 // topic -> video ids, newest first
	topicOf map[int64]string
	author  map[string]int64 // topic -> creator id
	shop    map[string]int64 // topic -> shop id
	product map[string]int64 // topic -> product id
}

func (a *testAPI) interestWorld(perTopic int) *interestWorld {
	a.t.Helper()
	ctx := context.Background()
	w := &interestWorld{a: a, videos: map[string][]int64{}, topicOf: map[int64]string{}, author: map[string]int64{},
		shop: map[string]int64{}, product: map[string]int64{}}
	for i, tag := range interestTags {
		_, u := a.user("creator_"+tag, true)
		w.author[tag] = u.ID
		var shopID, productID int64
		if err := a.db.GetContext(ctx, &shopID, `INSERT INTO shops (handle, name, operating_model, owner_id)
			VALUES ($1, $1, 'SELF_OPERATED', $2) RETURNING id`, "shop-"+tag, u.ID); err != nil {
			a.t.Fatal(err)
		}
		if err := a.db.GetContext(ctx, &productID, `INSERT INTO products (shop_id, title, tags) VALUES ($1, $2, ARRAY[$3]) RETURNING id`,
			shopID, tag+" thing", tag); err != nil {
			a.t.Fatal(err)
		}
		if _, err := a.db.ExecContext(ctx, `INSERT INTO product_variants (product_id, sku, title, price_amount, currency_code, stock)
			VALUES ($1, $2, 'one', 1000, 'USD', 1000)`, productID, "sku-"+tag); err != nil {
			a.t.Fatal(err)
		}
		w.shop[tag], w.product[tag] = shopID, productID
		var ids []int64
		// Older than the exploration age, with some views: the world's
		// videos are established content.
		if err := a.db.SelectContext(ctx, &ids, `INSERT INTO contents (kind, author_id, shop_id, tags, published_at, view_count, like_count, caption, playback_url, duration_seconds)
			SELECT 'VIDEO', $1, $2, ARRAY[$3], now() - interval '3 days' - (n || ' minutes')::interval - ($5 || ' seconds')::interval,
				500 + n, 10, $3 || ' video ' || n, 'https://cdn.example/v', 30
			FROM generate_series(1, $4) n ORDER BY n RETURNING id`, u.ID, shopID, tag, perTopic, i); err != nil {
			a.t.Fatal(err)
		}
		if _, err := a.db.ExecContext(ctx, `INSERT INTO content_products (content_id, product_id) SELECT unnest($1::bigint[]), $2`,
			ids, productID); err != nil {
			a.t.Fatal(err)
		}
		w.videos[tag] = ids
		for _, id := range ids {
			w.topicOf[id] = tag
		}
	}
	if err := a.db.RefreshContentScores(ctx); err != nil {
		a.t.Fatal(err)
	}
	return w
}

func videoGID(id int64) string { return globalIDOf("Video", id) }

// send records events as the token's viewer (or as deviceID when the
// token is empty) and flushes them.
func (w *interestWorld) send(token, deviceID string, events ...map[string]any) {
	w.a.t.Helper()
	for _, e := range events {
		if deviceID != "" {
			e["deviceId"] = deviceID
		}
	}
	var out struct{ RecordEvents struct{ Accepted int } }
	w.a.ok(token, recordEventsMutation, map[string]any{"events": events}, &out)
	if out.RecordEvents.Accepted != len(events) {
		w.a.t.Fatalf("accepted %d of %d events", out.RecordEvents.Accepted, len(events))
	}
	if err := w.a.events.Flush(context.Background()); err != nil {
		w.a.t.Fatal(err)
	}
}

func view(id int64, watchMs int) map[string]any {
	return map[string]any{"type": "VIEW", "contentId": videoGID(id), "watchMs": watchMs}
}

func event(kind string, id int64) map[string]any {
	return map[string]any{"type": kind, "contentId": videoGID(id)}
}

type interestOut struct {
	Kind   string
	Key    string
	Weight float64
}

const interestsQuery = `{ viewer { interests(first: 50) { kind key weight } } }`

func (w *interestWorld) interests(token string) []interestOut {
	w.a.t.Helper()
	var out struct {
		Viewer struct{ Interests []interestOut }
	}
	w.a.ok(token, interestsQuery, nil, &out)
	return out.Viewer.Interests
}

// near reports whether a weight read a moment after it was written (so
// decayed by a hair) is want.
func near(got, want float64) bool { return got > want*0.999 && got < want*1.001 }

func weightOf(list []interestOut, kind, key string) float64 {
	for _, i := range list {
		if i.Kind == kind && i.Key == key {
			return i.Weight
		}
	}
	return 0
}

// feedWalk pages through the whole feed, returning the content ids in
// order and the pages.
func (w *interestWorld) feedWalk(token string, first int) (all []int64, pages [][]int64) {
	w.a.t.Helper()
	vars := map[string]any{"first": first}
	for n := 0; n < 1000; n++ {
		ids, next := w.feedPage(token, vars)
		pages = append(pages, ids)
		all = append(all, ids...)
		if next == "" {
			return all, pages
		}
		vars = map[string]any{"first": first, "after": next}
	}
	w.a.t.Fatal("the feed does not end")
	return nil, nil
}

// feedPage reads one page: its content ids and the cursor after it ("" at
// the end).
func (w *interestWorld) feedPage(token string, vars map[string]any) ([]int64, string) {
	w.a.t.Helper()
	var p feedPage
	w.a.ok(token, feedPageQuery, vars, &p)
	var ids []int64
	for _, e := range p.Feed.Edges {
		ids = append(ids, parseGID(w.a.t, e.Node.ID))
	}
	if !p.Feed.PageInfo.HasNextPage {
		return ids, ""
	}
	return ids, *p.Feed.PageInfo.EndCursor
}

func parseGID(t testing.TB, gid string) int64 {
	t.Helper()
	var id int64
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err == nil {
		typ, num, _ := strings.Cut(string(raw), ":")
		id, err = strconv.ParseInt(num, 10, 64)
		_ = typ
	}
	if err != nil {
		t.Fatalf("id %q: %v", gid, err)
	}
	return id
}

func (w *interestWorld) topics(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = w.topicOf[id]
	}
	return out
}

func TestSignalsTeachTheViewersInterests(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(4)
	token, _ := a.user("learner", false)
	fit := w.videos["fitness"]
	w.send(token, "", view(fit[0], 30000), event("SHARE", fit[2]),
		map[string]any{"type": "PRODUCT_CLICK", "contentId": videoGID(fit[1]), "productId": globalIDOf("Product", w.product["fitness"])})
	w.a.ok(token, `mutation($id: ID!) { likeContent(contentId: $id) { userErrors { code } } }`, map[string]any{"id": videoGID(fit[3])}, nil)
	w.a.ok(token, `mutation($id: ID!) { commentOnContent(contentId: $id, body: "nice") { userErrors { code } } }`, map[string]any{"id": videoGID(fit[3])}, nil)
	// Half of a snacks video watched teaches half a view; a swipe past a
	// gadgets video (10%, under FORYOU_MIN_VIEW_SHARE) teaches nothing.
	w.send(token, "", view(w.videos["snacks"][0], 15000), view(w.videos["gadgets"][0], 3000))
	if err := a.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := w.interests(token)
	s := store.DefaultForYouSettings
	want := s.View + s.ProductClick + s.Share + s.Like + s.Comment
	for _, c := range []struct{ kind, key string }{
		{"TAG", "fitness"}, {"CREATOR", globalIDOf("User", w.author["fitness"])}, {"SHOP", globalIDOf("Shop", w.shop["fitness"])}, {"CATEGORY", "fitness"},
	} {
		if wt := weightOf(got, c.kind, c.key); wt < want*0.99 || wt > want*1.01 {
			t.Errorf("%s %s weighs %v, want %v: %+v", c.kind, c.key, wt, want, got)
		}
	}
	if wt := weightOf(got, "TAG", "snacks"); wt < 0.49 || wt > 0.51 {
		t.Errorf("half a view weighs %v, want 0.5", wt)
	}
	if wt := weightOf(got, "TAG", "gadgets"); wt != 0 {
		t.Errorf("a swipe past taught %v", wt)
	}
	if got[0].Weight < got[len(got)-1].Weight {
		t.Errorf("interests are not strongest first: %+v", got)
	}
}

func TestProductSignalsTeachTheViewersInterests(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(2)
	token, _ := a.user("shopper", false)
	gadget := w.videos["gadgets"][0]
	w.send(token, "", map[string]any{"type": "PRODUCT_CLICK", "contentId": videoGID(gadget), "productId": globalIDOf("Product", w.product["gadgets"])})
	var variant int64
	if err := a.db.GetContext(context.Background(), &variant, `SELECT id FROM product_variants WHERE product_id = $1`, w.product["ootd"]); err != nil {
		t.Fatal(err)
	}
	// An add to cart without content teaches the product's shop and category.
	var cart struct {
		CartLinesAdd struct{ UserErrors []userError }
	}
	a.ok(token, `mutation($v: ID!) { cartLinesAdd(lines: [{ variantId: $v, quantity: 1 }]) { userErrors { field code message } } }`,
		map[string]any{"v": globalIDOf("ProductVariant", variant)}, &cart)
	if len(cart.CartLinesAdd.UserErrors) > 0 {
		t.Fatalf("cartLinesAdd: %+v", cart.CartLinesAdd.UserErrors)
	}
	// A purchase from the gadgets video.
	var buy struct {
		Checkout struct {
			Orders     []struct{ Number string }
			UserErrors []userError
		}
	}
	var gadgetVariant int64
	if err := a.db.GetContext(context.Background(), &gadgetVariant, `SELECT id FROM product_variants WHERE product_id = $1`, w.product["gadgets"]); err != nil {
		t.Fatal(err)
	}
	a.ok(token, `mutation($v: ID!, $c: ID!) { checkout(input: { lines: [{ variantId: $v, quantity: 1 }], sourceContentId: $c,
		idempotencyKey: "b7c1f7de-1c39-4d55-9d0a-6a6b8b0c9a11",
		shippingAddress: { name: "B", line1: "1 Main St", city: "X", postalCode: "1", countryCode: "US" }, payment: { token: "tok_ok" } }) {
		orders { number } userErrors { field code message } } }`,
		map[string]any{"v": globalIDOf("ProductVariant", gadgetVariant), "c": videoGID(gadget)}, &buy)
	if len(buy.Checkout.UserErrors) > 0 || len(buy.Checkout.Orders) != 1 {
		t.Fatalf("checkout: %+v", buy.Checkout)
	}
	if err := a.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := w.interests(token)
	s := store.DefaultForYouSettings
	if wt := weightOf(got, "TAG", "gadgets"); !near(wt, s.ProductClick+s.Purchase) {
		t.Errorf("gadgets weighs %v, want click + purchase %v: %+v", wt, s.ProductClick+s.Purchase, got)
	}
	if wt := weightOf(got, "SHOP", globalIDOf("Shop", w.shop["ootd"])); !near(wt, s.AddToCart) {
		t.Errorf("the ootd shop weighs %v, want an add to cart %v: %+v", wt, s.AddToCart, got)
	}
	if wt := weightOf(got, "CATEGORY", "ootd"); !near(wt, s.AddToCart) {
		t.Errorf("the ootd category weighs %v, want an add to cart %v", wt, s.AddToCart)
	}
	if wt := weightOf(got, "TAG", "ootd"); wt != 0 {
		t.Errorf("a product signal taught a content tag: %v", wt)
	}
}

func TestInterestsDecayWithTime(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(2)
	token, u := a.user("forgetful", false)
	w.send(token, "", event("SHARE", w.videos["ootd"][0]))
	// One half-life later the share weighs half.
	if _, err := a.db.ExecContext(context.Background(), `UPDATE interests SET updated_at = updated_at - $2 * interval '1 hour' WHERE profile = $1`,
		store.UserProfile(u.ID), store.DefaultForYouSettings.HalfLifeHours); err != nil {
		t.Fatal(err)
	}
	share := store.DefaultForYouSettings.Share
	if wt := weightOf(w.interests(token), "TAG", "ootd"); wt < share/2*0.99 || wt > share/2*1.01 {
		t.Fatalf("after a half-life the tag weighs %v, want %v", wt, share/2)
	}
	// A new signal adds to the decayed weight.
	w.send(token, "", event("SHARE", w.videos["ootd"][1]))
	if wt := weightOf(w.interests(token), "TAG", "ootd"); wt < share*1.5*0.99 || wt > share*1.5*1.01 {
		t.Fatalf("after a new share the tag weighs %v, want %v", wt, share*1.5)
	}
}

func TestInterestsAreOnlyThePersonsOwn(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(1)
	token, u := a.user("private", false)
	other, _ := a.user("nosy", false)
	w.send(token, "", event("SHARE", w.videos["ootd"][0]))
	q := `query($id: ID!) { node(id: $id) { ... on User { interests { kind } } } }`
	var out struct{ Node struct{ Interests []any } }
	a.ok(token, q, map[string]any{"id": globalIDOf("User", u.ID)}, &out)
	if len(out.Node.Interests) == 0 {
		t.Fatal("the person does not see their own interests")
	}
	for name, tok := range map[string]string{"AnotherPerson": other, "Anonymous": ""} {
		resp := a.post(tok, q, map[string]any{"id": globalIDOf("User", u.ID)})
		if resp.Data != nil && string(resp.Data) != `{"node":{"interests":null}}` && string(resp.Data) != `{"node":null}` {
			t.Errorf("%s reads %s", name, resp.Data)
		}
	}
}

func TestResetInterests(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(2)
	token, u := a.user("restart", false)
	if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET interest_tags = ARRAY['snacks'] WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	w.send(token, "", event("SHARE", w.videos["fitness"][0]))
	// A signal still in the buffer is written before the reset.
	a.events.AddSignal(store.Signal{Profile: store.UserProfile(u.ID), ContentID: w.videos["gadgets"][0], Weight: 2})
	if len(w.interests(token)) == 0 {
		t.Fatal("nothing learned")
	}
	var out struct {
		ResetInterests struct {
			User       struct{ Handle string }
			UserErrors []userError
		}
	}
	a.ok(token, `mutation { resetInterests { user { handle } userErrors { code } } }`, nil, &out)
	if out.ResetInterests.User.Handle != "restart" {
		t.Fatalf("reset: %+v", out)
	}
	if got := w.interests(token); len(got) != 0 {
		t.Fatalf("after a reset: %+v", got)
	}
	if resp := a.post("", `mutation { resetInterests { user { handle } } }`, nil); resp.code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous reset: %+v", resp.Errors)
	}
}

func TestDeviceProfileMergesAtSignUpAndLogIn(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(2)
	share := store.DefaultForYouSettings.Share
	w.send("", "phone-1", event("SHARE", w.videos["fitness"][0]), event("SHARE", w.videos["skincare"][0]))
	var up struct {
		SignUp struct {
			Token      string
			UserErrors []userError
		}
	}
	a.ok("", `mutation { signUp(input: { email: "dev@example.com", password: "password-1", handle: "devuser", displayName: "Dev", deviceId: "phone-1" }) {
		token userErrors { code message } } }`, nil, &up)
	if up.SignUp.Token == "" {
		t.Fatalf("signUp: %+v", up.SignUp.UserErrors)
	}
	got := w.interests(up.SignUp.Token)
	if !near(weightOf(got, "TAG", "fitness"), share) || !near(weightOf(got, "TAG", "skincare"), share) {
		t.Fatalf("after sign-up with the device: %+v", got)
	}
	if n := a.count(`interests WHERE profile = 'device:phone-1'`); n != 0 {
		t.Fatalf("the device keeps %d affinities after the merge", n)
	}
	// Signed out on a second device, then logging in with it: the weights add up.
	w.send("", "tablet-2", event("SHARE", w.videos["fitness"][1]))
	var in struct{ LogIn struct{ Token string } }
	a.ok("", `mutation { logIn(input: { email: "dev@example.com", password: "password-1", deviceId: "tablet-2" }) { token } }`, nil, &in)
	if wt := weightOf(w.interests(in.LogIn.Token), "TAG", "fitness"); wt < 2*share*0.99 || wt > 2*share*1.01 {
		t.Fatalf("after log-in with the second device fitness weighs %v, want %v", wt, 2*share)
	}
}

// The promise: a new signal shows in the next page of the feed,
// without anything but the server's own one-second flush.
func TestANewSignalShowsInTheNextPage(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(8)
	token, _ := a.user("curious", false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); a.events.Run(ctx, time.Second) }()
	defer func() { cancel(); <-done }()

	first, cursor := w.feedPage(token, map[string]any{"first": 5})
	seen := map[int64]bool{}
	for _, id := range first {
		seen[id] = true
	}
	// Signals for gadgets, sent without flushing.
	g := w.videos["gadgets"]
	var out struct{ RecordEvents struct{ Accepted int } }
	a.ok(token, recordEventsMutation, map[string]any{"events": []map[string]any{event("SHARE", g[0]), event("SHARE", g[1]), view(g[2], 30000)}}, &out)
	start := time.Now()
	var next []int64
	for {
		// The same cursor again: the tail not served yet is re-ranked for
		// the profile as it is now.
		next, _ = w.feedPage(token, map[string]any{"first": 5, "after": cursor})
		if w.topicOf[next[0]] == "gadgets" {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("30 s after the signals the next page is %v", w.topics(next))
		}
		time.Sleep(50 * time.Millisecond) // the polling interval
	}
	t.Logf("the signal showed in the next page after %v", time.Since(start).Round(time.Millisecond))
	for _, id := range next {
		if seen[id] {
			t.Fatalf("the next page repeats %d", id)
		}
		if id == g[2] {
			t.Fatalf("the video watched to the end is shown again")
		}
	}
}

func TestNotInterestedLowersAndHides(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(6)
	token, _ := a.user("picky", false)
	o := w.videos["ootd"]
	w.send(token, "", event("SHARE", o[0]), event("SHARE", o[1]))
	before := weightOf(w.interests(token), "TAG", "ootd")
	w.send(token, "", event("NOT_INTERESTED", o[2]))
	after := weightOf(w.interests(token), "TAG", "ootd")
	if after >= before {
		t.Fatalf("NOT_INTERESTED left ootd at %v (was %v)", after, before)
	}
	all, _ := w.feedWalk(token, 7)
	if slices.Contains(all, o[2]) {
		t.Fatal("content marked not interested is shown again")
	}
	// Figures do not count it.
	if n := a.count(fmt.Sprintf(`content_event_counts WHERE content_id = %d`, o[2])); n != 0 {
		t.Fatalf("NOT_INTERESTED added %d counter rows", n)
	}
}

func TestForYouRanksByLearnedInterests(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(6)
	token, _ := a.user("fan", false)
	f := w.videos["fitness"]
	w.send(token, "", event("SHARE", f[0]), view(f[1], 30000), event("SHARE", f[2]))
	ids, _ := w.feedPage(token, map[string]any{"first": 6})
	fitness := 0
	for _, id := range ids {
		if w.topicOf[id] == "fitness" {
			fitness++
		}
		if id == f[1] {
			t.Fatal("the video watched to the end is shown again")
		}
	}
	// Fitness leads, and takes every other slot: no author twice in a row.
	if w.topicOf[ids[0]] != "fitness" || fitness != 3 {
		t.Fatalf("first page %v: want fitness first and every other slot", w.topics(ids))
	}
	// An anonymous viewer's page is popular and diverse: no topic dominates.
	anon, _ := w.feedPage("", map[string]any{"first": 10})
	counts := map[string]int{}
	for _, id := range anon {
		counts[w.topicOf[id]]++
	}
	for topic, n := range counts {
		if n > 4 {
			t.Fatalf("anonymous page %v holds %d of %s", w.topics(anon), n, topic)
		}
	}
}

func TestForYouDiversifiesEveryPage(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(10)
	token, _ := a.user("diverse", false)
	w.send(token, "", event("SHARE", w.videos["snacks"][0]))
	all, pages := w.feedWalk(token, 8)
	if len(all) != 50 {
		t.Fatalf("walked %d items, want 50", len(all))
	}
	seen := map[int64]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("item %d repeated", id)
		}
		seen[id] = true
	}
	// While other authors are left, no author twice in a row and at most 4
	// of a shop per page (each topic is one author and one shop here).
	for p, page := range pages[:len(pages)-2] {
		counts := map[string]int{}
		for i, id := range page {
			counts[w.topicOf[id]]++
			if i > 0 && w.topicOf[id] == w.topicOf[page[i-1]] {
				t.Fatalf("page %d %v: one author twice in a row", p, w.topics(page))
			}
		}
		for topic, n := range counts {
			if n > 4 {
				t.Fatalf("page %d %v: %d of %s", p, w.topics(page), n, topic)
			}
		}
	}
}

func TestForYouCandidateSources(t *testing.T) {
	// Small sources, so that each must bring its own candidates.
	settings := store.DefaultForYouSettings
	settings.PopularCandidates, settings.GPMCandidates = 3, 0
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.ForYou = &settings })
	a.events.SetLearning(settings)
	w := a.interestWorld(10)
	ctx := context.Background()
	token, viewer := a.user("sourced", false)
	control, _ := a.user("control", false)
	walk := func(tok string) []int64 { all, _ := w.feedWalk(tok, 10); return all }

	t.Run("FollowedCreators", func(t *testing.T) {
		creators := w.videos["skincare"]
		if slices.Contains(walk(control), creators[0]) {
			t.Fatal("the control walk already holds the creator's video")
		}
		if _, err := a.db.ExecContext(ctx, `INSERT INTO follows (follower_id, creator_id) VALUES ($1, $2)`, viewer.ID, w.author["skincare"]); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(walk(token), creators[0]) {
			t.Fatal("the followed creator's content is not in the feed")
		}
		if wt := weightOf(w.interests(token), "CREATOR", globalIDOf("User", w.author["skincare"])); !near(wt, settings.Follow) {
			t.Fatalf("the follow weighs %v, want %v", wt, settings.Follow)
		}
	})
	t.Run("CoEngagement", func(t *testing.T) {
		// Three people engaged with a gadgets video and a snacks video; the
		// viewer engages with the gadgets one and is offered the snacks one.
		gadget, snack := w.videos["gadgets"][5], w.videos["snacks"][7]
		if slices.Contains(walk(control), snack) {
			t.Fatal("the control walk already holds the co-engaged video")
		}
		for i := 0; i < 3; i++ {
			peer, _ := a.user(fmt.Sprintf("peer%d", i), false)
			w.send(peer, "", event("SHARE", gadget), event("SHARE", snack))
		}
		w.send(token, "", event("SHARE", gadget))
		if !slices.Contains(walk(token), snack) {
			t.Fatal("the co-engaged content is not in the feed")
		}
	})
	t.Run("FreshContentReachesMatchingViewers", func(t *testing.T) {
		fan, _ := a.user("ootdfan", false)
		w.send(fan, "", event("SHARE", w.videos["ootd"][0]))
		var fresh int64
		if err := a.db.GetContext(ctx, &fresh, `INSERT INTO contents (kind, author_id, shop_id, tags, caption, playback_url, duration_seconds)
			VALUES ('VIDEO', $1, $2, ARRAY['ootd'], 'new look', 'https://cdn.example/n', 30) RETURNING id`, w.author["ootd"], w.shop["ootd"]); err != nil {
			t.Fatal(err)
		}
		if err := a.db.RefreshContentScores(ctx); err != nil { // no longer "new since the refresh"
			t.Fatal(err)
		}
		page, _ := w.feedPage(fan, map[string]any{"first": 5})
		if !slices.Contains(page, fresh) {
			t.Fatalf("the fresh ootd video is not on the ootd fan's first page: %v", w.topics(page))
		}
	})
}

func TestFeedPolicies(t *testing.T) {
	for _, c := range []struct {
		policy      string
		wantFitness bool
	}{{store.PolicyForYou, true}, {store.PolicyTags, true}, {store.PolicyPopular, false}} {
		t.Run(c.policy, func(t *testing.T) {
			a := newTestAPIWith(t, func(r *graph.Resolver) { r.FeedPolicy = c.policy })
			w := a.interestWorld(6)
			token, u := a.user("declared", false)
			if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET interest_tags = ARRAY['fitness'] WHERE id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
			ids, _ := w.feedPage(token, map[string]any{"first": 3})
			if got := w.topicOf[ids[0]] == "fitness"; got != c.wantFitness {
				t.Fatalf("policy %s: first page %v", c.policy, w.topics(ids))
			}
		})
	}
}

// A video watched to the end is not shown again; a live session on air has
// no end to watch to, so however long it was watched it stays in the feed
// (TestStorefrontInABrowser lost its live session to this once).
func TestWatchedLiveSessionStaysInTheFeed(t *testing.T) {
	a := newTestAPI(t)
	w := a.interestWorld(4)
	token, _ := a.user("watcher", false)
	tag := interestTags[0]
	var liveID int64
	if err := a.db.GetContext(context.Background(), &liveID, `INSERT INTO contents (kind, author_id, shop_id, tags, title, live_status, started_at, published_at)
		VALUES ('LIVE', $1, $2, ARRAY[$3], 'on air now', 'LIVE', now() - interval '1 hour', now() - interval '1 hour') RETURNING id`,
		w.author[tag], w.shop[tag], tag); err != nil {
		t.Fatal(err)
	}
	video := w.videos[tag][0]
	w.send(token, "", view(video, 30_000),
		map[string]any{"type": "VIEW", "contentId": globalIDOf("LiveSession", liveID), "watchMs": 10 * 60_000})
	all, _ := w.feedWalk(token, 5)
	if slices.Contains(all, video) {
		t.Error("a video watched to the end is shown again")
	}
	if !slices.Contains(all, liveID) {
		t.Errorf("the live session on air, watched for ten minutes, left the feed: %v", all)
	}
}
