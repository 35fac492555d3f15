package graph

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// Global ID type names of cart cost, shipping, tax and saved addresses.
const (
	typeShippingRate   = "ShippingRate"
	typeTaxRate        = "TaxRate"
	typeMailingAddress = "MailingAddress"
	// typeDeliveryGroup names a shop's delivery group in a cart
	// (deliveryGroupID).
	typeDeliveryGroup = "CartDeliveryGroup"
)

// deliveryGroupID is the ID of a shop's delivery group in a cart:
// base64url("CartDeliveryGroup:<cart>/<shop>"), the cart's and the shop's
// database ids, so two carts' groups for one shop have different IDs (as
// normalised client caches need). A guest cart's key is not in it: the
// group is selected through the cart's own ID, which carries the key.
func deliveryGroupID(cart *store.Cart, shopID int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typeDeliveryGroup + ":" +
		strconv.FormatInt(cart.BuyerID, 10) + "/" + strconv.FormatInt(shopID, 10)))
}

// parseDeliveryGroupID reads a deliveryGroupID back to its cart's and
// shop's ids. A malformed one is BAD_USER_INPUT.
func parseDeliveryGroupID(gid string) (cartID, shopID int64, err error) {
	bad := store.Errorf(store.EInvalid, "%q is not a %s ID", truncate(gid, maxGlobalIDLength), typeDeliveryGroup)
	if len(gid) == 0 || len(gid) > maxGlobalIDLength {
		return 0, 0, bad
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(gid)
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != gid {
		return 0, 0, bad
	}
	rest, ok := strings.CutPrefix(string(raw), typeDeliveryGroup+":")
	cart, shop, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return 0, 0, bad
	}
	for _, part := range []struct {
		s  string
		id *int64
	}{{cart, &cartID}, {shop, &shopID}} {
		n, err := strconv.ParseInt(part.s, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != part.s {
			return 0, 0, bad
		}
		*part.id = n
	}
	return cartID, shopID, nil
}

// freeOptionHandle is the handle of the implicit free delivery option of a
// shop that has no shipping rates.
const freeOptionHandle = "FREE"

func money(minor int64, currency string) *store.Money {
	return &store.Money{Minor: minor, CurrencyCode: currency}
}

// optionHandle is a delivery option's opaque handle: its rate's global ID.
func optionHandle(rateID int64) string {
	if rateID == 0 {
		return freeOptionHandle
	}
	return globalID(typeShippingRate, rateID)
}

// parseOptionHandle reads a delivery option handle back to its rate id (0
// for the implicit free option).
func parseOptionHandle(h string) (int64, error) {
	if h == freeOptionHandle {
		return 0, nil
	}
	return parseTypedID(h, typeShippingRate)
}

// pricedCart is the viewer's cart priced (store.CartCostsByBuyerIDs), once
// per request.
func pricedCart(ctx context.Context, buyerID int64) (*store.PricedCart, error) {
	return loadersFrom(ctx).CartCost.Load(ctx, buyerID)
}

func (r *Resolver) cartCost(ctx context.Context, cart *store.Cart) (*model.CartCost, error) {
	c, err := pricedCart(ctx, cart.BuyerID)
	if err != nil || c.Mixed || c.CurrencyCode == "" {
		return nil, err
	}
	out := &model.CartCost{SubtotalAmount: money(c.Subtotal, c.CurrencyCode), TotalAmount: money(c.Total, c.CurrencyCode)}
	if c.CountryCode != "" {
		out.TotalShippingAmount, out.TotalTaxAmount = money(c.Shipping, c.CurrencyCode), money(c.Tax, c.CurrencyCode)
	}
	return out, nil
}

func (r *Resolver) cartDeliveryGroups(ctx context.Context, cart *store.Cart) ([]*model.CartDeliveryGroup, error) {
	c, err := pricedCart(ctx, cart.BuyerID)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx)
	lines, err := l.CartLines.Load(ctx, cart.BuyerID)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*store.CartLine{}
	// A guest cart's lines carry its key in their IDs, as Cart.lines shows them.
	for _, line := range withCartKey(cart, lines) {
		byID[line.ID] = line
	}
	out := make([]*model.CartDeliveryGroup, 0, len(c.Shops))
	for _, s := range c.Shops {
		shop, err := l.Shop.Load(ctx, s.ShopID)
		if err != nil {
			return nil, err
		}
		g := &model.CartDeliveryGroup{ID: deliveryGroupID(cart, s.ShopID), Shop: shop, CartLines: []*store.CartLine{},
			DeliveryOptions: []*model.CartDeliveryOption{}, SubtotalAmount: money(s.Subtotal, s.CurrencyCode),
			TotalAmount: money(s.Total, s.CurrencyCode), TaxesIncluded: s.TaxesIncluded}
		for _, id := range s.LineIDs {
			if line := byID[id]; line != nil {
				g.CartLines = append(g.CartLines, line)
			}
		}
		for _, o := range s.Options {
			opt := &model.CartDeliveryOption{Handle: optionHandle(o.RateID), Title: o.Title, EstimatedCost: money(o.Amount, s.CurrencyCode)}
			g.DeliveryOptions = append(g.DeliveryOptions, opt)
			if s.Selected != nil && s.Selected.RateID == o.RateID {
				g.SelectedDeliveryOption = opt
			}
		}
		if c.CountryCode != "" {
			g.TotalTaxAmount = money(s.Tax, s.CurrencyCode)
		}
		out = append(out, g)
	}
	return out, nil
}

func (r *Resolver) cartDeliveryCountry(ctx context.Context, cart *store.Cart) (*string, error) {
	c, err := pricedCart(ctx, cart.BuyerID)
	if err != nil || c.CountryCode == "" {
		return nil, err
	}
	return &c.CountryCode, nil
}

func (r *Resolver) cartDeliveryAddress(ctx context.Context, cart *store.Cart) (*store.CustomerAddress, error) {
	c, err := pricedCart(ctx, cart.BuyerID)
	if err != nil || c.AddressID == nil {
		return nil, err
	}
	return visibleAddress(ctx, *c.AddressID)
}

func (r *Resolver) cartLineCost(ctx context.Context, line *store.CartLine) (*model.CartLineCost, error) {
	c, err := pricedCart(ctx, line.BuyerID)
	if err != nil {
		return nil, err
	}
	lc := c.Lines[line.ID]
	if lc == nil {
		return nil, nil
	}
	out := &model.CartLineCost{AmountPerQuantity: money(lc.UnitPrice, lc.CurrencyCode), SubtotalAmount: money(lc.Subtotal, lc.CurrencyCode),
		TotalAmount: money(lc.Subtotal, lc.CurrencyCode)}
	if c.CountryCode != "" {
		out.TaxAmount = money(lc.Tax, lc.CurrencyCode)
	}
	return out, nil
}

func (r *Resolver) cartDeliveryAddressUpdate(ctx context.Context, cartID string, countryCode, addressGID *string) (*model.CartPayload, error) {
	cart, err := r.openCart(ctx, &cartID)
	if err != nil {
		return nil, err
	}
	var addressID *int64
	if addressGID != nil {
		a, err := r.ownAddress(ctx, *addressGID)
		if err != nil {
			return nil, err
		}
		addressID = &a.ID
	}
	problems, err := r.DB.SetCartDestination(ctx, cart.BuyerID, deref(countryCode), addressID)
	return cartPayload(cart, problems, err)
}

func (r *Resolver) cartSelectedDeliveryOptionsUpdate(ctx context.Context, cartID string, in []*model.CartSelectedDeliveryOptionInput) (*model.CartPayload, error) {
	cart, err := r.openCart(ctx, &cartID)
	if err != nil {
		return nil, err
	}
	choices := make([]store.DeliveryChoice, len(in))
	for i, o := range in {
		groupCart, shopID, err := parseDeliveryGroupID(o.DeliveryGroupID)
		if err != nil {
			return nil, err
		}
		if groupCart != cart.BuyerID {
			return nil, store.Errorf(store.ENotFound, "delivery group not found in this cart")
		}
		choices[i].ShopID = shopID
		if choices[i].RateID, err = parseOptionHandle(o.DeliveryOptionHandle); err != nil {
			return nil, err
		}
	}
	problems, err := r.DB.SelectCartDeliveryOptions(ctx, cart.BuyerID, choices)
	return cartPayload(cart, problems, err)
}

// checkoutCost adds what a checkout input says about cost to the request:
// the saved address to ship to (addressId, the viewer's own only), the
// delivery options chosen (deliveryOptions; for a cart, the cart's choices
// unless given) and the total the buyer saw (expectedTotal).
func (r *Resolver) checkoutCost(ctx context.Context, in model.CheckoutInput, req *store.CheckoutRequest) (*model.CheckoutPayload, error) {
	switch {
	case in.AddressID != nil && in.ShippingAddress != nil:
		return &model.CheckoutPayload{Orders: []*store.Order{}, UserErrors: fieldError("input.addressId", model.UserErrorCodeInvalid, "give shippingAddress or addressId, not both")}, nil
	case in.AddressID != nil:
		a, err := r.ownAddress(ctx, *in.AddressID)
		if err != nil {
			return nil, err
		}
		req.ShippingAddress = a.Address()
	case in.ShippingAddress == nil:
		return &model.CheckoutPayload{Orders: []*store.Order{}, UserErrors: fieldError("input.shippingAddress", model.UserErrorCodeRequired, "give shippingAddress or addressId")}, nil
	}
	if in.ExpectedTotal != nil {
		m, err := store.ParseMoney(in.ExpectedTotal.Amount, in.ExpectedTotal.CurrencyCode)
		if err != nil {
			return &model.CheckoutPayload{Orders: []*store.Order{}, UserErrors: fieldError("input.expectedTotal.amount", model.UserErrorCodeInvalid, err.Error())}, nil
		}
		req.ExpectedTotal, req.ExpectedCurrency = &m.Minor, m.CurrencyCode
	}
	var err error
	req.DeliveryChoices, err = deliveryChoices(in.DeliveryOptions)
	return nil, err
}

// deliveryChoices reads the delivery options chosen per shop (rate ids by
// shop id); nil when none are. A malformed shop ID or handle is
// BAD_USER_INPUT.
func deliveryChoices(in []*model.CheckoutDeliveryOptionInput) (map[int64]int64, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[int64]int64{}
	for _, o := range in {
		shop, err := parseTypedID(o.ShopID, typeShop)
		if err != nil {
			return nil, err
		}
		if out[shop], err = parseOptionHandle(o.DeliveryOptionHandle); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// addressProblems points problems about the shipping address at addressId
// when the address came from there.
func addressProblems(in model.CheckoutInput, p store.Problems) store.Problems {
	if in.AddressID == nil {
		return p
	}
	for _, e := range p {
		if strings.HasPrefix(e.Field, "shippingAddress") {
			e.Field = "addressId"
		}
	}
	return p
}

// visibleAddress loads a saved address if the viewer may see it
// (auth.CanSeeAddress); nil otherwise.
func visibleAddress(ctx context.Context, id int64) (*store.CustomerAddress, error) {
	a, err := orNil(loadersFrom(ctx).CustomerAddress.Load(ctx, id))
	if a == nil || err != nil {
		return nil, err
	}
	if !auth.CanSeeAddress(auth.ViewerFrom(ctx), a) {
		return nil, nil
	}
	return a, nil
}

// ownAddress loads one of the viewer's saved addresses by global ID;
// another person's, or an unknown one, is NOT_FOUND.
func (r *Resolver) ownAddress(ctx context.Context, gid string) (*store.CustomerAddress, error) {
	if _, err := requireViewer(ctx); err != nil {
		return nil, err
	}
	id, err := parseTypedID(gid, typeMailingAddress)
	if err != nil {
		return nil, err
	}
	a, err := visibleAddress(ctx, id)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, store.Errorf(store.ENotFound, "address not found")
	}
	return a, nil
}

func (r *Resolver) userAddresses(ctx context.Context, u *store.User, first *int, after *string) (*model.MailingAddressConnection, error) {
	if !auth.CanSeeOwnAccount(auth.ViewerFrom(ctx), u.ID) {
		return nil, nil
	}
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	page, err := r.DB.ListCustomerAddresses(ctx, u.ID, args)
	if err != nil {
		return nil, err
	}
	return &model.MailingAddressConnection{PageInfo: pageInfo(page), Edges: edges(page, func(c string, n *store.CustomerAddress) *model.MailingAddressEdge {
		return &model.MailingAddressEdge{Cursor: c, Node: n}
	})}, nil
}

func (r *Resolver) userDefaultAddress(ctx context.Context, u *store.User) (*store.CustomerAddress, error) {
	if !auth.CanSeeOwnAccount(auth.ViewerFrom(ctx), u.ID) {
		return nil, nil
	}
	return r.DB.DefaultCustomerAddress(ctx, u.ID)
}

func addressPayload(a *store.CustomerAddress, p store.Problems, err error) (*model.CustomerAddressPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.CustomerAddressPayload{CustomerAddress: a, UserErrors: problemsToUserErrors(p, "")}, nil
}

func (r *Resolver) customerAddressCreate(ctx context.Context, in model.AddressInput, makeDefault *bool) (*model.CustomerAddressPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	return addressPayload(r.DB.CreateCustomerAddress(ctx, v.UserID(), addressFrom(&in), makeDefault != nil && *makeDefault))
}

func (r *Resolver) customerAddressUpdate(ctx context.Context, gid string, in model.AddressInput, makeDefault *bool) (*model.CustomerAddressPayload, error) {
	a, err := r.ownAddress(ctx, gid)
	if err != nil {
		return nil, err
	}
	return addressPayload(r.DB.UpdateCustomerAddress(ctx, a.UserID, a.ID, addressFrom(&in), makeDefault != nil && *makeDefault))
}

func (r *Resolver) customerAddressDelete(ctx context.Context, gid string) (*model.CustomerAddressDeletePayload, error) {
	a, err := r.ownAddress(ctx, gid)
	if err != nil {
		return nil, err
	}
	if err := r.DB.DeleteCustomerAddress(ctx, a.UserID, a.ID); err != nil {
		return nil, err
	}
	return &model.CustomerAddressDeletePayload{DeletedCustomerAddressID: &gid, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) customerDefaultAddressUpdate(ctx context.Context, gid string) (*model.CustomerDefaultAddressPayload, error) {
	a, err := r.ownAddress(ctx, gid)
	if err != nil {
		return nil, err
	}
	if err := r.DB.SetDefaultCustomerAddress(ctx, a.UserID, a.ID); err != nil {
		return nil, err
	}
	u, err := loadersFrom(ctx).User.Load(ctx, a.UserID)
	return &model.CustomerDefaultAddressPayload{Customer: u, UserErrors: []*model.UserError{}}, err
}

// shopAmount reads a money input in the shop's currency as minor units;
// field names the input in problems.
func shopAmount(shop *store.Shop, in *model.MoneyInput, field string) (int64, store.Problems) {
	m, err := store.ParseMoney(in.Amount, in.CurrencyCode)
	switch {
	case err != nil && !store.ValidCurrencyCode(in.CurrencyCode):
		return 0, store.Problems{store.FieldErrorf(store.EInvalid, field+".currencyCode", "%s", err)}
	case err != nil:
		return 0, store.Problems{store.FieldErrorf(store.EInvalid, field+".amount", "%s", err)}
	case m.CurrencyCode != shop.CurrencyCode:
		return 0, store.Problems{store.FieldErrorf(store.EInvalid, field+".currencyCode", "the shop's currency is %s", shop.CurrencyCode).Because(store.ReasonCurrencyMismatch)}
	}
	return m.Minor, nil
}

// shippingRateFields reads a rate input in the shop's currency.
func shippingRateFields(shop *store.Shop, in model.ShippingRateInput) (store.ShippingRateFields, store.Problems) {
	f := store.ShippingRateFields{CountryCode: deref(in.CountryCode), Name: in.Name}
	var p store.Problems
	var q store.Problems
	f.PriceAmount, q = shopAmount(shop, in.Price, "price")
	p = append(p, q...)
	if in.FreeOver != nil {
		var free int64
		free, q = shopAmount(shop, in.FreeOver, "freeOver")
		f.FreeOverAmount = &free
		p = append(p, q...)
	}
	return f, p
}

func (r *Resolver) shippingRateCreate(ctx context.Context, shopGID string, in model.ShippingRateInput) (*model.ShippingRatePayload, error) {
	shop, err := r.managedShop(ctx, shopGID)
	if err != nil {
		return nil, err
	}
	f, p := shippingRateFields(shop, in)
	if len(p) > 0 {
		return &model.ShippingRatePayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	rate, p, err := r.DB.CreateShippingRate(ctx, shop.ID, f)
	if err != nil {
		return nil, err
	}
	return &model.ShippingRatePayload{ShippingRate: rate, UserErrors: problemsToUserErrors(p, "input")}, nil
}

// managedRate loads a rate's shop when the viewer may manage it (as
// managedShop: FORBIDDEN for someone else's; NOT_FOUND when unknown).
func (r *Resolver) managedRate(ctx context.Context, gid, typeName string) (int64, *store.Shop, error) {
	if _, err := requireViewer(ctx); err != nil {
		return 0, nil, err
	}
	id, err := parseTypedID(gid, typeName)
	if err != nil {
		return 0, nil, err
	}
	var shopID int64
	switch typeName {
	case typeShippingRate:
		rate, err := r.DB.ShippingRateByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		shopID = rate.ShopID
	default:
		rate, err := r.DB.TaxRateByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		shopID = rate.ShopID
	}
	shop, err := r.managedShop(ctx, globalID(typeShop, shopID))
	return id, shop, err
}

func (r *Resolver) shippingRateUpdate(ctx context.Context, gid string, in model.ShippingRateInput) (*model.ShippingRatePayload, error) {
	id, shop, err := r.managedRate(ctx, gid, typeShippingRate)
	if err != nil {
		return nil, err
	}
	f, p := shippingRateFields(shop, in)
	if len(p) > 0 {
		return &model.ShippingRatePayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	rate, p, err := r.DB.UpdateShippingRate(ctx, id, f)
	if err != nil {
		return nil, err
	}
	return &model.ShippingRatePayload{ShippingRate: rate, UserErrors: problemsToUserErrors(p, "input")}, nil
}

func (r *Resolver) rateDelete(ctx context.Context, gid, typeName string) (*model.RateDeletePayload, error) {
	id, _, err := r.managedRate(ctx, gid, typeName)
	if err != nil {
		return nil, err
	}
	if typeName == typeShippingRate {
		err = r.DB.DeleteShippingRate(ctx, id)
	} else {
		err = r.DB.DeleteTaxRate(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("delete %s: %w", typeName, err)
	}
	return &model.RateDeletePayload{DeletedID: &gid, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) taxRateSet(ctx context.Context, shopGID string, country, title *string, rateBps int) (*model.TaxRatePayload, error) {
	shop, err := r.managedShop(ctx, shopGID)
	if err != nil {
		return nil, err
	}
	rate, p, err := r.DB.SetTaxRate(ctx, shop.ID, deref(country), deref(title), rateBps)
	if err != nil {
		return nil, err
	}
	return &model.TaxRatePayload{TaxRate: rate, UserErrors: problemsToUserErrors(p, "")}, nil
}

func (r *Resolver) shopTaxesIncludedUpdate(ctx context.Context, shopGID string, included bool) (*model.ShopPayload, error) {
	shop, err := r.managedShop(ctx, shopGID)
	if err != nil {
		return nil, err
	}
	shop, err = r.DB.SetShopTaxesIncluded(ctx, shop.ID, included)
	if err != nil {
		return nil, err
	}
	return &model.ShopPayload{Shop: shop, UserErrors: []*model.UserError{}}, nil
}

func shopShippingRates(ctx context.Context, shop *store.Shop) ([]*store.ShippingRate, error) {
	rates, err := loadersFrom(ctx).ShippingRates.Load(ctx, shop.ID)
	if rates == nil {
		rates = []*store.ShippingRate{}
	}
	return rates, err
}

func shopTaxRates(ctx context.Context, shop *store.Shop) ([]*store.TaxRate, error) {
	rates, err := loadersFrom(ctx).TaxRates.Load(ctx, shop.ID)
	if rates == nil {
		rates = []*store.TaxRate{}
	}
	return rates, err
}

// orderShippingLine is the order's shipping line. Every order row has a
// title (migration 0018 gave the orders from before shipping rates "Free
// shipping" at 0); a row without one reads the same way.
func orderShippingLine(o *store.Order) *model.ShippingLine {
	title := "Free shipping"
	if o.ShippingTitle != nil {
		title = *o.ShippingTitle
	}
	return &model.ShippingLine{Title: title, Price: money(o.ShippingAmount, o.CurrencyCode)}
}

func orderTaxLines(o *store.Order) []*model.TaxLine {
	if o.TaxTitle == nil {
		return []*model.TaxLine{}
	}
	return []*model.TaxLine{{Title: *o.TaxTitle, RateBps: o.TaxRateBps, Price: money(o.TaxAmount, o.CurrencyCode)}}
}

// shippingRatePrice and shippingRateFreeOver show a rate's amounts in its
// shop's currency.
func (r *Resolver) shippingRatePrice(ctx context.Context, rate *store.ShippingRate) (*store.Money, error) {
	shop, err := loadersFrom(ctx).Shop.Load(ctx, rate.ShopID)
	if err != nil {
		return nil, err
	}
	return money(rate.PriceAmount, shop.CurrencyCode), nil
}

func (r *Resolver) shippingRateFreeOver(ctx context.Context, rate *store.ShippingRate) (*store.Money, error) {
	if rate.FreeOverAmount == nil {
		return nil, nil
	}
	shop, err := loadersFrom(ctx).Shop.Load(ctx, rate.ShopID)
	if err != nil {
		return nil, err
	}
	return money(*rate.FreeOverAmount, shop.CurrencyCode), nil
}
