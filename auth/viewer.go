package auth

import (
	"context"

	"showcase/store"
)

// Viewer is who is calling: a signed-in user, an app acting for a user, or
// anonymous when User is nil.
type Viewer struct {
	User *store.User
	// App is set for app tokens, which are limited to its scopes and shop.
	App *AppGrant
	// Token is the validated token the caller presented (nil when
	// anonymous); streams end when it expires or is revoked (see StreamGuard).
	Token *Claims
}

// AppGrant is what an app token may do.
type AppGrant struct {
	AppID  int64
	Scopes []string
	// ShopID, when not 0, is the only shop the app may act on.
	ShopID int64
}

// HasAnyScope reports whether the grant holds one of the scopes.
func (g *AppGrant) HasAnyScope(scopes []string) bool {
	for _, want := range scopes {
		for _, have := range g.Scopes {
			if want == have {
				return true
			}
		}
	}
	return false
}

// IsApp reports whether the caller is an app token.
func (v Viewer) IsApp() bool { return v.App != nil }

type viewerKey struct{}

// WithViewer returns a context carrying the caller.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the caller, anonymous if none was set.
func ViewerFrom(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}

// SignedIn reports whether the caller is a signed-in user.
func (v Viewer) SignedIn() bool { return v.User != nil }

// UserID returns the caller's user id, 0 when anonymous.
func (v Viewer) UserID() int64 {
	if v.User == nil {
		return 0
	}
	return v.User.ID
}

// IsAdmin reports whether the caller is a platform admin: an admin's own
// session, or a platform app an admin made (limited by its scopes).
func (v Viewer) IsAdmin() bool {
	return v.User != nil && v.User.IsAdmin && (v.App == nil || v.App.ShopID == 0)
}
