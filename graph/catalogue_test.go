package graph_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"showcase/graph"
	"showcase/media"
)

const collectionFields = `id handle title description shop { handle } products(first: 10) { edges { node { id status } } totalCount }`

type collectionOut struct {
	ID, Handle, Title, Description string
	Shop                           struct{ Handle string }
	Products                       struct {
		Edges []struct {
			Node struct{ ID, Status string }
		}
		TotalCount int
	}
}

func (c collectionOut) productIDs() []string {
	var ids []string
	for _, e := range c.Products.Edges {
		ids = append(ids, e.Node.ID)
	}
	return ids
}

// TestCollections creates, reads, reorders and deletes a collection;
// drafts in it are shown only to the shop's managers, through every path
// (collection(handle:), Shop.collection(s), node, the products filter).
func TestCollections(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("curator")
	p2 := a.product(f.sellerToken, f.shopID, "curator-balm", nil)
	draft := a.product(f.sellerToken, f.shopID, "curator-draft", map[string]any{"status": "DRAFT"})
	other := a.fixture("othershop")

	var created struct {
		CollectionCreate struct {
			Collection *collectionOut
			UserErrors []userError
		}
	}
	create := `mutation($in: CollectionCreateInput!) { collectionCreate(input: $in) { collection { ` + collectionFields + ` } userErrors { field message code } } }`
	a.ok(f.sellerToken, create, map[string]any{"in": map[string]any{"shopId": f.shopID, "handle": "summer-glow", "title": "Summer glow",
		"productIds": []string{p2.ID, draft.ID, f.productID}}}, &created)
	c := created.CollectionCreate.Collection
	if len(created.CollectionCreate.UserErrors) > 0 || c == nil || !slices.Equal(c.productIDs(), []string{p2.ID, draft.ID, f.productID}) || c.Products.TotalCount != 3 {
		t.Fatalf("collectionCreate = %+v", created.CollectionCreate)
	}

	t.Run("refused inputs", func(t *testing.T) {
		for name, in := range map[string]map[string]any{
			"taken handle":           {"shopId": f.shopID, "handle": "summer-glow", "title": "Again"},
			"bad handle":             {"shopId": f.shopID, "handle": "Summer Glow!", "title": "x"},
			"another shop's product": {"shopId": f.shopID, "handle": "mixed", "title": "x", "productIds": []string{other.productID}},
			"a product twice":        {"shopId": f.shopID, "handle": "twice", "title": "x", "productIds": []string{p2.ID, p2.ID}},
		} {
			var out struct {
				CollectionCreate struct {
					Collection *collectionOut
					UserErrors []userError
				}
			}
			a.ok(f.sellerToken, create, map[string]any{"in": in}, &out)
			if out.CollectionCreate.Collection != nil || len(out.CollectionCreate.UserErrors) == 0 {
				t.Errorf("%s: %+v", name, out.CollectionCreate)
			}
		}
		if n := a.count("collections"); n != 1 {
			t.Errorf("%d collections stored", n)
		}
		resp := a.post(other.sellerToken, create, map[string]any{"in": map[string]any{"shopId": f.shopID, "handle": "intruder", "title": "x"}})
		if resp.code() != "FORBIDDEN" {
			t.Errorf("another seller: %+v", resp.Errors)
		}
		resp = a.post(other.sellerToken, `mutation($id: ID!, $p: [ID!]!) { collectionSetProducts(id: $id, productIds: $p) { collection { id } } }`,
			map[string]any{"id": c.ID, "p": []string{}})
		if resp.code() != "FORBIDDEN" {
			t.Errorf("another seller setting products: %+v", resp.Errors)
		}
	})

	read := func(token string) (byHandle, byShop, byNode *collectionOut, filtered []string) {
		var out struct {
			Collection *collectionOut
			Shop       struct {
				Collection  *collectionOut
				Collections struct {
					Edges      []struct{ Node collectionOut }
					TotalCount int
				}
			}
			Node *collectionOut
		}
		a.ok(token, `query($id: ID!) { collection(handle: "SUMMER-GLOW") { `+collectionFields+` }
			shop(handle: "curator-shop") { collection(handle: "summer-glow") { id } collections { edges { node { `+collectionFields+` } } totalCount } }
			node(id: $id) { ... on Collection { `+collectionFields+` } } }`, map[string]any{"id": c.ID}, &out)
		if len(out.Shop.Collections.Edges) != 1 || out.Shop.Collections.TotalCount != 1 || out.Shop.Collection == nil {
			t.Fatalf("shop collections = %+v", out.Shop)
		}
		ids, _ := (&sortFixture{a: a}).walk(token, 1, map[string]any{"filter": map[string]any{"collectionId": c.ID}}, nil)
		return out.Collection, &out.Shop.Collections.Edges[0].Node, out.Node, ids
	}
	t.Run("drafts hidden from buyers", func(t *testing.T) {
		buyer, _ := a.user("window", false)
		for _, token := range []string{"", buyer, other.sellerToken} {
			h, s, n, filtered := read(token)
			for _, got := range []*collectionOut{h, s, n} {
				if got == nil || !slices.Equal(got.productIDs(), []string{p2.ID, f.productID}) || got.Products.TotalCount != 2 {
					t.Errorf("token %q: %+v", token, got)
				}
			}
			if len(filtered) != 2 || slices.Contains(filtered, draft.ID) {
				t.Errorf("token %q: products(filter: {collectionId}) = %v", token, filtered)
			}
		}
		h, _, _, filtered := read(f.sellerToken)
		if !slices.Equal(h.productIDs(), []string{p2.ID, draft.ID, f.productID}) || h.Products.TotalCount != 3 || len(filtered) != 3 {
			t.Errorf("owner: %+v, filtered %v", h, filtered)
		}
	})

	t.Run("paging, reorder, update, delete", func(t *testing.T) {
		var page struct {
			Collection struct {
				Products struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
		}
		var walked []string
		after := any(nil)
		for {
			a.ok(f.sellerToken, `query($after: String) { collection(handle: "summer-glow") { products(first: 1, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`,
				map[string]any{"after": after}, &page)
			for _, e := range page.Collection.Products.Edges {
				walked = append(walked, e.Node.ID)
			}
			if !page.Collection.Products.PageInfo.HasNextPage {
				break
			}
			after = page.Collection.Products.PageInfo.EndCursor
		}
		if !slices.Equal(walked, []string{p2.ID, draft.ID, f.productID}) {
			t.Errorf("walk = %v", walked)
		}
		var set struct {
			CollectionSetProducts struct {
				Collection *collectionOut
				UserErrors []userError
			}
		}
		a.ok(f.sellerToken, `mutation($id: ID!, $p: [ID!]!) { collectionSetProducts(id: $id, productIds: $p) { collection { `+collectionFields+` } userErrors { code } } }`,
			map[string]any{"id": c.ID, "p": []string{f.productID, p2.ID}}, &set)
		if got := set.CollectionSetProducts.Collection; got == nil || !slices.Equal(got.productIDs(), []string{f.productID, p2.ID}) {
			t.Errorf("collectionSetProducts = %+v", set.CollectionSetProducts)
		}
		var upd struct {
			CollectionUpdate struct {
				Collection *collectionOut
				UserErrors []userError
			}
		}
		a.ok(f.sellerToken, `mutation($in: CollectionUpdateInput!) { collectionUpdate(input: $in) { collection { `+collectionFields+` } userErrors { code } } }`,
			map[string]any{"in": map[string]any{"id": c.ID, "title": "Winter glow", "handle": "winter-glow"}}, &upd)
		if got := upd.CollectionUpdate.Collection; got == nil || got.Title != "Winter glow" || got.Handle != "winter-glow" {
			t.Errorf("collectionUpdate = %+v", upd.CollectionUpdate)
		}
		var del struct {
			CollectionDelete struct {
				DeletedCollectionID *string
				UserErrors          []userError
			}
		}
		a.ok(f.sellerToken, `mutation($id: ID!) { collectionDelete(id: $id) { deletedCollectionId userErrors { code } } }`, map[string]any{"id": c.ID}, &del)
		if del.CollectionDelete.DeletedCollectionID == nil || *del.CollectionDelete.DeletedCollectionID != c.ID {
			t.Errorf("collectionDelete = %+v", del.CollectionDelete)
		}
		var gone struct{ Collection *collectionOut }
		a.ok("", `{ collection(handle: "winter-glow") { id } }`, nil, &gone)
		if gone.Collection != nil || a.count("products") != 4 {
			t.Errorf("after delete: %+v, %d products", gone.Collection, a.count("products"))
		}
	})
}

const mediaQuery = `query($id: ID!) { product(id: $id) { media { edges { node { __typename id alt
	... on MediaImage { image { url width height } }
	... on ProductVideo { sources { url mimeType } previewImage { url } } } } }
	featuredImage { url } variants { edges { node { id image { url } } } } } }`

type productMediaOut struct {
	Product struct {
		Media struct {
			Edges []struct{ Node mediaNode }
		}
		FeaturedImage *struct{ URL string }
		Variants      struct {
			Edges []struct {
				Node struct {
					ID    string
					Image *struct{ URL string }
				}
			}
		}
	}
}

func (o productMediaOut) ids() []string {
	var ids []string
	for _, e := range o.Product.Media.Edges {
		ids = append(ids, e.Node.ID)
	}
	return ids
}

// TestProductMediaByURLReorderRemove adds images by URL and a video, sets a
// variant's image, reorders and removes media, and refuses bad inputs and
// other sellers.
func TestProductMediaByURLReorderRemove(t *testing.T) {
	a, _ := newMediaAPI(t, 0)
	f := a.fixture("urls")
	add := func(token string, media []map[string]any) (mediaAddOut, gqlResponse) {
		resp := a.post(token, mediaAddMutation, map[string]any{"p": f.productID, "media": media})
		var out mediaAddOut
		_ = jsonUnmarshalStrict(resp.Data, &out)
		return out, resp
	}
	out, resp := add(f.sellerToken, []map[string]any{
		{"url": "https://cdn.example.com/a.jpg", "altText": "Front", "width": 800, "height": 600},
		{"url": "https://cdn.example.com/b.jpg"},
		{"videoSources": []map[string]any{{"url": "https://video.example.com/c.mp4", "mimeType": "video/mp4"}}, "posterUrl": "https://cdn.example.com/c.jpg", "altText": "Demo"},
	})
	if len(resp.Errors) > 0 || len(out.ProductMediaAdd.UserErrors) > 0 || len(out.ProductMediaAdd.Media) != 3 {
		t.Fatalf("add: %+v %+v", resp.Errors, out.ProductMediaAdd)
	}
	var got productMediaOut
	a.ok("", mediaQuery, map[string]any{"id": f.productID}, &got)
	e := got.Product.Media.Edges
	if len(e) != 3 || e[0].Node.Image.URL != "https://cdn.example.com/a.jpg" || *e[0].Node.Image.Width != 800 || e[1].Node.Image.Width != nil ||
		e[2].Node.Typename != "ProductVideo" || e[2].Node.Sources[0].MimeType != "video/mp4" || got.Product.FeaturedImage.URL != "https://cdn.example.com/a.jpg" {
		t.Fatalf("media = %+v", got)
	}
	ids := got.ids()

	for name, media := range map[string][]map[string]any{
		"http url":         {{"url": "http://cdn.example.com/a.jpg"}},
		"not a url":        {{"url": "javascript:alert(1)"}},
		"two sources":      {{"url": "https://cdn.example.com/a.jpg", "videoSources": []map[string]any{{"url": "https://v.example.com/a.mp4", "mimeType": "video/mp4"}}}},
		"none":             {{"altText": "nothing"}},
		"bad mime":         {{"videoSources": []map[string]any{{"url": "https://v.example.com/a.mp4", "mimeType": "text/html"}}}},
		"zero width":       {{"url": "https://cdn.example.com/a.jpg", "width": 0}},
		"too many at once": slices.Repeat([]map[string]any{{"url": "https://cdn.example.com/x.jpg"}}, 11),
	} {
		out, resp := add(f.sellerToken, media)
		if len(resp.Errors) > 0 || len(out.ProductMediaAdd.UserErrors) == 0 || out.ProductMediaAdd.Product != nil {
			t.Errorf("%s: %+v %+v", name, resp.Errors, out.ProductMediaAdd)
		}
	}
	if n := a.count("product_media"); n != 3 {
		t.Errorf("%d media rows after refused inputs", n)
	}
	other, _ := a.user("mediathief", false)
	if _, resp := add(other, []map[string]any{{"url": "https://cdn.example.com/z.jpg"}}); resp.code() != "FORBIDDEN" {
		t.Errorf("another seller: %+v", resp.Errors)
	}
	if _, resp := add("", []map[string]any{{"url": "https://cdn.example.com/z.jpg"}}); resp.code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous: %+v", resp.Errors)
	}

	// A variant shows the second image; a video can not be a variant's image.
	setImage := `mutation($v: ID!, $i: ID) { productVariantSetImage(variantId: $v, imageId: $i) { variant { image { url } } userErrors { code } } }`
	var set struct {
		ProductVariantSetImage struct {
			Variant    *struct{ Image *struct{ URL string } }
			UserErrors []userError
		}
	}
	a.ok(f.sellerToken, setImage, map[string]any{"v": f.variantIDs[0], "i": ids[1]}, &set)
	if set.ProductVariantSetImage.Variant == nil || set.ProductVariantSetImage.Variant.Image == nil ||
		set.ProductVariantSetImage.Variant.Image.URL != "https://cdn.example.com/b.jpg" {
		t.Errorf("productVariantSetImage = %+v", set.ProductVariantSetImage)
	}
	if resp := a.post(f.sellerToken, setImage, map[string]any{"v": f.variantIDs[0], "i": ids[2]}); resp.code() != "BAD_USER_INPUT" {
		t.Errorf("a video as a variant image: %+v %s", resp.Errors, resp.Data)
	}
	if resp := a.post(other, setImage, map[string]any{"v": f.variantIDs[0], "i": ids[1]}); resp.code() != "FORBIDDEN" {
		t.Errorf("another seller: %+v", resp.Errors)
	}
	// An image of another product is refused on the argument sent, imageId.
	second := a.product(f.sellerToken, f.shopID, "second-serum", nil)
	var secondMedia mediaAddOut
	a.ok(f.sellerToken, mediaAddMutation, map[string]any{"p": second.ID, "media": []map[string]any{{"url": "https://cdn.example.com/s.jpg"}}}, &secondMedia)
	resp = a.post(f.sellerToken, `mutation($v: ID!, $i: ID) { productVariantSetImage(variantId: $v, imageId: $i) { userErrors { field code } } }`,
		map[string]any{"v": f.variantIDs[0], "i": secondMedia.ProductMediaAdd.Media[0].ID})
	if !strings.Contains(string(resp.Data), `"imageId"`) {
		t.Errorf("an image of another product: %s %+v", resp.Data, resp.Errors)
	}

	change := func(op string, ids []string) []userError {
		var out map[string]struct{ UserErrors []userError }
		a.ok(f.sellerToken, fmt.Sprintf(`mutation($p: ID!, $m: [ID!]!) { %s(productId: $p, mediaIds: $m) { product { id } userErrors { field code } } }`, op),
			map[string]any{"p": f.productID, "m": ids}, &out)
		return out[op].UserErrors
	}
	if ue := change("productMediaReorder", []string{ids[2], ids[1]}); len(ue) > 0 {
		t.Fatalf("reorder: %+v", ue)
	}
	a.ok("", mediaQuery, map[string]any{"id": f.productID}, &got)
	if !slices.Equal(got.ids(), []string{ids[2], ids[1], ids[0]}) || got.Product.FeaturedImage.URL != "https://cdn.example.com/b.jpg" {
		t.Errorf("after reorder: %v, featured %+v", got.ids(), got.Product.FeaturedImage)
	}
	otherProduct := a.fixture("otherprod")
	var foreign mediaAddOut
	a.ok(otherProduct.sellerToken, mediaAddMutation, map[string]any{"p": otherProduct.productID, "media": []map[string]any{{"url": "https://x.example.com/y.png"}}}, &foreign)
	if ue := change("productMediaRemove", []string{ids[0], foreign.ProductMediaAdd.Media[0].ID}); len(ue) != 1 || ue[0].Code != "NOT_FOUND" {
		t.Errorf("removing another product's medium: %+v", ue)
	}
	if ue := change("productMediaRemove", []string{ids[1]}); len(ue) > 0 {
		t.Fatalf("remove: %+v", ue)
	}
	a.ok("", mediaQuery, map[string]any{"id": f.productID}, &got)
	if !slices.Equal(got.ids(), []string{ids[2], ids[0]}) || got.Product.Variants.Edges[0].Node.Image != nil {
		t.Errorf("after remove: %v, variant image %+v", got.ids(), got.Product.Variants.Edges[0].Node.Image)
	}

	// A draft's media are as hidden as the draft.
	a.ok(f.sellerToken, `mutation($id: ID!) { updateProduct(input: {id: $id, status: DRAFT}) { product { id } } }`, map[string]any{"id": f.productID}, nil)
	var node struct{ Node *struct{ ID string } }
	a.ok("", `query($id: ID!) { node(id: $id) { ... on MediaImage { id } } }`, map[string]any{"id": ids[0]}, &node)
	if node.Node != nil {
		t.Errorf("a draft's image is visible to anyone: %+v", node.Node)
	}
	a.ok(f.sellerToken, `query($id: ID!) { node(id: $id) { ... on MediaImage { id } } }`, map[string]any{"id": ids[0]}, &node)
	if node.Node == nil || node.Node.ID != ids[0] {
		t.Errorf("the owner can not fetch the image: %+v", node.Node)
	}
	_ = http.StatusOK
}

// TestProductListWithMediaCostsConstantStatements: a page of products with
// media, featured image, variants with their images, and totalCount costs
// the same number of SQL statements for 5 products as for 40.
func TestProductListWithMediaCostsConstantStatements(t *testing.T) {
	files, err := media.NewDir(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	// countingStatements: loaders collect keys long enough that a loaded
	// machine does not split a batch.
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.Media = files; countingStatements(r) })
	token, _ := a.user("bulk", false)
	shop := a.shop(token, "bulk-shop")
	for i := 0; i < 40; i++ {
		p := a.product(token, shop, fmt.Sprintf("bulk-%d", i), nil)
		var out mediaAddOut
		a.ok(token, mediaAddMutation, map[string]any{"p": p.ID, "media": []map[string]any{
			{"url": fmt.Sprintf("https://cdn.example.com/%d-a.jpg", i)}, {"url": fmt.Sprintf("https://cdn.example.com/%d-b.jpg", i)}}}, &out)
		a.ok(token, `mutation($v: ID!, $i: ID) { productVariantSetImage(variantId: $v, imageId: $i) { userErrors { code } } }`,
			map[string]any{"v": p.Variants.Edges[0].Node.ID, "i": out.ProductMediaAdd.Media[1].ID}, nil)
	}
	a.serveWith(0, countingStatements)
	query := `query($n: Int!, $sort: ProductSortKeys) { products(first: $n, sortKey: $sort) { totalCount edges { node { id title
		featuredImage { url width } media(first: 5) { edges { node { id alt ... on MediaImage { image { url } } } } }
		variants { edges { node { sku image { url } } } } shop { name collections { totalCount edges { node { handle } } } } } } } }`
	for _, sortKey := range []string{"CREATED_AT", "PRICE", "BEST_SELLING"} {
		counts := map[int]int64{}
		for _, n := range []int{5, 40} {
			var out struct {
				Products struct {
					TotalCount int
					Edges      []any
				}
			}
			a.ok("", query, map[string]any{"n": n, "sort": sortKey}, &out)
			if len(out.Products.Edges) != n || out.Products.TotalCount != 40 {
				t.Fatalf("%s: %d edges, totalCount %d", sortKey, len(out.Products.Edges), out.Products.TotalCount)
			}
			counts[n] = a.statements.Load()
		}
		if counts[5] != counts[40] || counts[40] > 10 {
			t.Errorf("%s: first 5 → %d statements, first 40 → %d; want equal and at most 10", sortKey, counts[5], counts[40])
		}
		t.Logf("%s page with media, variants, images, shops, collections and totalCount: %d statements", sortKey, counts[40])
	}
}

// TestCatalogueWritesNeedCatalogWriteForApps: a shop app uploads and curates
// with catalog:write, is refused with catalog:read only, and never touches
// another shop.
func TestCatalogueWritesNeedCatalogWriteForApps(t *testing.T) {
	a, _ := newMediaAPI(t, 0)
	f := a.fixture("appshop")
	other := a.fixture("appother")
	writer, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:write", "catalog:read"})
	reader, _ := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	png := []uploadFile{{"a.png", "image/png", testPNG(t, 2, 2)}}

	resp := a.serve(multipartRequest(t, writer, mediaAddMutation, uploadVars(f.productID, 1, "app"), png))
	var out mediaAddOut
	_ = jsonUnmarshalStrict(resp.Data, &out)
	if len(resp.Errors) > 0 || len(out.ProductMediaAdd.Media) != 1 {
		t.Fatalf("catalog:write app: %+v %+v", resp.Errors, out.ProductMediaAdd)
	}
	if resp := a.serve(multipartRequest(t, reader, mediaAddMutation, uploadVars(f.productID, 1, "app"), png)); resp.code() != "FORBIDDEN" {
		t.Errorf("catalog:read app: %+v", resp.Errors)
	}
	if resp := a.serve(multipartRequest(t, writer, mediaAddMutation, uploadVars(other.productID, 1, "app"), png)); resp.code() != "FORBIDDEN" {
		t.Errorf("another shop's product: %+v", resp.Errors)
	}
	create := `mutation($in: CollectionCreateInput!) { collectionCreate(input: $in) { collection { id } userErrors { code } } }`
	if resp := a.post(reader, create, map[string]any{"in": map[string]any{"shopId": f.shopID, "handle": "app-coll", "title": "x"}}); resp.code() != "FORBIDDEN" {
		t.Errorf("catalog:read app creating a collection: %+v", resp.Errors)
	}
	if resp := a.post(writer, create, map[string]any{"in": map[string]any{"shopId": other.shopID, "handle": "app-coll", "title": "x"}}); resp.code() != "FORBIDDEN" {
		t.Errorf("app creating a collection in another shop: %+v", resp.Errors)
	}
	if resp := a.post(writer, create, map[string]any{"in": map[string]any{"shopId": f.shopID, "handle": "app-coll", "title": "x"}}); len(resp.Errors) > 0 {
		t.Errorf("catalog:write app creating a collection: %+v", resp.Errors)
	}
	if n := a.count("product_media"); n != 1 {
		t.Errorf("%d media rows, want 1", n)
	}
}
