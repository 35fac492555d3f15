package graph

import (
	"context"
	"strings"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// previewCheckoutCost answers Query.checkoutCost: the lines priced as
// checkout(input: {lines}) would charge them (store.PreviewCheckout), for
// the destination given as a shipping address, one of the viewer's saved
// addresses or a country, never from the anonymous response cache. Exactly one destination is REQUIRED (INVALID
// when more than one is given). Apps are refused, as for checkout.
func (r *Resolver) previewCheckoutCost(ctx context.Context, in model.CheckoutCostInput) (*model.CheckoutCostPayload, error) {
	if auth.ViewerFrom(ctx).IsApp() {
		return nil, errNoAppCarts
	}
	// Priced now for every caller: a shared anonymous answer up to a TTL
	// old would show a total that checkout then refuses as TOTAL_CHANGED,
	// and show it again when the buy sheet re-prices.
	markPrivate(ctx)
	refuse := func(field string, code model.UserErrorCode, msg string) (*model.CheckoutCostPayload, error) {
		return &model.CheckoutCostPayload{UserErrors: fieldError(field, code, msg)}, nil
	}
	given := 0
	for _, set := range []bool{in.ShippingAddress != nil, in.AddressID != nil, in.CountryCode != nil} {
		if set {
			given++
		}
	}
	// destField is the input field the destination came from: problems
	// about the country point at it.
	var req store.CheckoutRequest
	destField := "shippingAddress.countryCode"
	switch {
	case given == 0:
		return refuse("input.shippingAddress", model.UserErrorCodeRequired, "give shippingAddress, addressId or countryCode")
	case given > 1:
		return refuse("input.addressId", model.UserErrorCodeInvalid, "give one of shippingAddress, addressId or countryCode")
	case in.ShippingAddress != nil:
		req.ShippingAddress.CountryCode = in.ShippingAddress.CountryCode
	case in.AddressID != nil:
		a, err := r.ownAddress(ctx, *in.AddressID)
		if err != nil {
			return nil, err
		}
		req.ShippingAddress.CountryCode, destField = a.CountryCode, "addressId"
	default:
		req.ShippingAddress.CountryCode, destField = *in.CountryCode, "countryCode"
	}
	var err error
	if req.Lines, err = checkoutLines(in.Lines); err != nil {
		return nil, err
	}
	if req.DeliveryChoices, err = deliveryChoices(in.DeliveryOptions); err != nil {
		return nil, err
	}
	// The primary, as checkout reads: a lagging replica's price would be
	// shown and then refused as TOTAL_CHANGED.
	preview, problems, err := r.DB.PreviewCheckout(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		for _, p := range problems {
			if strings.HasPrefix(p.Field, "shippingAddress.countryCode") {
				p.Field = destField
			}
		}
		return &model.CheckoutCostPayload{UserErrors: problemsToUserErrors(problems, "input")}, nil
	}
	return r.checkoutCostOf(ctx, in, preview)
}

// checkoutCostOf presents a store.CheckoutPreview.
func (r *Resolver) checkoutCostOf(ctx context.Context, in model.CheckoutCostInput, p *store.CheckoutPreview) (*model.CheckoutCostPayload, error) {
	cur := p.CurrencyCode
	out := &model.CheckoutCost{SubtotalAmount: money(p.Subtotal, cur), TotalShippingAmount: money(p.Shipping, cur),
		TotalTaxAmount: money(p.Tax, cur), TotalAmount: money(p.Total, cur),
		Lines: make([]*model.CheckoutCostLine, len(p.Lines)), DeliveryGroups: make([]*model.CheckoutCostDeliveryGroup, len(p.Shops))}
	for i, l := range p.Lines {
		out.Lines[i] = &model.CheckoutCostLine{VariantID: in.Lines[i].VariantID, Quantity: l.Quantity, Cost: &model.CartLineCost{
			AmountPerQuantity: money(l.UnitPrice, cur), SubtotalAmount: money(l.Subtotal, cur), TotalAmount: money(l.Subtotal, cur), TaxAmount: money(l.Tax, cur)}}
	}
	for i, s := range p.Shops {
		shop, err := loadersFrom(ctx).Shop.Load(ctx, s.ShopID)
		if err != nil {
			return nil, err
		}
		g := &model.CheckoutCostDeliveryGroup{Shop: shop, DeliveryOptions: make([]*model.CartDeliveryOption, len(s.Options)),
			SubtotalAmount: money(s.Subtotal, cur), TotalTaxAmount: money(s.Tax, cur), TotalAmount: money(s.Total, cur), TaxesIncluded: s.TaxesIncluded}
		for k, o := range s.Options {
			g.DeliveryOptions[k] = &model.CartDeliveryOption{Handle: optionHandle(o.RateID), Title: o.Title, EstimatedCost: money(o.Amount, cur)}
			if s.Selected != nil && s.Selected.RateID == o.RateID {
				g.SelectedDeliveryOption = g.DeliveryOptions[k]
			}
		}
		out.DeliveryGroups[i] = g
	}
	return &model.CheckoutCostPayload{Cost: out, UserErrors: []*model.UserError{}}, nil
}
