package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
	"showcase/store/live"
)

// featuredProducts checks the products a viewer wants on their content:
// unknown or inactive ones are user errors, others' products for a
// non-creator are FORBIDDEN. It returns the ids and the shop of the first
// product, which the content is attributed to.
func (r *Resolver) featuredProducts(ctx context.Context, gids []string) ([]int64, *int64, store.Problems, error) {
	v := auth.ViewerFrom(ctx)
	ids := make([]int64, len(gids))
	for i, gid := range gids {
		id, err := parseTypedID(gid, typeProduct)
		if err != nil {
			return nil, nil, nil, err
		}
		ids[i] = id
	}
	l := loadersFrom(ctx)
	found, err := r.DB.ProductsByIDs(ctx, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	var problems store.Problems
	for i, id := range ids {
		field := fmt.Sprintf("productIds.%d", i)
		p := found[id]
		if p == nil {
			problems = append(problems, store.FieldErrorf(store.ENotFound, field, "product not found"))
			continue
		}
		shop, err := l.Shop.Load(ctx, p.ShopID)
		if err != nil {
			return nil, nil, nil, err
		}
		if !auth.CanSeeProduct(v, p, shop) {
			problems = append(problems, store.FieldErrorf(store.ENotFound, field, "product not found"))
			continue
		}
		if p.Status != store.ProductActive {
			problems = append(problems, store.FieldErrorf(store.EInvalid, field, "only active products can be featured"))
			continue
		}
		if !auth.CanFeatureProduct(v, p, shop) {
			return nil, nil, nil, store.Errorf(store.EForbidden, "only creators may feature other shops' products")
		}
	}
	var shopID *int64
	if p := found[ids[0]]; p != nil {
		shopID = &p.ShopID
	}
	return ids, shopID, problems, nil
}

func (r *Resolver) publishVideo(ctx context.Context, in model.PublishVideoInput) (*model.VideoPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	nv := store.NewVideo{
		AuthorID: v.UserID(), Caption: strings.TrimSpace(in.Caption), PlaybackURL: in.PlaybackURL,
		ThumbnailURL: deref(in.ThumbnailURL), DurationSeconds: in.DurationSeconds, Tags: in.Tags,
		ProductIDs: make([]int64, len(in.ProductIds)),
	}
	problems := nv.Validate()
	if len(problems) == 0 {
		var more store.Problems
		nv.ProductIDs, nv.ShopID, more, err = r.featuredProducts(ctx, in.ProductIds)
		if err != nil {
			return nil, err
		}
		problems = append(problems, more...)
	}
	if len(problems) > 0 {
		return &model.VideoPayload{UserErrors: problemsToUserErrors(problems, "input")}, nil
	}
	video, err := r.DB.PublishVideo(ctx, nv)
	if err != nil {
		return nil, err
	}
	return &model.VideoPayload{Video: video, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) scheduleLiveSession(ctx context.Context, in model.ScheduleLiveSessionInput) (*model.LiveSessionPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	nl := store.NewLiveSession{
		HostID: v.UserID(), Title: strings.TrimSpace(in.Title), ScheduledStartAt: in.ScheduledStartAt, Tags: in.Tags,
	}
	nl.ProductIDs = make([]int64, len(in.ProductIds))
	problems := nl.Validate(time.Now())
	if len(problems) == 0 {
		var more store.Problems
		nl.ProductIDs, nl.ShopID, more, err = r.featuredProducts(ctx, in.ProductIds)
		if err != nil {
			return nil, err
		}
		problems = append(problems, more...)
	}
	if len(problems) > 0 {
		return &model.LiveSessionPayload{UserErrors: problemsToUserErrors(problems, "input")}, nil
	}
	ls, err := r.DB.ScheduleLiveSession(ctx, nl)
	if err != nil {
		return nil, err
	}
	return &model.LiveSessionPayload{LiveSession: ls, UserErrors: []*model.UserError{}}, nil
}

// existingLiveSession loads a live session by global ID, or NOT_FOUND.
func existingLiveSession(ctx context.Context, gid string) (*store.LiveSession, error) {
	id, err := parseTypedID(gid, typeLiveSession)
	if err != nil {
		return nil, err
	}
	ls, err := loadLiveSession(ctx, id)
	if err == nil && ls == nil {
		err = store.Errorf(store.ENotFound, "live session not found")
	}
	return ls, err
}

// hostedSession loads a live session the viewer may run (auth.CanManageLive):
// NOT_FOUND when unknown, FORBIDDEN when not theirs.
func (r *Resolver) hostedSession(ctx context.Context, gid string) (*store.LiveSession, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	ls, err := existingLiveSession(ctx, gid)
	if err != nil {
		return nil, err
	}
	if !auth.CanManageLive(v, ls) {
		return nil, errForbidden
	}
	return ls, nil
}

// liveTransition runs a host-only change of a live session and reports
// refused transitions as user errors.
func (r *Resolver) liveTransition(ctx context.Context, gid string, change func(id int64) (*store.LiveSession, error)) (*model.LiveSessionPayload, error) {
	before, err := r.hostedSession(ctx, gid)
	if err != nil {
		return nil, err
	}
	ls, err := change(before.ID)
	if err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.LiveSessionPayload{UserErrors: ue}, err
	}
	if ls.Status != before.Status {
		r.publish(ctx, live.Event{SessionID: ls.ID, Kind: live.KindStatus, Status: ls.Status})
	}
	if ls.PinnedProductID != nil && (before.PinnedProductID == nil || *before.PinnedProductID != *ls.PinnedProductID) {
		r.publish(ctx, live.Event{SessionID: ls.ID, Kind: live.KindPinned, ProductID: *ls.PinnedProductID})
	}
	return &model.LiveSessionPayload{LiveSession: ls, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) pinLiveProduct(ctx context.Context, sessionGID, productGID string) (*model.LiveSessionPayload, error) {
	productID, err := parseTypedID(productGID, typeProduct)
	if err != nil {
		return nil, err
	}
	return r.liveTransition(ctx, sessionGID, func(id int64) (*store.LiveSession, error) {
		// The host pins only what they may see (auth.CanSeeProduct): an
		// affiliate cannot pin another shop's product set back to DRAFT.
		p, err := visibleProduct(ctx, productID)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, store.FieldErrorf(store.ENotFound, "productId", "product not found")
		}
		return r.DB.PinLiveProduct(ctx, id, productID)
	})
}
