package graph

import (
	"context"
	"strings"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

func (r *Resolver) createApp(ctx context.Context, in model.CreateAppInput) (*model.AppPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	na := store.NewApp{Name: strings.TrimSpace(in.Name), Scopes: in.Scopes, CreatedBy: v.UserID()}
	if in.ShopID != nil {
		shop, err := r.managedShop(ctx, *in.ShopID)
		if err != nil {
			return nil, err
		}
		na.ShopID = &shop.ID
	} else if !v.IsAdmin() {
		return nil, store.Errorf(store.EForbidden, "only admins register platform apps; give a shopId")
	}
	if p := na.Validate(); len(p) > 0 {
		return &model.AppPayload{UserErrors: problemsToUserErrors(p, "input")}, nil
	}
	app, secret, err := r.DB.CreateApp(ctx, na)
	if err != nil {
		return nil, err
	}
	return &model.AppPayload{App: app, ClientSecret: &secret, UserErrors: []*model.UserError{}}, nil
}

// managedApp loads an app the viewer may change (auth.CanManageApp), or
// NOT_FOUND.
func (r *Resolver) managedApp(ctx context.Context, gid string) (*store.App, error) {
	if _, err := requireViewer(ctx); err != nil {
		return nil, err
	}
	id, err := parseTypedID(gid, typeApp)
	if err != nil {
		return nil, err
	}
	app, err := visibleApp(ctx, id)
	if err == nil && app == nil {
		err = store.Errorf(store.ENotFound, "app not found")
	}
	return app, err
}

func (r *Resolver) rotateAppSecret(ctx context.Context, gid string) (*model.AppPayload, error) {
	app, err := r.managedApp(ctx, gid)
	if err != nil {
		return nil, err
	}
	app, secret, err := r.DB.RotateAppSecret(ctx, app.ID)
	if store.ErrorCode(err) == store.ENotFound {
		return &model.AppPayload{UserErrors: fieldError("id", model.UserErrorCodeInvalidTransition, "the app is revoked")}, nil
	}
	if err != nil {
		return nil, err
	}
	return &model.AppPayload{App: app, ClientSecret: &secret, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) revokeApp(ctx context.Context, gid string) (*model.AppPayload, error) {
	app, err := r.managedApp(ctx, gid)
	if err != nil {
		return nil, err
	}
	app, err = r.DB.RevokeApp(ctx, app.ID)
	if err != nil {
		return nil, err
	}
	return &model.AppPayload{App: app, UserErrors: []*model.UserError{}}, nil
}

// Compile-time check that the middleware's directory is the store.
var _ auth.Directory = (*store.DB)(nil)
