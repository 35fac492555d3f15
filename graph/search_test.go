package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const searchQuery = `query($q: String!, $types: [SearchType!], $first: Int, $after: String) {
	search(query: $q, types: $types, first: $first, after: $after) {
		edges { cursor node { __typename
			... on Video { id caption }
			... on LiveSession { id title }
			... on Product { id title status }
			... on User { id handle }
			... on Shop { id name } } }
		pageInfo { hasNextPage endCursor } } }`

type searchHit struct {
	Typename string `json:"__typename"`
	ID       string
	Caption  string
	Title    string
	Status   string
	Handle   string
	Name     string
}

type searchOut struct {
	Search struct {
		Edges []struct {
			Cursor string
			Node   searchHit
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
}

// search runs one page of a search and returns its hits.
func (a *testAPI) search(token, q string, types []string, first int, after *string) searchOut {
	a.t.Helper()
	vars := map[string]any{"q": q, "first": first}
	if types != nil {
		vars["types"] = types
	}
	if after != nil {
		vars["after"] = *after
	}
	var out searchOut
	a.ok(token, searchQuery, vars, &out)
	return out
}

// searchIDs is every hit's id (all pages, 100 at a time).
func (a *testAPI) searchIDs(token, q string, types ...string) []string {
	a.t.Helper()
	var ids []string
	var after *string
	for {
		out := a.search(token, q, types, 100, after)
		for _, e := range out.Search.Edges {
			ids = append(ids, e.Node.ID)
		}
		if !out.Search.PageInfo.HasNextPage {
			return ids
		}
		after = out.Search.PageInfo.EndCursor
	}
}

// productSearchIDs is the ids of products(filter: {search: q}).
func (a *testAPI) productSearchIDs(token, q string) []string {
	a.t.Helper()
	var out struct {
		Products struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.ok(token, `query($q: String) { products(first: 100, filter: {search: $q}) { edges { node { id } } } }`, map[string]any{"q": q}, &out)
	var ids []string
	for _, e := range out.Products.Edges {
		ids = append(ids, e.Node.ID)
	}
	return ids
}

func (a *testAPI) setProduct(token, id string, fields map[string]any) {
	a.t.Helper()
	in := map[string]any{"id": id}
	for k, v := range fields {
		in[k] = v
	}
	var out struct {
		UpdateProduct struct{ UserErrors []userError }
	}
	a.ok(token, `mutation($in: UpdateProductInput!) { updateProduct(input: $in) { userErrors { field code message } } }`, map[string]any{"in": in}, &out)
	if len(out.UpdateProduct.UserErrors) > 0 {
		a.t.Fatalf("updateProduct %v: %+v", fields, out.UpdateProduct.UserErrors)
	}
}

func (a *testAPI) publishCaption(token, caption string, productIDs ...string) string {
	a.t.Helper()
	in := videoInput(productIDs...)
	in["in"].(map[string]any)["caption"] = caption
	var pv struct {
		PublishVideo struct {
			Video      struct{ ID string }
			UserErrors []userError
		}
	}
	a.ok(token, publishVideoMutation, in, &pv)
	if pv.PublishVideo.Video.ID == "" {
		a.t.Fatalf("publishVideo: %+v", pv)
	}
	return pv.PublishVideo.Video.ID
}

func TestSearchIsCaseAndAccentInsensitive(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("accents")
	creme := a.product(f.sellerToken, f.shopID, "Crème Brûlée Candle", nil)
	upper := a.product(f.sellerToken, f.shopID, "PÂTISSERIE Mold", nil)
	for _, q := range []string{"creme", "Creme", "CRÈME", "crème", "crème brulee", "BRÛLÉE"} {
		if ids := a.searchIDs("", q); !slices.Equal(ids, []string{creme.ID}) {
			t.Errorf("search %q = %v, want [%s]", q, ids, creme.ID)
		}
		// ProductFilter.search folds the same way.
		if ids := a.productSearchIDs("", q); !slices.Equal(ids, []string{creme.ID}) {
			t.Errorf("products(filter: {search: %q}) = %v, want [%s]", q, ids, creme.ID)
		}
	}
	for _, q := range []string{"patisserie", "Pâtisserie", "PATISSERIE"} {
		if ids := a.searchIDs("", q); !slices.Equal(ids, []string{upper.ID}) {
			t.Errorf("search %q = %v, want [%s]", q, ids, upper.ID)
		}
	}
}

func TestSearchFindsChineseByTwoCharacters(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("zh")
	video := a.publishCaption(f.sellerToken, "今日推荐保湿精华液，真的好用 #护肤", f.productID)
	product := a.product(f.sellerToken, f.shopID, "玫瑰保湿面霜", nil)
	if ids := a.searchIDs("", "精华", "VIDEO"); !slices.Equal(ids, []string{video}) {
		t.Errorf("search 精华 = %v, want the video %s", ids, video)
	}
	if ids := a.searchIDs("", "保湿"); len(ids) != 2 || !slices.Contains(ids, video) || !slices.Contains(ids, product.ID) {
		t.Errorf("search 保湿 = %v, want the video %s and the product %s", ids, video, product.ID)
	}
	if ids := a.searchIDs("", "精华液"); !slices.Equal(ids, []string{video}) {
		t.Errorf("search 精华液 = %v, want the video", ids)
	}
	if ids := a.productSearchIDs("", "面霜"); !slices.Equal(ids, []string{product.ID}) {
		t.Errorf("products(filter: {search: 面霜}) = %v, want %s", ids, product.ID)
	}
	// Characters that do not stand next to each other are not a match.
	for _, q := range []string{"精液", "推保", "面玫"} {
		if ids := a.searchIDs("", q); len(ids) != 0 {
			t.Errorf("search %q = %v, want nothing", q, ids)
		}
	}
}

func TestSearchFindsIndonesian(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("idn")
	p := a.product(f.sellerToken, f.shopID, "Serum Wajah Pencerah", map[string]any{"description": "Perawatan kulit yang lembut untuk kulit sensitif"})
	v := a.publishCaption(f.sellerToken, "Rahasia kulit glowing setiap hari", f.productID)
	if ids := a.searchIDs("", "wajah pencerah"); !slices.Equal(ids, []string{p.ID}) {
		t.Errorf("search 'wajah pencerah' = %v, want %s", ids, p.ID)
	}
	if ids := a.searchIDs("", "Kulit"); len(ids) != 2 || ids[0] != v || ids[1] != p.ID {
		// The caption (weight A) ranks above the product's description (C).
		t.Errorf("search 'Kulit' = %v, want [%s %s]", ids, v, p.ID)
	}
}

func TestSearchTypesFilter(t *testing.T) {
	a := newTestAPI(t)
	seller, _ := a.user("zephyr", false)
	shopID := a.shop(seller, "zephyr")
	p := a.product(seller, shopID, "Zephyr Serum", nil)
	_, creator := a.user("zephyrine", true)
	if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET display_name = 'Zephyr Star' WHERE id = $1`, creator.ID); err != nil {
		t.Fatal(err)
	}
	video := a.publishCaption(seller, "Zephyr serum in the morning", p.ID)
	var live struct {
		ScheduleLiveSession struct{ LiveSession struct{ ID string } }
	}
	a.ok(seller, scheduleLiveMutation, map[string]any{"in": map[string]any{"title": "Zephyr live", "scheduledStartAt": time.Now().Add(time.Hour).Format(time.RFC3339),
		"productIds": []string{p.ID}}}, &live)
	kinds := func(types ...string) map[string]int {
		var ts []string
		if types != nil {
			ts = types
		}
		out := a.search("", "zephyr", ts, 100, nil)
		m := map[string]int{}
		for _, e := range out.Search.Edges {
			m[e.Node.Typename]++
		}
		return m
	}
	if got := kinds(); fmt.Sprint(got) != "map[LiveSession:1 Product:1 Shop:1 User:1 Video:1]" {
		t.Errorf("all types = %v", got)
	}
	for types, want := range map[string]string{
		"SHOP":                    "map[Shop:1]",
		"CREATOR":                 "map[User:1]",
		"PRODUCT,VIDEO":           "map[Product:1 Video:1]",
		"LIVE_SESSION":            "map[LiveSession:1]",
		"VIDEO,LIVE_SESSION,SHOP": "map[LiveSession:1 Shop:1 Video:1]",
	} {
		if got := kinds(strings.Split(types, ",")...); fmt.Sprint(got) != want {
			t.Errorf("types %s = %v, want %s", types, got, want)
		}
	}
	_ = video
	// A cursor continues only the search it came from.
	first := a.search("", "zephyr", nil, 1, nil)
	resp := a.post("", searchQuery, map[string]any{"q": "zephyr", "types": []string{"SHOP"}, "first": 1, "after": *first.Search.PageInfo.EndCursor})
	if resp.code() != "BAD_USER_INPUT" {
		t.Errorf("a cursor of another search = %s %+v, want BAD_USER_INPUT", resp.Data, resp.Errors)
	}
	for _, q := range []string{"", "  ", strings.Repeat("a", 201)} {
		if resp := a.post("", searchQuery, map[string]any{"q": q}); resp.code() != "BAD_USER_INPUT" {
			t.Errorf("query %q = %+v, want BAD_USER_INPUT", q, resp.Errors)
		}
	}
	if resp := a.post("", searchQuery, map[string]any{"q": "zephyr", "first": 101}); resp.code() != "BAD_USER_INPUT" {
		t.Errorf("first: 101 = %+v, want BAD_USER_INPUT", resp.Errors)
	}
}

func TestSearchRanksTitlesAboveDescriptions(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("rank")
	inDescription := a.product(f.sellerToken, f.shopID, "Plain Lamp", map[string]any{"description": "It smells of orchid"})
	inTitle := a.product(f.sellerToken, f.shopID, "Orchid Lamp", map[string]any{"description": "A plain lamp"})
	inTags := a.product(f.sellerToken, f.shopID, "Desk Lamp", map[string]any{"tags": []string{"orchid"}})
	want := []string{inTitle.ID, inTags.ID, inDescription.ID}
	if ids := a.searchIDs("", "orchid"); !slices.Equal(ids, want) {
		t.Errorf("search orchid = %v, want title, tags, description: %v", ids, want)
	}
	if ids := a.productSearchIDs("", "orchid"); !slices.Equal(ids, want) {
		t.Errorf("products(filter: {search: orchid}) = %v, want %v", ids, want)
	}
}

// TestSearchPagesStayExactUnderEdits walks a search page by page while the
// products of later pages are edited to move their relevance, and one is
// archived: no result repeats, none is skipped, the archived one is left
// out.
func TestSearchPagesStayExactUnderEdits(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("walk")
	var all []string
	for i := range 9 {
		title := fmt.Sprintf("Nebula item %d", i)
		desc := strings.Repeat("nebula ", i)
		all = append(all, a.product(f.sellerToken, f.shopID, title, map[string]any{"description": desc}).ID)
	}
	var seen []string
	out := a.search("", "nebula", nil, 3, nil)
	for _, e := range out.Search.Edges {
		seen = append(seen, e.Node.ID)
	}
	// Lift every product not yet seen above all others, and sink the seen ones.
	var archived string
	for _, id := range all {
		if slices.Contains(seen, id) {
			a.setProduct(f.sellerToken, id, map[string]any{"title": "Plain item", "description": "nebula"})
		} else if archived == "" {
			archived = id
			a.setProduct(f.sellerToken, id, map[string]any{"status": "ARCHIVED"})
		} else {
			a.setProduct(f.sellerToken, id, map[string]any{"title": "Nebula nebula nebula", "description": strings.Repeat("nebula ", 20)})
		}
	}
	for out.Search.PageInfo.HasNextPage {
		out = a.search("", "nebula", nil, 3, out.Search.PageInfo.EndCursor)
		for _, e := range out.Search.Edges {
			if slices.Contains(seen, e.Node.ID) {
				t.Fatalf("%s repeated", e.Node.ID)
			}
			seen = append(seen, e.Node.ID)
		}
	}
	var want []string
	for _, id := range all {
		if id != archived {
			want = append(want, id)
		}
	}
	if slices.Contains(seen, archived) || len(seen) != len(want) {
		t.Fatalf("walk = %v, want every one of %v once and not the archived %s", seen, want, archived)
	}
	for _, id := range want {
		if !slices.Contains(seen, id) {
			t.Fatalf("walk skipped %s: %v", id, seen)
		}
	}
}

// TestInvisibleItemsNeverSurface: drafts, archived products, ended live
// sessions and people who are not creators are never a search result nor a
// recommendation, on any path.
func TestInvisibleItemsNeverSurface(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("hidden")
	visible := a.product(f.sellerToken, f.shopID, "Quasar Visible", map[string]any{"tags": []string{"quasar"}})
	draft := a.product(f.sellerToken, f.shopID, "Quasar Draft", map[string]any{"tags": []string{"quasar"}})
	archived := a.product(f.sellerToken, f.shopID, "Quasar Archived", map[string]any{"tags": []string{"quasar"}})
	video := a.publishCaption(f.sellerToken, "quasar haul", visible.ID, draft.ID, archived.ID)
	// Viewers open and buy all three before two are withdrawn.
	for i := range 3 {
		var ev []map[string]any
		for _, p := range []string{visible.ID, draft.ID, archived.ID, f.productID} {
			ev = append(ev, map[string]any{"type": "PRODUCT_CLICK", "contentId": video, "productId": p, "deviceId": fmt.Sprintf("dev-%d", i)})
		}
		a.ok("", recordEventsMutation, map[string]any{"events": ev}, nil)
	}
	if err := a.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	buyer, _ := a.user("hidden-buyer", false)
	var variants []string
	for _, p := range []productOut{visible, draft, archived} {
		variants = append(variants, p.Variants.Edges[0].Node.ID)
	}
	a.ok(buyer, checkoutMutation, checkoutInput("k-hidden", "tok_ok", line(variants[0], 1), line(variants[1], 1), line(variants[2], 1), line(f.variantIDs[0], 1)), nil)
	var live struct {
		ScheduleLiveSession struct{ LiveSession struct{ ID string } }
	}
	a.ok(f.sellerToken, scheduleLiveMutation, map[string]any{"in": map[string]any{"title": "Quasar live", "scheduledStartAt": time.Now().Add(time.Hour).Format(time.RFC3339),
		"productIds": []string{visible.ID}}}, &live)
	liveID := map[string]any{"id": live.ScheduleLiveSession.LiveSession.ID}
	a.ok(f.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, liveID, nil)
	a.ok(f.sellerToken, `mutation($id: ID!) { endLiveSession(id: $id) { userErrors { code } } }`, liveID, nil)
	a.user("quasar", false) // a person who is not a creator

	a.setProduct(f.sellerToken, draft.ID, map[string]any{"status": "DRAFT"})
	a.setProduct(f.sellerToken, archived.ID, map[string]any{"status": "ARCHIVED"})
	hidden := []string{draft.ID, archived.ID, live.ScheduleLiveSession.LiveSession.ID}

	check := func(path string, ids []string) {
		t.Helper()
		for _, h := range hidden {
			if slices.Contains(ids, h) {
				t.Errorf("%s lists the hidden %s: %v", path, h, ids)
			}
		}
	}
	for _, token := range []string{"", f.sellerToken, buyer} { // even the shop's owner
		ids := a.searchIDs(token, "quasar")
		check("search", ids)
		if !slices.Contains(ids, visible.ID) || !slices.Contains(ids, video) {
			t.Errorf("search quasar = %v, want the visible product and the video", ids)
		}
		for _, e := range a.search(token, "quasar", []string{"CREATOR"}, 100, nil).Search.Edges {
			t.Errorf("a person who is not a creator is found: %+v", e.Node)
		}
		for _, p := range []string{visible.ID, f.productID} {
			for _, intent := range []string{"RELATED", "COMPLEMENTARY"} {
				ids := a.recommendations(token, p, intent)
				check("productRecommendations "+intent, ids)
				if slices.Contains(ids, p) {
					t.Errorf("productRecommendations(%s, %s) lists the product itself: %v", p, intent, ids)
				}
			}
		}
		check("recommendedProducts", a.recommendedIDs(token))
	}
	// The hidden products' own recommendations are null to those who may not see them.
	var out struct{ ProductRecommendations *[]struct{ ID string } }
	a.ok(buyer, `query($id: ID!) { productRecommendations(productId: $id) { id } }`, map[string]any{"id": draft.ID}, &out)
	if out.ProductRecommendations != nil {
		t.Errorf("recommendations of a draft for a buyer = %+v, want null", out.ProductRecommendations)
	}
	// Later pages of a walk begun before a product was withdrawn leave it out.
	first := a.search("", "quasar", []string{"PRODUCT"}, 1, nil)
	if len(first.Search.Edges) != 1 {
		t.Fatalf("first page = %+v", first)
	}
	a.setProduct(f.sellerToken, visible.ID, map[string]any{"status": "DRAFT"})
	rest := a.search("", "quasar", []string{"PRODUCT"}, 10, first.Search.PageInfo.EndCursor)
	for _, e := range rest.Search.Edges {
		if e.Node.ID == visible.ID {
			t.Errorf("a later page lists a product drafted since the walk began")
		}
	}
}

func (a *testAPI) recommendations(token, productID, intent string) []string {
	a.t.Helper()
	var out struct{ ProductRecommendations []struct{ ID string } }
	a.ok(token, `query($id: ID!, $intent: ProductRecommendationIntent) { productRecommendations(productId: $id, intent: $intent) { id } }`,
		map[string]any{"id": productID, "intent": intent}, &out)
	var ids []string
	for _, p := range out.ProductRecommendations {
		ids = append(ids, p.ID)
	}
	return ids
}

// recommendedIDs walks recommendedProducts 7 at a time.
func (a *testAPI) recommendedIDs(token string) []string {
	a.t.Helper()
	var ids []string
	var after *string
	for {
		var out struct {
			RecommendedProducts struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		vars := map[string]any{}
		if after != nil {
			vars["after"] = *after
		}
		a.ok(token, `query($after: String) { recommendedProducts(first: 7, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`, vars, &out)
		for _, e := range out.RecommendedProducts.Edges {
			if slices.Contains(ids, e.Node.ID) {
				a.t.Fatalf("recommendedProducts repeats %s", e.Node.ID)
			}
			ids = append(ids, e.Node.ID)
		}
		if !out.RecommendedProducts.PageInfo.HasNextPage {
			return ids
		}
		after = out.RecommendedProducts.PageInfo.EndCursor
	}
}

// recoShop is a shop of six products sharing a tag, carded on one video.
type recoShop struct {
	f        fixture
	products []productOut
	video    string
}

func newRecoShop(a *testAPI, handle string) recoShop {
	a.t.Helper()
	s := recoShop{f: a.fixture(handle)}
	var ids []string
	for i := range 6 {
		p := a.product(s.f.sellerToken, s.f.shopID, fmt.Sprintf("%s item %d", handle, i), map[string]any{"tags": []string{"reco"}})
		s.products = append(s.products, p)
		ids = append(ids, p.ID)
	}
	s.video = a.publishCaption(s.f.sellerToken, handle+" haul", ids...)
	return s
}

// click has each device open each product, through recordEvents.
func (a *testAPI) clicks(token, video string, devices []string, products ...string) {
	a.t.Helper()
	var ev []map[string]any
	for _, d := range devices {
		for _, p := range products {
			e := map[string]any{"type": "PRODUCT_CLICK", "contentId": video, "productId": p}
			if d != "" {
				e["deviceId"] = d
			}
			ev = append(ev, e)
		}
	}
	var out recordOut
	a.ok(token, recordEventsMutation, map[string]any{"events": ev}, &out)
	if out.RecordEvents.Accepted != len(ev) {
		a.t.Fatalf("recordEvents = %+v", out)
	}
	if err := a.events.Flush(context.Background()); err != nil {
		a.t.Fatal(err)
	}
}

func TestProductRecommendations(t *testing.T) {
	a := newTestAPI(t)
	s := newRecoShop(a, "reco")
	p := func(i int) string { return s.products[i].ID }

	t.Run("FallbackForANewProduct", func(t *testing.T) {
		// No views, no orders: products sharing its tags and its shop.
		ids := a.recommendations("", p(0), "RELATED")
		if len(ids) != 6 || slices.Contains(ids, p(0)) {
			t.Fatalf("RELATED of a new product = %v, want the 5 others sharing its tag and the shop's first product", ids)
		}
		for i := 1; i < 6; i++ {
			if !slices.Contains(ids[:5], p(i)) {
				t.Errorf("RELATED = %v: %s (shares the tag and the shop) not among the first five", ids, p(i))
			}
		}
		// Another shop's product with the same tag comes after the same shop's.
		other := a.fixture("reco-other")
		stranger := a.product(other.sellerToken, other.shopID, "stranger item", map[string]any{"tags": []string{"reco"}})
		ids = a.recommendations("", stranger.ID, "RELATED")
		if len(ids) != 7 || ids[6] != other.productID {
			t.Fatalf("RELATED of a new product in another shop = %v, want the 6 sharing its tag (2 each), then its shop's other product (1)", ids)
		}
		for i := range 6 {
			if !slices.Contains(ids[:6], p(i)) {
				t.Errorf("RELATED = %v: %s shares its tag but is not among the first six", ids, p(i))
			}
		}
	})

	t.Run("RelatedFromCoViewing", func(t *testing.T) {
		// Three viewers open product 0 and product 1; one opens 0 and 5.
		a.clicks("", s.video, []string{"d1", "d2", "d3"}, p(0), p(1))
		a.clicks("", s.video, []string{"d4"}, p(0), p(5))
		ids := a.recommendations("", p(0), "RELATED")
		if len(ids) < 2 || ids[0] != p(1) || ids[1] != p(5) {
			t.Fatalf("RELATED of product 0 = %v, want %s (3 co-viewers) then %s (1)", ids, p(1), p(5))
		}
	})

	t.Run("ComplementaryFromCoPurchase", func(t *testing.T) {
		buyer, _ := a.user("reco-buyer", false)
		v := func(i int) string { return s.products[i].Variants.Edges[0].Node.ID }
		// Bought together in one order: 2 and 4; by the same buyer later: 3.
		a.ok(buyer, checkoutMutation, checkoutInput("k1", "tok_ok", line(v(2), 1), line(v(4), 1)), nil)
		a.ok(buyer, checkoutMutation, checkoutInput("k2", "tok_ok", line(v(3), 1)), nil)
		ids := a.recommendations("", p(2), "COMPLEMENTARY")
		if len(ids) < 2 || ids[0] != p(4) || ids[1] != p(3) {
			t.Fatalf("COMPLEMENTARY of product 2 = %v, want %s (same order) then %s (same buyer)", ids, p(4), p(3))
		}
	})

	t.Run("ForTheViewer", func(t *testing.T) {
		viewer, _ := a.user("reco-viewer", false)
		// The viewer opens product 0, whose co-viewers opened 1 and 5 (above).
		a.clicks(viewer, s.video, []string{""}, p(0))
		ids := a.recommendedIDs(viewer)
		if len(ids) < 2 || ids[0] != p(1) || ids[1] != p(5) {
			t.Fatalf("recommendedProducts = %v, want %s then %s first", ids, p(1), p(5))
		}
		if slices.Contains(ids, p(0)) {
			t.Errorf("recommendedProducts lists what the viewer already opened: %v", ids)
		}
		// A cursor continues only the walk of the viewer it was made for.
		var first struct {
			RecommendedProducts struct{ PageInfo struct{ EndCursor string } }
		}
		a.ok(viewer, `{ recommendedProducts(first: 1) { pageInfo { endCursor } } }`, nil, &first)
		other, _ := a.user("reco-other-viewer", false)
		for _, token := range []string{"", other} {
			resp := a.post(token, `query($after: String) { recommendedProducts(first: 1, after: $after) { edges { node { id } } } }`,
				map[string]any{"after": first.RecommendedProducts.PageInfo.EndCursor})
			if resp.code() != "BAD_USER_INPUT" {
				t.Errorf("another viewer continuing the walk = %s %+v, want BAD_USER_INPUT", resp.Data, resp.Errors)
			}
		}
		// Anonymous: the popular products, every active one at most once.
		anon := a.recommendedIDs("")
		if len(anon) < 7 {
			t.Errorf("anonymous recommendedProducts = %v, want every active product", anon)
		}
	})

	t.Run("UnknownProduct", func(t *testing.T) {
		var out struct{ ProductRecommendations *[]struct{ ID string } }
		resp := a.post("", `query { productRecommendations(productId: "UHJvZHVjdDo5OTk5OTk") { id } }`, nil)
		if len(resp.Errors) > 0 {
			t.Fatalf("errors: %+v", resp.Errors)
		}
		_ = json.Unmarshal(resp.Data, &out)
		if out.ProductRecommendations != nil {
			t.Errorf("recommendations of an unknown product = %+v, want null", out.ProductRecommendations)
		}
	})
}
