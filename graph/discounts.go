package graph

import (
	"context"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// typeDiscountCode is the global ID type name of a shop's discount code.
const typeDiscountCode = "DiscountCode"

func discountCodeProductIDs(c *store.DiscountCode) []string {
	if c.ProductIDs == nil {
		return nil
	}
	out := make([]string, len(c.ProductIDs))
	for i, id := range c.ProductIDs {
		out[i] = globalID(typeProduct, id)
	}
	return out
}

// shopDiscountCodes is Shop.discountCodes: nil for anyone but the shop's
// managers (auth.CanSeeDiscountCodes).
func (r *Resolver) shopDiscountCodes(ctx context.Context, shop *store.Shop, first *int, after *string) (*model.DiscountCodeConnection, error) {
	if !auth.CanSeeDiscountCodes(auth.ViewerFrom(ctx), shop) {
		return nil, nil
	}
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	page, err := r.DB.ListDiscountCodes(ctx, shop.ID, args)
	if err != nil {
		return nil, err
	}
	return &model.DiscountCodeConnection{PageInfo: pageInfo(page), Edges: edges(page, func(c string, n *store.DiscountCode) *model.DiscountCodeEdge {
		return &model.DiscountCodeEdge{Cursor: c, Node: n}
	})}, nil
}

// discountCodeFields reads a code input in the shop's currency.
func discountCodeFields(shop *store.Shop, in model.DiscountCodeInput) (store.DiscountCodeFields, store.Problems, error) {
	f := store.DiscountCodeFields{Code: in.Code, PercentBps: in.PercentBps, UsageLimit: in.UsageLimit, PerBuyerLimit: in.PerBuyerLimit,
		Active: in.Active == nil || *in.Active, StartsAt: in.StartsAt, EndsAt: in.EndsAt}
	var p store.Problems
	if in.Amount != nil {
		a, q := shopAmount(shop, in.Amount, "amount")
		f.Amount, p = &a, append(p, q...)
	}
	if in.MinimumSubtotal != nil {
		var q store.Problems
		f.MinSubtotal, q = shopAmount(shop, in.MinimumSubtotal, "minimumSubtotal")
		p = append(p, q...)
	}
	if in.ProductIds != nil {
		f.ProductIDs = []int64{}
		for _, gid := range in.ProductIds {
			id, err := parseTypedID(gid, typeProduct)
			if err != nil {
				return f, nil, err
			}
			f.ProductIDs = append(f.ProductIDs, id)
		}
	}
	return f, p, nil
}

func discountCodePayload(c *store.DiscountCode, p store.Problems, err error) (*model.DiscountCodePayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.DiscountCodePayload{DiscountCode: c, UserErrors: problemsToUserErrors(p, "input")}, nil
}

func (r *Resolver) discountCodeCreate(ctx context.Context, shopGID string, in model.DiscountCodeInput) (*model.DiscountCodePayload, error) {
	shop, err := r.managedShop(ctx, shopGID)
	if err != nil {
		return nil, err
	}
	f, p, err := discountCodeFields(shop, in)
	if err != nil || len(p) > 0 {
		return discountCodePayload(nil, p, err)
	}
	return discountCodePayload(r.DB.CreateDiscountCode(ctx, shop.ID, f))
}

// managedDiscountCode loads a code whose shop the viewer may manage (as
// managedShop: FORBIDDEN for someone else's; NOT_FOUND when unknown).
func (r *Resolver) managedDiscountCode(ctx context.Context, gid string) (*store.DiscountCode, *store.Shop, error) {
	if _, err := requireViewer(ctx); err != nil {
		return nil, nil, err
	}
	id, err := parseTypedID(gid, typeDiscountCode)
	if err != nil {
		return nil, nil, err
	}
	c, err := r.DB.DiscountCodeByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	shop, err := r.managedShop(ctx, globalID(typeShop, c.ShopID))
	return c, shop, err
}

func (r *Resolver) discountCodeUpdate(ctx context.Context, gid string, in model.DiscountCodeInput) (*model.DiscountCodePayload, error) {
	c, shop, err := r.managedDiscountCode(ctx, gid)
	if err != nil {
		return nil, err
	}
	f, p, err := discountCodeFields(shop, in)
	if err != nil || len(p) > 0 {
		return discountCodePayload(nil, p, err)
	}
	return discountCodePayload(r.DB.UpdateDiscountCode(ctx, c.ID, f))
}

func (r *Resolver) discountCodeDeactivate(ctx context.Context, gid string) (*model.DiscountCodePayload, error) {
	c, _, err := r.managedDiscountCode(ctx, gid)
	if err != nil {
		return nil, err
	}
	c, err = r.DB.DeactivateDiscountCode(ctx, c.ID)
	return discountCodePayload(c, nil, err)
}

func (r *Resolver) cartDiscountCodesUpdate(ctx context.Context, cartID string, codes []string) (*model.CartPayload, error) {
	cart, err := r.openCart(ctx, &cartID)
	if err != nil {
		return nil, err
	}
	problems, err := r.DB.SetCartDiscountCodes(ctx, cart.BuyerID, codes)
	return cartPayload(cart, problems, err)
}

func (r *Resolver) cartDiscountCodes(ctx context.Context, cart *store.Cart) ([]*store.CartDiscountCode, error) {
	c, err := pricedCart(ctx, cart.BuyerID)
	if err != nil {
		return nil, err
	}
	if c.DiscountCodes == nil {
		return []*store.CartDiscountCode{}, nil
	}
	return c.DiscountCodes, nil
}

// cartDiscountAllocations sums the lines' allocations per code and currency,
// in the order the codes were entered.
func (r *Resolver) cartDiscountAllocations(ctx context.Context, cart *store.Cart) ([]*store.CartDiscountAllocation, error) {
	c, err := pricedCart(ctx, cart.BuyerID)
	if err != nil {
		return nil, err
	}
	out := []*store.CartDiscountAllocation{}
	for _, s := range c.Shops {
		if s.Discount == 0 {
			continue
		}
		var found *store.CartDiscountAllocation
		for _, a := range out {
			if a.Code == s.DiscountCode && a.CurrencyCode == s.CurrencyCode {
				found = a
			}
		}
		if found == nil {
			found = &store.CartDiscountAllocation{Code: s.DiscountCode, CurrencyCode: s.CurrencyCode}
			out = append(out, found)
		}
		found.Amount += s.Discount
	}
	return out, nil
}

func (r *Resolver) cartLineDiscountAllocations(ctx context.Context, line *store.CartLine) ([]*store.CartDiscountAllocation, error) {
	c, err := pricedCart(ctx, line.BuyerID)
	if err != nil {
		return nil, err
	}
	lc := c.Lines[line.ID]
	if lc == nil || lc.Discount == 0 {
		return []*store.CartDiscountAllocation{}, nil
	}
	return []*store.CartDiscountAllocation{{Code: lc.DiscountCode, Amount: lc.Discount, CurrencyCode: lc.CurrencyCode}}, nil
}

func orderDiscountAllocations(code *string, amount int64, currency string) []*store.CartDiscountAllocation {
	if code == nil || amount == 0 {
		return []*store.CartDiscountAllocation{}
	}
	return []*store.CartDiscountAllocation{{Code: *code, Amount: amount, CurrencyCode: currency}}
}
