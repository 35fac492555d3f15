package main

import (
	"context"
	"net/http"
	"strings"
	"time"

	"showcase/auth"
	"showcase/graph"
	"showcase/media"
	"showcase/store"
	"showcase/store/live"
	"showcase/store/payment"
)

// newServer wires every route of the API.
func newServer(cfg config, db *store.DB, tokens *auth.Tokens, payments payment.Provider, events *store.EventBuffer, hub *live.Hub) http.Handler {
	mux := http.NewServeMux()
	m := newMetrics(db, events, hub)
	limits := newRateLimits(cfg.RateLimitRPS, cfg.RateLimitBurst)
	mux.Handle("GET /metrics", m.handler())
	api := auth.Middleware(tokens, db, graph.NewHandler(&graph.Resolver{DB: db, Tokens: tokens, Payments: payments, Events: events,
		TopCreatorFollowers: cfg.TopCreatorFollowers, FeedWeights: cfg.FeedWeights,
		Production: cfg.Production, Live: hub, AllowedOrigins: cfg.AllowedOrigins, Observer: m,
		RateLimiter: limits, ResponseCacheTTL: cfg.ResponseCacheTTL, Media: cfg.Media, MaxUploadBytes: cfg.MaxUploadBytes}))
	mux.Handle("/graphql", withRequestTimeout(api))
	mux.Handle("/oauth/token", limits.limitTokenEndpoint(auth.TokenEndpoint(tokens, db)))
	mux.Handle("GET /playground", playgroundHandler("/graphql"))
	mux.Handle("GET /{$}", webPage("index.html"))
	mux.Handle("GET /studio", webPage("studio.html"))
	mux.Handle("GET /web/", webFiles())
	if cfg.Media != nil {
		mux.Handle("GET "+media.URLPrefix, media.Handler(cfg.Media))
	}
	mux.Handle("GET "+playgroundAssetsPath, playgroundFiles())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if err := db.Ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

// requestTimeout bounds a GraphQL request; streams (websocket, SSE) live on.
const requestTimeout = 30 * time.Second

func withRequestTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
