package graph

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// Guest carts' IDs carry their key, as Shopify's cart IDs do
// ("gid://shopify/Cart/c1-…?key=…"): base64url("Cart:123?key=<key>"), and
// their lines' IDs base64url("CartLine:456?key=<key>"). Any client that
// keeps an ID keeps the key with it; the ID is the capability.
const (
	keySeparator = "?key="
	// maxKeyedIDLength bounds a keyed ID (a 43-character key and a 19-digit
	// id make 96 characters).
	maxKeyedIDLength = 128
)

// cartKeyPattern is a key as store.NewSecret makes them: 32 bytes, base64url.
var cartKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// keyedID encodes the ID of a guest cart or of one of its lines.
func keyedID(typeName string, id int64, key string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(globalID(typeName, id))
	return base64.RawURLEncoding.EncodeToString(append(raw, keySeparator+key...))
}

// parseAnyID decodes a global ID that may carry a guest cart's key (only
// Cart and CartLine IDs may). key is "" for an ID without one. A malformed
// ID is BAD_USER_INPUT.
func parseAnyID(gid string) (typeName string, id int64, key string, err error) {
	if len(gid) <= maxGlobalIDLength || len(gid) > maxKeyedIDLength {
		typeName, id, err = parseGlobalID(gid)
		return typeName, id, "", err
	}
	bad := store.Errorf(store.EInvalid, "%q is not a valid ID", truncate(gid, maxGlobalIDLength))
	raw, derr := base64.RawURLEncoding.Strict().DecodeString(gid)
	if derr != nil || base64.RawURLEncoding.EncodeToString(raw) != gid {
		return "", 0, "", bad
	}
	plain, key, ok := strings.Cut(string(raw), keySeparator)
	if !ok || !cartKeyPattern.MatchString(key) {
		return "", 0, "", bad
	}
	typeName, id, err = parseGlobalID(base64.RawURLEncoding.EncodeToString([]byte(plain)))
	if err != nil || (typeName != typeCart && typeName != typeCartLine) {
		return "", 0, "", bad
	}
	return typeName, id, key, nil
}

// parseCartRef decodes a Cart or CartLine ID (want), with or without a key.
func parseCartRef(gid, want string) (id int64, key string, err error) {
	typeName, id, key, err := parseAnyID(gid)
	if err != nil {
		return 0, "", err
	}
	if typeName != want {
		return 0, "", store.Errorf(store.EInvalid, "%q is not a %s ID", truncate(gid, maxGlobalIDLength), want)
	}
	return id, key, nil
}

// errNoAppCarts refuses app tokens on the cart fields.
var errNoAppCarts = store.Errorf(store.EForbidden, "app tokens cannot do this; it is for people's own sessions")

// openCart resolves a cart ID the caller sent (cartID nil: the viewer's own
// cart) to the cart it opens: the viewer's own (auth.CanSeeCart), or a guest
// cart whose key is right (auth.CanOpenGuestCart, store.OpenGuestCart).
// Anything else is NOT_FOUND, whatever the reason; no cartID when signed out
// is UNAUTHENTICATED; apps are FORBIDDEN.
func (r *Resolver) openCart(ctx context.Context, cartID *string) (*store.Cart, error) {
	v := auth.ViewerFrom(ctx)
	if v.IsApp() {
		return nil, errNoAppCarts
	}
	if cartID == nil {
		if !v.SignedIn() {
			return nil, store.Errorf(store.EUnauthorized, "sign in, or give the cartId of a guest cart (cartCreate)")
		}
		return &store.Cart{BuyerID: v.UserID()}, nil
	}
	id, key, err := parseCartRef(*cartID, typeCart)
	if err != nil {
		return nil, err
	}
	if key == "" {
		if !auth.CanSeeCart(v, id) {
			return nil, store.ErrCartNotFound
		}
		return &store.Cart{BuyerID: id}, nil
	}
	if !auth.CanOpenGuestCart(v) {
		return nil, store.ErrCartNotFound
	}
	markPrivate(ctx)
	if err := r.DB.OpenGuestCart(ctx, id, key); err != nil {
		return nil, err
	}
	return &store.Cart{BuyerID: id, Key: key}, nil
}

// cartByID is the query cart(id:): nil where openCart refuses.
func (r *Resolver) cartByID(ctx context.Context, id string) (*store.Cart, error) {
	c, err := r.openCart(ctx, &id)
	if code := store.ErrorCode(err); code == store.ENotFound {
		return nil, nil
	}
	return c, err
}

// loadKeyedNode is node(id:) for an ID that carries a guest cart's key: the
// cart, or the line of it, when the key opens the cart; nil otherwise.
func (r *Resolver) loadKeyedNode(ctx context.Context, typeName string, id int64, key string) (store.Node, error) {
	if !auth.CanOpenGuestCart(auth.ViewerFrom(ctx)) {
		return nil, nil
	}
	markPrivate(ctx)
	guestID := id
	var line *store.CartLine
	if typeName == typeCartLine {
		l, err := r.DB.CartLineByID(ctx, id)
		if l == nil || err != nil {
			return nil, err
		}
		line, guestID = l, l.BuyerID
	}
	switch err := r.DB.OpenGuestCart(ctx, guestID, key); {
	case store.ErrorCode(err) == store.ENotFound:
		return nil, nil
	case err != nil:
		return nil, err
	}
	if line != nil {
		line.CartKey = key
		return line, nil
	}
	return &store.Cart{BuyerID: id, Key: key}, nil
}

// cartLineInputs turns cart line inputs into the store's.
func cartLineInputs(lines []*model.CartLineInput) ([]store.NewCartLine, error) {
	in := make([]store.NewCartLine, len(lines))
	for i, l := range lines {
		var err error
		if in[i].VariantID, err = parseTypedID(l.VariantID, typeVariant); err != nil {
			return nil, err
		}
		in[i].Quantity = l.Quantity
		if l.SourceContentID != nil {
			id, err := parseContentID(*l.SourceContentID)
			if err != nil {
				return nil, err
			}
			in[i].SourceContentID = &id
		}
	}
	return in, nil
}

// cartCreate makes a guest cart when signed out, or answers the viewer's
// cart, with the lines added.
func (r *Resolver) cartCreate(ctx context.Context, lines []*model.CartLineInput) (*model.CartPayload, error) {
	v := auth.ViewerFrom(ctx)
	if v.IsApp() {
		return nil, errNoAppCarts
	}
	in, err := cartLineInputs(lines)
	if err != nil {
		return nil, err
	}
	cart := &store.Cart{BuyerID: v.UserID()}
	if !v.SignedIn() {
		id, key, err := r.DB.CreateGuestCart(ctx)
		if err != nil {
			return nil, err
		}
		cart = &store.Cart{BuyerID: id, Key: key}
	}
	var problems store.Problems
	if len(in) > 0 {
		if problems, err = r.DB.AddCartLines(ctx, cart.BuyerID, in); err != nil {
			return nil, err
		}
	}
	return &model.CartPayload{Cart: cart, UserErrors: problemsToUserErrors(problems, "")}, nil
}

// ordersByToken is the query ordersByToken(token:).
func (r *Resolver) ordersByToken(ctx context.Context, token string) ([]*store.Order, error) {
	markPrivate(ctx)
	return r.DB.OrdersByToken(ctx, token)
}

// Bounds of a GuestProofInput.
const (
	maxProofCarts  = 10
	maxProofOrders = 50
)

// guestProof decodes what a person presents to adopt guest purchases; IDs
// that are not guest cart IDs are skipped (they prove nothing).
func guestProof(in *model.GuestProofInput) (store.GuestProof, []*model.UserError) {
	var p store.GuestProof
	if in == nil {
		return p, nil
	}
	if len(in.CartIds) > maxProofCarts {
		return p, fieldError("input.guest.cartIds", model.UserErrorCodeInvalid, "at most 10 cart IDs")
	}
	if len(in.OrderTokens) > maxProofOrders {
		return p, fieldError("input.guest.orderTokens", model.UserErrorCodeInvalid, "at most 50 order tokens")
	}
	for _, gid := range in.CartIds {
		if id, key, err := parseCartRef(gid, typeCart); err == nil && key != "" {
			p.Carts = append(p.Carts, store.GuestCartKey{GuestID: id, Key: key})
		}
	}
	p.OrderTokens = in.OrderTokens
	return p, nil
}

// guestCheckoutToken records a paid guest checkout and returns its order
// token: the same for every retry with the same key and cart.
func (r *Resolver) guestCheckoutToken(ctx context.Context, cart *store.Cart, email string, orders []*store.Order) (*string, error) {
	if cart == nil || cart.Key == "" || len(orders) == 0 {
		return nil, nil
	}
	token := store.GuestOrderToken(cart.Key, orders[0].CheckoutID)
	if err := r.DB.RecordGuestCheckout(context.WithoutCancel(ctx), orders[0].CheckoutID, email, token); err != nil {
		return nil, err
	}
	return &token, nil
}

// cartGlobalID is a cart's ID: keyed for a guest cart.
func cartGlobalID(c *store.Cart) string {
	if c.Key != "" {
		return keyedID(typeCart, c.BuyerID, c.Key)
	}
	return globalID(typeCart, c.BuyerID)
}

// cartLineGlobalID is a cart line's ID: keyed on a guest cart.
func cartLineGlobalID(l *store.CartLine) string {
	if l.CartKey != "" {
		return keyedID(typeCartLine, l.ID, l.CartKey)
	}
	return globalID(typeCartLine, l.ID)
}

// withCartKey returns a guest cart's lines marked with the key they were
// reached with, so their IDs carry it (copies: the loader's are shared).
func withCartKey(c *store.Cart, lines []*store.CartLine) []*store.CartLine {
	if c.Key == "" {
		return lines
	}
	out := make([]*store.CartLine, len(lines))
	for i, l := range lines {
		cp := *l
		cp.CartKey = c.Key
		out[i] = &cp
	}
	return out
}

// orderBuyer resolves Order.buyer: the buyer, for those auth.CanSeeOrder
// lets see the order in its own right (its buyer in person, its shop's
// managers, admins, the shop's apps with orders:read); nil for anyone else
// who reached it, which is only a guest checkout's reply or its order token
// (ordersByToken): they see no user, neither the guest's nor, once adopted,
// the account's.
func orderBuyer(ctx context.Context, o *store.Order) (*store.User, error) {
	l := loadersFrom(ctx)
	shop, err := orNil(l.Shop.Load(ctx, o.ShopID))
	if err != nil {
		return nil, err
	}
	if shop == nil || !auth.CanSeeOrder(auth.ViewerFrom(ctx), o, shop) {
		return nil, nil
	}
	return l.User.Load(ctx, o.BuyerID)
}
