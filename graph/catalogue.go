package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"showcase/graph/model"
	"showcase/media"
	"showcase/store"
)

// Global ID type names of the catalogue.
const (
	typeMediaImage   = "MediaImage"
	typeProductVideo = "ProductVideo"
	typeCollection   = "Collection"
)

// MaxMediaPerCall bounds the media one productMediaAdd call may add.
const MaxMediaPerCall = 10

// maxUploadBytes is the per-file upload limit in force.
func (r *Resolver) maxUploadBytes() int64 {
	if r.MaxUploadBytes > 0 {
		return r.MaxUploadBytes
	}
	return media.DefaultMaxUploadBytes
}

// mediaURL is the address of a stored file.
func (r *Resolver) mediaURL(name string) string {
	if r.Media != nil {
		return r.Media.URL(name)
	}
	return media.URLPrefix + name
}

// imageOf shows a stored image row as an Image.
func (r *Resolver) imageOf(m *store.ProductMedia) *model.Image {
	if m == nil || m.Kind != store.MediaKindImage {
		return nil
	}
	id := globalID(typeMediaImage, m.ID)
	img := &model.Image{ID: &id, AltText: &m.AltText, Width: m.Width, Height: m.Height}
	if m.StorageName != nil {
		img.URL = r.mediaURL(*m.StorageName)
	} else if m.URL != nil {
		img.URL = *m.URL
	}
	return img
}

// posterOf shows a video's poster as an Image, or nil.
func posterOf(m *store.ProductMedia) *model.Image {
	if m.PosterURL == nil {
		return nil
	}
	return &model.Image{URL: *m.PosterURL, AltText: &m.AltText}
}

// parseMediaID decodes a MediaImage or ProductVideo ID.
func parseMediaID(gid string) (int64, error) {
	typeName, id, err := parseGlobalID(gid)
	if err != nil {
		return 0, err
	}
	if typeName != typeMediaImage && typeName != typeProductVideo {
		return 0, store.Errorf(store.EInvalid, "%q is not a media ID", truncate(gid, maxGlobalIDLength))
	}
	return id, nil
}

// visibleMedia loads a medium if the viewer may see its product, as the
// type its ID names.
func visibleMedia(ctx context.Context, typeName string, id int64) (store.Node, error) {
	m, err := orNil(loadersFrom(ctx).Media.Load(ctx, id))
	if m == nil || err != nil {
		return nil, err
	}
	if p, err := visibleProduct(ctx, m.ProductID); p == nil || err != nil {
		return nil, err
	}
	switch {
	case typeName == typeMediaImage && m.Kind == store.MediaKindImage:
		return &store.MediaImage{ProductMedia: *m}, nil
	case typeName == typeProductVideo && m.Kind == store.MediaKindVideo:
		return &store.ProductVideo{ProductMedia: *m}, nil
	}
	return nil, nil
}

// productMedia pages a product's media, batch-loaded with every other
// product of the response.
func (r *Resolver) productMedia(ctx context.Context, p *store.Product, first *int, after *string) (*model.MediaConnection, error) {
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	rows, err := loadersFrom(ctx).MediaByProduct.Load(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	page, err := store.PageSlice(rows, func(m *store.ProductMedia) (int64, int64) { return int64(m.Position), m.ID }, args)
	if err != nil {
		return nil, err
	}
	conn := &model.MediaConnection{PageInfo: pageInfo(page), Edges: make([]*model.MediaEdge, 0, len(page.Edges))}
	for _, e := range page.Edges {
		conn.Edges = append(conn.Edges, &model.MediaEdge{Cursor: e.Cursor, Node: e.Node.AsMedia()})
	}
	return conn, nil
}

// featuredImage is the first image among a product's media.
func (r *Resolver) featuredImage(ctx context.Context, p *store.Product) (*model.Image, error) {
	rows, err := loadersFrom(ctx).MediaByProduct.Load(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range rows {
		if m.Kind == store.MediaKindImage {
			return r.imageOf(m), nil
		}
	}
	return nil, nil
}

// variantImage is the image chosen for a variant.
func (r *Resolver) variantImage(ctx context.Context, v *store.ProductVariant) (*model.Image, error) {
	m, err := loadersFrom(ctx).VariantImage.Load(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	return r.imageOf(m), nil
}

// mediaPayload answers a media mutation with the product as it now is.
func mediaPayload(p *store.Product, added []*store.ProductMedia) *model.ProductMediaPayload {
	out := &model.ProductMediaPayload{Product: p, UserErrors: []*model.UserError{}}
	for _, m := range added {
		out.Media = append(out.Media, m.AsMedia())
	}
	return out
}

// productMediaAdd checks every medium first (uploads are read, sniffed and
// measured), and only when all are good stores the files, then the rows.
func (r *Resolver) productMediaAdd(ctx context.Context, productID string, in []*model.ProductMediaInput) (*model.ProductMediaPayload, error) {
	p, err := r.managedProduct(ctx, productID)
	if err != nil {
		return nil, err
	}
	refuse := func(problems store.Problems) *model.ProductMediaPayload {
		return &model.ProductMediaPayload{UserErrors: problemsToUserErrors(problems, "")}
	}
	if len(in) == 0 || len(in) > MaxMediaPerCall {
		return refuse(store.Problems{store.FieldErrorf(store.EInvalid, "media", "give 1 to %d media", MaxMediaPerCall)}), nil
	}
	var problems store.Problems
	news := make([]store.NewMedia, len(in))
	images := make([]*media.Image, len(in))
	for i, mi := range in {
		field := fmt.Sprintf("media.%d", i)
		given := 0
		for _, set := range []bool{mi.Upload != nil, mi.URL != nil, mi.VideoSources != nil} {
			if set {
				given++
			}
		}
		if given != 1 {
			problems = append(problems, store.FieldErrorf(store.EInvalid, field, "give exactly one of upload, url or videoSources"))
			continue
		}
		nm := store.NewMedia{Kind: store.MediaKindImage, AltText: strings.TrimSpace(deref(mi.AltText)), Width: mi.Width, Height: mi.Height,
			PosterURL: strings.TrimSpace(deref(mi.PosterURL))}
		switch {
		case mi.Upload != nil:
			if mi.Width != nil || mi.Height != nil {
				problems = append(problems, store.FieldErrorf(store.EInvalid, field+".width", "an upload's dimensions are read from the file; leave width and height out"))
				continue
			}
			img, err := r.readUpload(mi.Upload.File, mi.Upload.Size)
			var bad *media.Problem
			if errors.As(err, &bad) {
				problems = append(problems, store.FieldErrorf(store.EInvalid, field+".upload", "%s", bad.Message).Because(bad.Reason))
				continue
			}
			if err != nil {
				return nil, err
			}
			images[i] = img
			nm.StorageName, nm.ContentType, nm.Width, nm.Height = img.Name, img.ContentType, &img.Width, &img.Height
		case mi.URL != nil:
			nm.URL = strings.TrimSpace(*mi.URL)
		default:
			nm.Kind = store.MediaKindVideo
			for _, s := range mi.VideoSources {
				nm.Sources = append(nm.Sources, store.VideoSource{URL: strings.TrimSpace(s.URL), MimeType: strings.TrimSpace(s.MimeType)})
			}
		}
		problems = append(problems, nm.Validate(field, !r.Production)...)
		news[i] = nm
	}
	if len(problems) > 0 {
		return refuse(problems), nil
	}
	// The files are written once the rows are known to fit, inside their
	// transaction: a refused call stores nothing.
	storeFiles := func() error {
		for _, img := range images {
			if img == nil {
				continue
			}
			if r.Media == nil {
				return fmt.Errorf("uploads need a media store")
			}
			if err := r.Media.Put(ctx, img.Name, img.ContentType, bytes.NewReader(img.Data)); err != nil {
				return fmt.Errorf("store upload: %w", err)
			}
		}
		return nil
	}
	added, err := r.DB.AddProductMedia(ctx, p.ID, news, storeFiles)
	if err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.ProductMediaPayload{UserErrors: ue}, err
	}
	return mediaPayload(p, added), nil
}

// readUpload checks one uploaded file against the size limit and the
// accepted image types.
func (r *Resolver) readUpload(f interface{ Read([]byte) (int, error) }, size int64) (*media.Image, error) {
	if size > r.maxUploadBytes() {
		return nil, &media.Problem{Reason: media.ReasonTooLarge, Message: fmt.Sprintf("the file is %d bytes; at most %d are accepted", size, r.maxUploadBytes())}
	}
	return media.ReadImage(f, r.maxUploadBytes())
}

// parseMediaIDs decodes a list of media IDs; field names the argument.
func parseMediaIDs(ids []string) ([]int64, error) {
	out := make([]int64, len(ids))
	for i, gid := range ids {
		id, err := parseMediaID(gid)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

func (r *Resolver) productMediaChange(ctx context.Context, productID string, mediaIDs []string, change func(ctx context.Context, productID int64, ids []int64) error) (*model.ProductMediaPayload, error) {
	p, err := r.managedProduct(ctx, productID)
	if err != nil {
		return nil, err
	}
	if len(mediaIDs) == 0 || len(mediaIDs) > store.MaxMediaPerProduct {
		return &model.ProductMediaPayload{UserErrors: problemsToUserErrors(store.Problems{
			store.FieldErrorf(store.EInvalid, "mediaIds", "give 1 to %d media IDs", store.MaxMediaPerProduct)}, "")}, nil
	}
	ids, err := parseMediaIDs(mediaIDs)
	if err != nil {
		return nil, err
	}
	if err := change(ctx, p.ID, ids); err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.ProductMediaPayload{UserErrors: ue}, err
	}
	return mediaPayload(p, nil), nil
}

func (r *Resolver) productVariantSetImage(ctx context.Context, variantID string, imageID *string) (*model.ProductVariantPayload, error) {
	variant, err := r.managedVariant(ctx, variantID)
	if err != nil {
		return nil, err
	}
	id := variant.ID
	var mediaID *int64
	if imageID != nil {
		mid, err := parseTypedID(*imageID, typeMediaImage)
		if err != nil {
			return nil, err
		}
		mediaID = &mid
	}
	if err := r.DB.SetVariantImage(ctx, id, mediaID); err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.ProductVariantPayload{UserErrors: ue}, err
	}
	loadersFrom(ctx).VariantImage.Clear(id)
	return &model.ProductVariantPayload{Variant: variant, UserErrors: []*model.UserError{}}, nil
}

// --- collections ---

// managedCollection loads a collection whose shop the viewer may manage.
func (r *Resolver) managedCollection(ctx context.Context, gid string) (*store.Collection, error) {
	return managedInShop(ctx, r, gid, typeCollection, "collection", loadersFrom(ctx).Collection.Load,
		func(c *store.Collection) int64 { return c.ShopID })
}

func parseProductIDs(ids []string) ([]int64, error) {
	out := make([]int64, len(ids))
	for i, gid := range ids {
		id, err := parseTypedID(gid, typeProduct)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

func collectionPayload(c *store.Collection, err error) (*model.CollectionPayload, error) {
	if err != nil {
		ue, err := userErrorsFrom(err, "input")
		return &model.CollectionPayload{UserErrors: ue}, err
	}
	return &model.CollectionPayload{Collection: c, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) collectionCreate(ctx context.Context, in model.CollectionCreateInput) (*model.CollectionPayload, error) {
	shop, err := r.managedShop(ctx, in.ShopID)
	if err != nil {
		return nil, err
	}
	products, err := parseProductIDs(in.ProductIds)
	if err != nil {
		return nil, err
	}
	nc := store.NewCollection{ShopID: shop.ID, Handle: strings.TrimSpace(in.Handle), Title: strings.TrimSpace(in.Title),
		Description: deref(in.Description), ProductIDs: products}
	if p := nc.Validate(); len(p) > 0 {
		return &model.CollectionPayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	return collectionPayload(r.DB.CreateCollection(ctx, nc))
}

func (r *Resolver) collectionUpdate(ctx context.Context, in model.CollectionUpdateInput) (*model.CollectionPayload, error) {
	c, err := r.managedCollection(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	upd := store.CollectionUpdate{Handle: in.Handle, Title: in.Title, Description: in.Description}
	if p := upd.Validate(); len(p) > 0 {
		return &model.CollectionPayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	return collectionPayload(r.DB.UpdateCollection(ctx, c.ID, upd))
}

func (r *Resolver) collectionDelete(ctx context.Context, id string) (*model.CollectionDeletePayload, error) {
	c, err := r.managedCollection(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := r.DB.DeleteCollection(ctx, c.ID); err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.CollectionDeletePayload{UserErrors: ue}, err
	}
	gid := globalID(typeCollection, c.ID)
	return &model.CollectionDeletePayload{DeletedCollectionID: &gid, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) collectionSetProducts(ctx context.Context, id string, productIDs []string) (*model.CollectionPayload, error) {
	c, err := r.managedCollection(ctx, id)
	if err != nil {
		return nil, err
	}
	products, err := parseProductIDs(productIDs)
	if err != nil {
		return nil, err
	}
	c, err = r.DB.SetCollectionProducts(ctx, c.ID, products)
	if err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.CollectionPayload{UserErrors: ue}, err
	}
	return &model.CollectionPayload{Collection: c, UserErrors: []*model.UserError{}}, nil
}

// collectionByHandle finds a collection; null when there is none (or, with
// shopID, when it is another shop's).
func (r *Resolver) collectionByHandle(ctx context.Context, handle string, shopID *int64) (*store.Collection, error) {
	c, err := r.reader(ctx).CollectionByHandle(ctx, strings.TrimSpace(handle))
	if store.ErrorCode(err) == store.ENotFound {
		return nil, nil
	}
	if err != nil || (shopID != nil && c.ShopID != *shopID) {
		return nil, err
	}
	return c, nil
}

// collectionProducts pages a collection's products in its order; drafts
// only for its shop's managers.
func (r *Resolver) collectionProducts(ctx context.Context, c *store.Collection, first *int, after *string) (*model.ProductConnection, error) {
	key, err := childPageKey(c.ID, first, after)
	if err != nil {
		return nil, err
	}
	if key.IncludeDrafts, err = viewerSeesDrafts(ctx, c.ShopID); err != nil {
		return nil, err
	}
	page, err := loadersFrom(ctx).CollectionProducts.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	countKey := store.CountKey{ParentID: c.ID, IncludeDrafts: key.IncludeDrafts}
	return productConnection(page, func(ctx context.Context) (int, error) {
		return loadersFrom(ctx).CollectionProductCount.Load(ctx, countKey)
	}), nil
}

func (r *Resolver) shopCollections(ctx context.Context, s *store.Shop, first *int, after *string) (*model.CollectionConnection, error) {
	key, err := childPageKey(s.ID, first, after)
	if err != nil {
		return nil, err
	}
	page, err := loadersFrom(ctx).ShopCollections.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	return &model.CollectionConnection{PageInfo: pageInfo(page),
		Edges: edges(page, func(c string, n *store.Collection) *model.CollectionEdge {
			return &model.CollectionEdge{Cursor: c, Node: n}
		}),
		Count: func(ctx context.Context) (int, error) { return loadersFrom(ctx).ShopCollectionCount.Load(ctx, s.ID) },
	}, nil
}

// --- product lists ---

// products lists products under any sort key and filter.
func (r *Resolver) products(ctx context.Context, first *int, after *string, sortKey *string, reverse *bool, filter *model.ProductFilter) (*model.ProductConnection, error) {
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	q := store.ProductList{SalesRankLag: r.SalesRankLag}
	if sortKey != nil {
		q.SortKey = *sortKey
	}
	if reverse != nil {
		q.Reverse = *reverse
	}
	if q.SortKey == "" && (filter == nil || deref(filter.Search) == "") {
		q.Reverse = !q.Reverse // the default order is newest first
	}
	if filter != nil {
		if err := r.productFilter(ctx, filter, &q); err != nil {
			return nil, err
		}
	}
	if len(q.Search) > 200 {
		return nil, store.FieldErrorf(store.EInvalid, "filter.search", "search must be at most 200 characters")
	}
	db := r.reader(ctx)
	if q.WritesWalk() {
		db = r.DB // a ranked search's walk is written and read on the primary
	}
	page, err := db.ListProductsSorted(ctx, q, args)
	if err != nil {
		return nil, err
	}
	primed := primeVariants(ctx, page)
	reads := r.reader(ctx)
	return inlineRootProducts(ctx, productConnection(page, func(ctx context.Context) (int, error) { return reads.CountProducts(ctx, q) }), primed), nil
}

// productFilter reads a ProductFilter into q; drafts are listed only when
// the filter names a shop (or a collection of a shop) the viewer manages.
func (r *Resolver) productFilter(ctx context.Context, filter *model.ProductFilter, q *store.ProductList) error {
	if filter.ShopID != nil {
		shopID, err := parseTypedID(*filter.ShopID, typeShop)
		if err != nil {
			return err
		}
		q.ShopID = &shopID
		if q.IncludeDrafts, err = viewerSeesDrafts(ctx, shopID); err != nil {
			return err
		}
	}
	if filter.CollectionID != nil {
		cid, err := parseTypedID(*filter.CollectionID, typeCollection)
		if err != nil {
			return err
		}
		q.CollectionID = &cid
		c, err := orNil(loadersFrom(ctx).Collection.Load(ctx, cid))
		if err != nil {
			return err
		}
		manages := false
		if c != nil {
			if manages, err = viewerSeesDrafts(ctx, c.ShopID); err != nil {
				return err
			}
		}
		q.IncludeDrafts = manages && (q.ShopID == nil || q.IncludeDrafts)
	}
	q.Search = deref(filter.Search)
	q.Tag = deref(filter.Tag)
	if len(q.Tag) > store.MaxTagLength {
		return store.FieldErrorf(store.EInvalid, "filter.tag", "a tag is at most %d characters", store.MaxTagLength)
	}
	q.Available = filter.Available
	if pr := filter.Price; pr != nil {
		if !store.ValidCurrencyCode(pr.CurrencyCode) {
			return store.FieldErrorf(store.EInvalid, "filter.price.currencyCode", "currency code must be three capital letters, e.g. USD")
		}
		q.PriceCurrency = pr.CurrencyCode
		for _, b := range []struct {
			name string
			in   *string
			out  **int64
		}{{"min", pr.Min, &q.MinPrice}, {"max", pr.Max, &q.MaxPrice}} {
			if b.in == nil {
				continue
			}
			m, err := store.ParseMoney(*b.in, pr.CurrencyCode)
			if err != nil {
				return store.FieldErrorf(store.EInvalid, "filter.price."+b.name, "%s", err)
			}
			*b.out = &m.Minor
		}
	}
	return nil
}
