package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"showcase/store"
)

// UserLookup finds the user a token was issued for.
type UserLookup func(ctx context.Context, id int64) (*store.User, error)

// Middleware reads a bearer token and puts the caller in the request context.
// No token means anonymous; a bad token, or one for a deleted user, is a 401,
// so a client with a stale token learns it instead of silently browsing
// anonymously.
func Middleware(tokens *Tokens, lookup UserLookup, next http.Handler) http.Handler {
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
		userID, err := tokens.Validate(strings.TrimSpace(token))
		if err != nil {
			unauthenticated(w, err.Error())
			return
		}
		user, err := lookup(r.Context(), userID)
		if store.ErrorCode(err) == store.ENotFound {
			unauthenticated(w, ErrInvalidToken.Error())
			return
		}
		if err != nil {
			slog.ErrorContext(r.Context(), "load token user", "err", err)
			http.Error(w, `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`, http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithViewer(r.Context(), Viewer{User: user})))
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
