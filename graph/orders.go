package graph

import (
	"context"
	"strings"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// visibleOrder loads an order if auth.CanSeeOrder allows it; to anyone else
// it does not exist (nil).
func visibleOrder(ctx context.Context, id int64) (*store.Order, error) {
	l := loadersFrom(ctx)
	o, err := orNil(l.Order.Load(ctx, id))
	if o == nil || err != nil {
		return nil, err
	}
	shop, err := l.Shop.Load(ctx, o.ShopID)
	if err != nil {
		return nil, err
	}
	if !auth.CanSeeOrder(auth.ViewerFrom(ctx), o, shop) {
		return nil, nil
	}
	return o, nil
}

// viewerCartLine loads one of the viewer's own cart lines (auth.CanSeeCart).
func viewerCartLine(ctx context.Context, id int64) (*store.CartLine, error) {
	v := auth.ViewerFrom(ctx)
	if !auth.CanSeeCart(v, v.UserID()) {
		return nil, nil
	}
	lines, err := loadersFrom(ctx).CartLines.Load(ctx, v.UserID())
	for _, l := range lines {
		if l.ID == id {
			return l, err
		}
	}
	return nil, err
}

// orderConnection pages a buyer's or a shop's orders.
func orderConnection(ctx context.Context, owner store.OrderOwner, first *int, after *string) (*model.OrderConnection, error) {
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	page, err := loadersFrom(ctx).OrderPages.Load(ctx, store.OrderPageKey{OrderOwner: owner, First: args.First, After: args.After})
	if err != nil {
		return nil, err
	}
	return &model.OrderConnection{PageInfo: pageInfo(page), Edges: edges(page, func(c string, n *store.Order) *model.OrderEdge {
		return &model.OrderEdge{Cursor: c, Node: n}
	})}, nil
}

func (r *Resolver) checkout(ctx context.Context, in model.CheckoutInput) (*model.CheckoutPayload, error) {
	v := auth.ViewerFrom(ctx)
	if v.IsApp() {
		return nil, errNoAppCarts
	}
	guest := !v.SignedIn()
	if guest && in.CartID == nil {
		return nil, store.Errorf(store.EUnauthorized, "sign in, or check out a guest cart: cartCreate, then checkout with its cartId and an email")
	}
	req := store.CheckoutRequest{
		BuyerID: v.UserID(), IdempotencyKey: in.IdempotencyKey, PaymentToken: in.Payment.Token,
		ShippingAddress: addressFrom(in.ShippingAddress),
	}
	if refused, err := r.checkoutCost(ctx, in, &req); refused != nil || err != nil {
		return refused, err
	}
	if guest {
		req.Email = strings.TrimSpace(deref(in.Email))
		if p := store.ValidateGuestEmail("email", req.Email); len(p) > 0 {
			return &model.CheckoutPayload{Orders: []*store.Order{}, UserErrors: problemsToUserErrors(p, "input")}, nil
		}
	}
	if in.SourceContentID != nil {
		id, err := parseContentID(*in.SourceContentID)
		if err != nil {
			return nil, err
		}
		req.SourceContentID = &id
	}
	var cart *store.Cart
	switch {
	case in.CartID != nil && in.Lines != nil:
		return &model.CheckoutPayload{Orders: []*store.Order{}, UserErrors: fieldError("input.cartId", model.UserErrorCodeInvalid, "give lines or cartId, not both")}, nil
	case in.CartID != nil:
		var err error
		if cart, err = r.openCart(ctx, in.CartID); err != nil {
			return nil, err
		}
		if guest != (cart.Key != "") {
			// A person buys their own cart; a guest cart is adopted first
			// (logIn or signUp with guest.cartIds).
			return nil, store.ErrCartNotFound
		}
		req.BuyerID, req.CartKey = cart.BuyerID, cart.Key
		lines, err := r.DB.CartLines(ctx, cart.BuyerID)
		if err != nil {
			return nil, err
		}
		if len(lines) == 0 {
			// A retry of a cart checkout that bought the whole cart finds it
			// empty: it gets the answer its key got.
			res, found, err := r.DB.ReplayCheckout(ctx, cart.BuyerID, in.IdempotencyKey)
			if err != nil || found {
				return r.checkoutPayload(ctx, cart, req, res, err)
			}
			return &model.CheckoutPayload{Orders: []*store.Order{}, UserErrors: fieldError("input.cartId", model.UserErrorCodeInvalid, "the cart is empty")}, nil
		}
		req.Lines, req.FromCart = store.CartCheckoutLines(lines), true
		if req.DiscountCodes, err = r.DB.CartDiscountCodes(ctx, cart.BuyerID); err != nil {
			return nil, err
		}
	default:
		var err error
		if req.Lines, err = checkoutLines(in.Lines); err != nil {
			return nil, err
		}
	}
	res, err := r.DB.Checkout(ctx, r.Payments, req)
	if err == nil && !res.Replayed {
		r.publishPurchases(ctx, res.Lines)
		r.learnPurchase(ctx, res.Lines)
	}
	res.Problems = addressProblems(in, res.Problems)
	return r.checkoutPayload(ctx, cart, req, res, err)
}

// checkoutPayload presents a checkout's result with, for a guest cart's
// checkout that made orders, its order token (recorded here, so a retry that
// only replays records it too).
func (r *Resolver) checkoutPayload(ctx context.Context, cart *store.Cart, req store.CheckoutRequest, res store.CheckoutResult, err error) (*model.CheckoutPayload, error) {
	p, err := checkoutPayload(ctx, res, err)
	if err != nil || req.Email == "" {
		return p, err
	}
	p.OrderToken, err = r.guestCheckoutToken(ctx, cart, req.Email, res.Orders)
	return p, err
}

// checkoutPayload presents a checkout's result, priming the order lines'
// loader with the lines it wrote.
func checkoutPayload(ctx context.Context, res store.CheckoutResult, err error) (*model.CheckoutPayload, error) {
	if err != nil {
		return nil, err
	}
	if res.Orders == nil {
		res.Orders = []*store.Order{}
	}
	l := loadersFrom(ctx)
	for _, o := range res.Orders {
		l.OrderLines.Prime(o.ID, res.Lines[o.ID])
	}
	return &model.CheckoutPayload{Orders: res.Orders, UserErrors: problemsToUserErrors(res.Problems, "input")}, nil
}

// parseContentID accepts a Video or LiveSession ID.
func parseContentID(gid string) (int64, error) {
	typeName, id, err := parseGlobalID(gid)
	if err != nil {
		return 0, err
	}
	if typeName != typeVideo && typeName != typeLiveSession {
		return 0, store.Errorf(store.EInvalid, "%q is not a Video or LiveSession ID", truncate(gid, maxGlobalIDLength))
	}
	return id, nil
}

// checkoutLines reads the lines of a checkout (or of its cost preview):
// variant and source content IDs to database ids. A malformed ID is
// BAD_USER_INPUT.
func checkoutLines(in []*model.CheckoutLineInput) ([]store.CheckoutLine, error) {
	var out []store.CheckoutLine
	for _, l := range in {
		id, err := parseTypedID(l.VariantID, typeVariant)
		if err != nil {
			return nil, err
		}
		line := store.CheckoutLine{VariantID: id, Quantity: l.Quantity}
		if l.SourceContentID != nil {
			source, err := parseContentID(*l.SourceContentID)
			if err != nil {
				return nil, err
			}
			line.SourceContentID = &source
		}
		out = append(out, line)
	}
	return out, nil
}

func addressFrom(in *model.AddressInput) store.Address {
	if in == nil {
		return store.Address{}
	}
	return store.Address{
		Name: in.Name, Line1: in.Line1, Line2: deref(in.Line2), City: in.City, Region: deref(in.Region),
		PostalCode: in.PostalCode, CountryCode: in.CountryCode, Phone: deref(in.Phone),
	}
}

// cartPayload returns the cart after a change, or the change's user errors.
func cartPayload(cart *store.Cart, problems store.Problems, err error) (*model.CartPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.CartPayload{Cart: cart, UserErrors: problemsToUserErrors(problems, "")}, nil
}

func (r *Resolver) cartLinesAdd(ctx context.Context, cartID *string, lines []*model.CartLineInput) (*model.CartPayload, error) {
	cart, err := r.openCart(ctx, cartID)
	if err != nil {
		return nil, err
	}
	in, err := cartLineInputs(lines)
	if err != nil {
		return nil, err
	}
	problems, err := r.DB.AddCartLines(ctx, cart.BuyerID, in)
	if err == nil && len(problems) == 0 {
		for _, l := range in {
			s := store.Signal{VariantID: l.VariantID, Weight: r.forYou().AddToCart}
			if l.SourceContentID != nil {
				s = store.Signal{ContentID: *l.SourceContentID, Weight: s.Weight}
			}
			r.learn(ctx, s)
		}
	}
	return cartPayload(cart, problems, err)
}

func (r *Resolver) cartLinesUpdate(ctx context.Context, cartID *string, lines []*model.CartLineUpdateInput) (*model.CartPayload, error) {
	cart, err := r.openCart(ctx, cartID)
	if err != nil {
		return nil, err
	}
	in := make([]store.CartLineUpdate, len(lines))
	for i, l := range lines {
		if in[i].LineID, _, err = parseCartRef(l.ID, typeCartLine); err != nil {
			return nil, err
		}
		in[i].Quantity = l.Quantity
	}
	problems, err := r.DB.UpdateCartLines(ctx, cart.BuyerID, in)
	return cartPayload(cart, problems, err)
}

func (r *Resolver) cartLinesRemove(ctx context.Context, cartID *string, lineIDs []string) (*model.CartPayload, error) {
	cart, err := r.openCart(ctx, cartID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(lineIDs))
	for i, gid := range lineIDs {
		if ids[i], _, err = parseCartRef(gid, typeCartLine); err != nil {
			return nil, err
		}
	}
	return cartPayload(cart, nil, r.DB.RemoveCartLines(ctx, cart.BuyerID, ids))
}

// orderChange runs a status change on an order the viewer may act on, as
// decided by allowed (a rule from auth), and reports refused transitions as
// user errors. An order the viewer may neither see nor change is NOT_FOUND;
// one it may see but not change is FORBIDDEN. The payload carries the order
// only when the viewer may see it (auth.CanSeeOrder).
func (r *Resolver) orderChange(ctx context.Context, gid string, allowed func(auth.Viewer, *store.Order, *store.Shop) bool,
	change func(id int64) (*store.Order, error)) (*model.OrderPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseTypedID(gid, typeOrder)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx)
	o, err := orNil(l.Order.Load(ctx, id))
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, store.Errorf(store.ENotFound, "order not found")
	}
	shop, err := l.Shop.Load(ctx, o.ShopID)
	if err != nil {
		return nil, err
	}
	if !allowed(v, o, shop) {
		if auth.CanSeeOrder(v, o, shop) {
			return nil, errForbidden
		}
		return nil, store.Errorf(store.ENotFound, "order not found")
	}
	o, err = change(id)
	if err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.OrderPayload{UserErrors: ue}, err
	}
	if !auth.CanSeeOrder(v, o, shop) {
		o = nil
	}
	return &model.OrderPayload{Order: o, UserErrors: []*model.UserError{}}, nil
}
