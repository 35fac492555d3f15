package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"showcase/auth"
	"showcase/store"
)

// Roles of the @auth directive.
const (
	roleUser   = "USER"
	rolePerson = "PERSON"
	roleAdmin  = "ADMIN"
)

// authDirective enforces @auth(requires:).
func authDirective(ctx context.Context, _ any, next graphql.Resolver, requires *string) (any, error) {
	role := roleUser
	if requires != nil {
		role = *requires
	}
	v := auth.ViewerFrom(ctx)
	if !v.SignedIn() {
		return nil, errUnauthenticated
	}
	switch role {
	case rolePerson:
		if v.IsApp() {
			return nil, store.Errorf(store.EForbidden, "app tokens cannot do this; it is for people's own sessions")
		}
	case roleAdmin:
		if v.IsApp() || !v.IsAdmin() {
			return nil, store.Errorf(store.EForbidden, "admins only")
		}
	}
	return next(ctx)
}

// scopeDirective enforces @scope(any:) on app tokens.
func scopeDirective(ctx context.Context, _ any, next graphql.Resolver, scopes []string) (any, error) {
	if v := auth.ViewerFrom(ctx); v.IsApp() && !v.App.HasAnyScope(scopes) {
		return nil, store.Errorf(store.EForbidden, "this app token lacks the scope for this (one of: %s)", strings.Join(scopes, ", "))
	}
	return next(ctx)
}

// closeUnscopedRootFields refuses app tokens on root fields that declare no
// @scope, so a field added without thinking about apps stays closed to them.
func closeUnscopedRootFields(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if !auth.ViewerFrom(ctx).IsApp() {
		return next(ctx)
	}
	f := graphql.GetRootFieldContext(ctx)
	if f == nil || strings.HasPrefix(f.Field.Name, "__") {
		return next(ctx)
	}
	if f.Field.Definition != nil && f.Field.Definition.Directives.ForName("scope") != nil {
		return next(ctx)
	}
	graphql.AddError(ctx, store.Errorf(store.EForbidden, "app tokens cannot use %s", f.Field.Name))
	return graphql.Null
}
