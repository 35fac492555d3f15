package graph

import (
	"context"
	"fmt"
	"strings"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// Campaigns: admins create and change them, shops enrol their variants
// (store/campaigns.go has the rules).

func campaignPayload(c *store.Campaign, err error) (*model.CampaignPayload, error) {
	if err != nil {
		ue, err := userErrorsFrom(err, "input")
		return &model.CampaignPayload{UserErrors: ue}, err
	}
	return &model.CampaignPayload{Campaign: c, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) campaignCreate(ctx context.Context, in model.CampaignCreateInput) (*model.CampaignPayload, error) {
	nc := store.NewCampaign{Handle: strings.TrimSpace(in.Handle), Name: strings.TrimSpace(in.Name), StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		MinPercentOff: in.MinPercentOff, MaxPercentOff: in.MaxPercentOff, CreatedBy: auth.ViewerFrom(ctx).UserID()}
	if p := nc.Validate(); len(p) > 0 {
		return &model.CampaignPayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	return campaignPayload(r.DB.CreateCampaign(ctx, nc))
}

func (r *Resolver) campaignUpdate(ctx context.Context, in model.CampaignUpdateInput) (*model.CampaignPayload, error) {
	id, err := parseTypedID(in.ID, typeCampaign)
	if err != nil {
		return nil, err
	}
	return campaignPayload(r.DB.UpdateCampaign(ctx, id, store.CampaignUpdate{Handle: in.Handle, Name: in.Name,
		StartsAt: in.StartsAt, EndsAt: in.EndsAt, MinPercentOff: in.MinPercentOff, MaxPercentOff: in.MaxPercentOff}))
}

// campaignShop parses a campaign and a shop the viewer manages
// (auth.CanManageShop; FORBIDDEN otherwise).
func (r *Resolver) campaignShop(ctx context.Context, campaignGID, shopGID string) (int64, *store.Shop, error) {
	campaignID, err := parseTypedID(campaignGID, typeCampaign)
	if err != nil {
		return 0, nil, err
	}
	shop, err := r.managedShop(ctx, shopGID)
	return campaignID, shop, err
}

func (r *Resolver) campaignEnrolPayload(ctx context.Context, campaignID int64, p store.Problems, err error) (*model.CampaignEnrolPayload, error) {
	if err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.CampaignEnrolPayload{UserErrors: ue}, err
	}
	if len(p) > 0 {
		return &model.CampaignEnrolPayload{UserErrors: problemsToUserErrors(p, "")}, nil
	}
	c, err := r.DB.CampaignsByIDs(ctx, []int64{campaignID})
	if err != nil {
		return nil, err
	}
	return &model.CampaignEnrolPayload{Campaign: c[campaignID], UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) campaignEnrol(ctx context.Context, campaignGID, shopGID string, in []*model.CampaignEnrolmentInput) (*model.CampaignEnrolPayload, error) {
	campaignID, shop, err := r.campaignShop(ctx, campaignGID, shopGID)
	if err != nil {
		return nil, err
	}
	enrolments := make([]store.Enrolment, len(in))
	var p store.Problems
	for i, e := range in {
		id, err := parseTypedID(e.VariantID, typeVariant)
		if err != nil {
			return nil, err
		}
		enrolments[i] = store.Enrolment{VariantID: id, PercentOff: e.PercentOff}
		if e.Price == nil {
			continue
		}
		// The price is read in the variant's currency; an unknown variant
		// (or another shop's) is refused by the store.
		currency := shop.CurrencyCode
		if v, err := orNil(loadersFrom(ctx).Variant.Load(ctx, id)); err != nil {
			return nil, err
		} else if v != nil {
			currency = v.CurrencyCode
		}
		m, err := store.ParseMoney(*e.Price, currency)
		if err != nil {
			p = append(p, store.FieldErrorf(store.EInvalid, fmt.Sprintf("enrolments.%d.price", i), "%s", err.Error()))
			continue
		}
		enrolments[i].Price = &m.Minor
	}
	if len(p) > 0 {
		return &model.CampaignEnrolPayload{UserErrors: problemsToUserErrors(p, "")}, nil
	}
	problems, err := r.DB.Enrol(ctx, campaignID, shop.ID, enrolments)
	return r.campaignEnrolPayload(ctx, campaignID, problems, err)
}

func (r *Resolver) campaignWithdraw(ctx context.Context, campaignGID, shopGID string, variantGIDs []string) (*model.CampaignEnrolPayload, error) {
	campaignID, shop, err := r.campaignShop(ctx, campaignGID, shopGID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(variantGIDs))
	for i, gid := range variantGIDs {
		if ids[i], err = parseTypedID(gid, typeVariant); err != nil {
			return nil, err
		}
	}
	problems, err := r.DB.Withdraw(ctx, campaignID, shop.ID, ids)
	return r.campaignEnrolPayload(ctx, campaignID, problems, err)
}

// campaignByHandle finds a campaign; null when there is none.
func (r *Resolver) campaignByHandle(ctx context.Context, handle string) (*store.Campaign, error) {
	c, err := r.DB.CampaignByHandle(ctx, strings.TrimSpace(handle))
	if store.ErrorCode(err) == store.ENotFound {
		return nil, nil
	}
	return c, err
}

func (r *Resolver) campaigns(ctx context.Context, first *int, after *string) (*model.CampaignConnection, error) {
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	p, err := r.DB.Campaigns(ctx, args)
	if err != nil {
		return nil, err
	}
	return &model.CampaignConnection{PageInfo: pageInfo(p), Edges: edges(p, func(c string, n *store.Campaign) *model.CampaignEdge {
		return &model.CampaignEdge{Cursor: c, Node: n}
	})}, nil
}

// campaignFigures are a campaign's figures for those
// auth.CanSeeCampaignFigures allows; null for everyone else.
func campaignFigures(ctx context.Context, c *store.Campaign) (*store.CampaignFigures, error) {
	if !auth.CanSeeCampaignFigures(auth.ViewerFrom(ctx)) {
		return nil, nil
	}
	return loadersFrom(ctx).CampaignFigures.Load(ctx, c.ID)
}

// variantCampaign is the campaign a variant sells in now, if any.
func variantCampaign(ctx context.Context, v *store.ProductVariant) (*store.Campaign, error) {
	if v.CampaignID == nil {
		return nil, nil
	}
	return orNil(loadersFrom(ctx).Campaign.Load(ctx, *v.CampaignID))
}

// productCampaign is the campaign of the product's first variant that
// sells in one now.
func productCampaign(ctx context.Context, p *store.Product) (*store.Campaign, error) {
	variants, err := loadersFrom(ctx).VariantsByProduct.Load(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	for _, v := range variants {
		if v.CampaignID != nil {
			return variantCampaign(ctx, v)
		}
	}
	return nil, nil
}
