package graph

import (
	"context"
	"fmt"
	"strings"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

func (r *Resolver) createShop(ctx context.Context, in model.CreateShopInput) (*model.ShopPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	ns := store.NewShop{
		OwnerID: v.UserID(), Handle: in.Handle, Name: strings.TrimSpace(in.Name),
		Description: deref(in.Description), OperatingModel: in.OperatingModel, CurrencyCode: "USD",
	}
	if in.CurrencyCode != nil {
		ns.CurrencyCode = *in.CurrencyCode
	}
	if p := ns.Validate(); len(p) > 0 {
		return &model.ShopPayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	shop, err := r.DB.CreateShop(ctx, ns)
	if err != nil {
		ue, err := userErrorsFrom(err, "input")
		return &model.ShopPayload{UserErrors: ue}, err
	}
	return &model.ShopPayload{Shop: shop, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) updateShop(ctx context.Context, in model.UpdateShopInput) (*model.ShopPayload, error) {
	shop, err := r.managedShop(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	upd := store.ShopUpdate{Name: in.Name, Description: in.Description}
	if p := upd.Validate(); len(p) > 0 {
		return &model.ShopPayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	shop, err = r.DB.UpdateShop(ctx, shop.ID, upd)
	if err != nil {
		ue, err := userErrorsFrom(err, "input")
		return &model.ShopPayload{UserErrors: ue}, err
	}
	return &model.ShopPayload{Shop: shop, UserErrors: []*model.UserError{}}, nil
}

// managedShop loads a shop the viewer may manage: UNAUTHENTICATED when
// anonymous, NOT_FOUND when unknown, FORBIDDEN when someone else's.
func (r *Resolver) managedShop(ctx context.Context, gid string) (*store.Shop, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseTypedID(gid, typeShop)
	if err != nil {
		return nil, err
	}
	shop, err := r.DB.ShopByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !auth.CanManageShop(v, shop) {
		return nil, errForbidden
	}
	return shop, nil
}

// managedProduct loads a product whose shop the viewer may manage.
func (r *Resolver) managedProduct(ctx context.Context, gid string) (*store.Product, error) {
	return managedInShop(ctx, r, gid, typeProduct, "product", loadersFrom(ctx).Product.Load, func(p *store.Product) int64 { return p.ShopID })
}

// managedVariant loads a variant whose product's shop the viewer may
// manage, with managedInShop's errors ("variant not found").
func (r *Resolver) managedVariant(ctx context.Context, gid string) (*store.ProductVariant, error) {
	id, err := parseTypedID(gid, typeVariant)
	if err != nil {
		return nil, err
	}
	if _, err := requireViewer(ctx); err != nil {
		return nil, err
	}
	variant, err := orNil(loadersFrom(ctx).Variant.Load(ctx, id))
	if err != nil {
		return nil, err
	}
	if variant == nil {
		return nil, store.Errorf(store.ENotFound, "variant not found")
	}
	if _, err := r.managedProduct(ctx, globalID(typeProduct, variant.ProductID)); err != nil {
		return nil, err
	}
	return variant, nil
}

// managedInShop loads the object of kind typeName with global ID gid through
// load, for a signed-in viewer who may manage the object's shop (shopID).
// Errors: UNAUTHENTICATED when signed out, BAD_USER_INPUT for an ID of
// another kind, NOT_FOUND ("<what> not found") when it does not exist, and
// managedShop's refusal otherwise.
func managedInShop[T any](ctx context.Context, r *Resolver, gid, typeName, what string,
	load func(context.Context, int64) (*T, error), shopID func(*T) int64) (*T, error) {
	id, err := parseTypedID(gid, typeName)
	if err != nil {
		return nil, err
	}
	if _, err := requireViewer(ctx); err != nil {
		return nil, err
	}
	obj, err := orNil(load(ctx, id))
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, store.Errorf(store.ENotFound, "%s not found", what)
	}
	if _, err := r.managedShop(ctx, globalID(typeShop, shopID(obj))); err != nil {
		return nil, err
	}
	return obj, nil
}

func (r *Resolver) createProduct(ctx context.Context, in model.CreateProductInput) (*model.ProductPayload, error) {
	shop, err := r.managedShop(ctx, in.ShopID)
	if err != nil {
		return nil, err
	}
	np := store.NewProduct{
		ShopID: shop.ID, Title: strings.TrimSpace(in.Title), Description: deref(in.Description),
		Tags: in.Tags, Status: store.ProductActive,
	}
	if in.Status != nil {
		np.Status = *in.Status
	}
	var problems store.Problems
	for i, vi := range in.Variants {
		price, err := store.ParseMoney(vi.Price.Amount, vi.Price.CurrencyCode)
		if err != nil {
			// One refused price is one error, on the part at fault: a
			// malformed currency code is not also a currency mismatch, and
			// a malformed amount in the shop's currency is not one at all.
			field := "amount"
			price.CurrencyCode = vi.Price.CurrencyCode
			if !store.ValidCurrencyCode(vi.Price.CurrencyCode) {
				field, price.CurrencyCode = "currencyCode", shop.CurrencyCode
			}
			problems = append(problems, store.FieldErrorf(store.EInvalid, fmt.Sprintf("variants.%d.price.%s", i, field), "%s", err))
		}
		np.Variants = append(np.Variants, store.NewVariant{SKU: vi.Sku, Title: vi.Title, Price: price, Stock: vi.Stock})
	}
	problems = append(problems, np.Validate(shop.CurrencyCode)...)
	if len(problems) > 0 {
		return &model.ProductPayload{UserErrors: problemsToUserErrors(problems, "input")}, nil
	}
	p, err := r.DB.CreateProduct(ctx, np)
	if err != nil {
		ue, err := userErrorsFrom(err, "input")
		return &model.ProductPayload{UserErrors: ue}, err
	}
	return &model.ProductPayload{Product: p, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) updateProduct(ctx context.Context, in model.UpdateProductInput) (*model.ProductPayload, error) {
	p, err := r.managedProduct(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	upd := store.ProductUpdate{Title: in.Title, Description: in.Description, Status: in.Status, Tags: in.Tags, SetTags: in.Tags != nil}
	if problems := upd.Validate(); len(problems) > 0 {
		return &model.ProductPayload{UserErrors: problemsToUserErrors(problems, "input")}, nil
	}
	p, err = r.DB.UpdateProduct(ctx, p.ID, upd)
	if err != nil {
		ue, err := userErrorsFrom(err, "input")
		return &model.ProductPayload{UserErrors: ue}, err
	}
	return &model.ProductPayload{Product: p, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) setInventory(ctx context.Context, in model.SetInventoryInput) (*model.ProductVariantPayload, error) {
	variant, err := r.managedVariant(ctx, in.VariantID)
	if err != nil {
		return nil, err
	}
	id := variant.ID
	if p := store.ValidateStock(in.Stock); len(p) > 0 {
		return &model.ProductVariantPayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	variant, err = r.DB.SetInventory(ctx, id, in.Stock)
	if err != nil {
		ue, err := userErrorsFrom(err, "input")
		return &model.ProductVariantPayload{UserErrors: ue}, err
	}
	return &model.ProductVariantPayload{Variant: variant, UserErrors: []*model.UserError{}}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}
