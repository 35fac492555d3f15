package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"showcase/store"
)

// AppStore authenticates apps for the token endpoint.
type AppStore interface {
	AuthenticateApp(ctx context.Context, clientID, secret string) (*store.App, error)
	ShopByID(ctx context.Context, id int64) (*store.Shop, error)
}

// maxTokenRequestBytes bounds a token request body.
const maxTokenRequestBytes = 16 << 10

// TokenEndpoint serves POST /oauth/token with the OAuth 2.0
// client-credentials grant (RFC 6749 section 4.4): client credentials by HTTP
// Basic or in the form body, an optional scope narrowing the app's scopes,
// and the standard error responses.
func TokenEndpoint(tokens *Tokens, apps AppStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBytes)
		if err := r.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the body could not be read")
			return
		}
		if r.PostForm.Get("grant_type") != "client_credentials" {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
			return
		}
		clientID, secret, basic, ok := clientCredentials(r)
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_request", "send client credentials once: HTTP Basic or client_id and client_secret")
			return
		}
		app, err := apps.AuthenticateApp(r.Context(), clientID, secret)
		if err != nil {
			if store.ErrorCode(err) != store.EUnauthorized {
				slog.ErrorContext(r.Context(), "authenticate app", "err", err)
				oauthError(w, http.StatusInternalServerError, "server_error", "try again later")
				return
			}
			if basic {
				w.Header().Set("WWW-Authenticate", `Basic realm="showcase"`)
			}
			oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
			return
		}
		scopes, ok := grantedScopes(r.PostForm.Get("scope"), app.Scopes)
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_scope", "the scope exceeds the app's scopes")
			return
		}
		actor, shopID := app.CreatedBy, int64(0)
		if app.ShopID != nil {
			shop, err := apps.ShopByID(r.Context(), *app.ShopID)
			if err != nil {
				slog.ErrorContext(r.Context(), "load app shop", "err", err)
				oauthError(w, http.StatusInternalServerError, "server_error", "try again later")
				return
			}
			actor, shopID = shop.OwnerID, shop.ID
		}
		token, err := tokens.IssueApp(app.ID, actor, shopID, scopes)
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", "try again later")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": token, "token_type": "Bearer", "expires_in": int(tokens.TTL().Seconds()), "scope": strings.Join(scopes, " "),
		})
	})
}

// clientCredentials reads the client id and secret from exactly one place.
func clientCredentials(r *http.Request) (id, secret string, basic, ok bool) {
	bodyID, bodySecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, hasBasic := r.BasicAuth(); hasBasic {
		if bodySecret != "" {
			return "", "", true, false
		}
		// RFC 6749 2.3.1: Basic credentials are form-urlencoded first.
		uid, err1 := url.QueryUnescape(u)
		pw, err2 := url.QueryUnescape(p)
		return uid, pw, true, err1 == nil && err2 == nil && uid != ""
	}
	return bodyID, bodySecret, false, bodyID != "" && bodySecret != ""
}

// grantedScopes returns the requested scopes if the app holds them all, or
// all the app's scopes when none are requested.
func grantedScopes(requested string, allowed []string) ([]string, bool) {
	if strings.TrimSpace(requested) == "" {
		return allowed, true
	}
	held := map[string]bool{}
	for _, s := range allowed {
		held[s] = true
	}
	var out []string
	for _, s := range strings.Fields(requested) {
		if !held[s] {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
