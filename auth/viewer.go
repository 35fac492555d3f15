package auth

import (
	"context"

	"showcase/store"
)

// Viewer is who is calling: a signed-in user, or anonymous when User is nil.
type Viewer struct {
	User *store.User
}

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

// IsAdmin reports whether the caller is a platform admin.
func (v Viewer) IsAdmin() bool { return v.User != nil && v.User.IsAdmin }
