package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"showcase/store"
)

// Directory finds who a token was issued for.
type Directory interface {
	// UserForToken is UserByID for a token issued outside a session (an
	// app's, or a person's without one).
	UserForToken(ctx context.Context, id int64) (*store.User, error)
	// UserInSession is UserByID for a token issued in a session: EUnauthorized
	// once the session ended (logOut, a reused refresh token).
	UserInSession(ctx context.Context, userID, sessionID int64) (*store.User, error)
	AppByID(ctx context.Context, id int64) (*store.App, error)
}

// Middleware reads a bearer token and puts the caller in the request context.
// No token means anonymous; a bad token, or one for a deleted user, is a 401,
// so a client with a stale token learns it instead of silently browsing
// anonymously.
func Middleware(tokens *Tokens, dir Directory, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			unauthenticated(w, "the Authorization header must be \"Bearer <token>\"")
			return
		}
		claims, err := tokens.Validate(strings.TrimSpace(token))
		if err != nil {
			unauthenticated(w, err.Error())
			return
		}
		viewer, err := resolveViewer(r.Context(), dir, claims)
		if store.ErrorCode(err) == store.ENotFound || store.ErrorCode(err) == store.EUnauthorized {
			unauthenticated(w, ErrInvalidToken.Error())
			return
		}
		if store.IsUnavailable(err) {
			w.Header().Set("Content-Type", "application/graphql-response+json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"errors":[{"message":"the service is temporarily unavailable; retry shortly","extensions":{"code":"SERVICE_UNAVAILABLE","retryable":true}}]}`))
			return
		}
		if err != nil {
			slog.ErrorContext(r.Context(), "load token subject", "err", err)
			http.Error(w, `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`, http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithViewer(r.Context(), viewer)))
	})
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/graphql-response+json")
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": "UNAUTHENTICATED"}}},
	})
}

// ViewerForToken validates a bearer token (without "Bearer ") and returns
// the caller and the token's claims; websocket connections authenticate with
// it in connection_init.
func ViewerForToken(ctx context.Context, tokens *Tokens, dir Directory, token string) (Viewer, Claims, error) {
	claims, err := tokens.Validate(token)
	if err != nil {
		return Viewer{}, Claims{}, err
	}
	v, err := resolveViewer(ctx, dir, claims)
	if store.ErrorCode(err) == store.ENotFound || store.ErrorCode(err) == store.EUnauthorized {
		err = ErrInvalidToken
	}
	return v, claims, err
}

// resolveViewer loads a token's user and, for app tokens, checks that the app
// is still active, so revoking an app cuts off its tokens at once; for a
// person's token issued in a session it checks the session was not ended.
func resolveViewer(ctx context.Context, dir Directory, c Claims) (Viewer, error) {
	var grant *AppGrant
	if c.AppID != 0 {
		app, err := dir.AppByID(ctx, c.AppID)
		if err != nil {
			return Viewer{}, err
		}
		if app.RevokedAt != nil {
			return Viewer{}, store.Errorf(store.EUnauthorized, "app revoked")
		}
		grant = &AppGrant{AppID: app.ID, Scopes: c.Scopes, ShopID: c.ShopID}
	}
	var user *store.User
	var err error
	if c.SessionID != 0 && c.AppID == 0 {
		user, err = dir.UserInSession(ctx, c.UserID, c.SessionID)
	} else {
		user, err = dir.UserForToken(ctx, c.UserID)
	}
	if err != nil {
		return Viewer{}, err
	}
	return Viewer{User: user, App: grant, Token: &c}, nil
}
