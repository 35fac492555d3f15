package main

import (
	"context"
	"net/http"
	"time"

	"showcase/auth"
	"showcase/graph"
	"showcase/media"
	"showcase/store"
	"showcase/store/live"
	"showcase/store/payment"
)

// newServer returns the routes of the API (the public port) and, apart, the
// routes of the debug listener: GET /metrics and net/http/pprof's
// /debug/pprof/, which tell operation names, SQL counts and profiles and so
// are served only on DEBUG_ADDR, never on the API port.
func newServer(cfg config, db *store.DB, tokens *auth.Tokens, payments payment.Provider, events *store.EventBuffer, hub *live.Hub) (http.Handler, http.Handler) {
	mux := http.NewServeMux()
	m := newMetrics(db, events, hub)
	m.registerReads(cfg.Reads)
	limits := newRateLimits(cfg.RateLimitRPS, cfg.RateLimitBurst, cfg.AuthRateLimitBurst, cfg.AuthRateLimitPeriod)
	debugMux := http.NewServeMux()
	debugMux.Handle("GET /metrics", m.handler())
	// pprof's handlers register on the default mux, which serves nothing else.
	debugMux.Handle("/debug/pprof/", http.DefaultServeMux)
	// The GraphQL endpoint, outermost first: a request id for every log
	// line; the caller (a bearer token's user or app, 401 when invalid); the
	// HTTP rules (body size and JSON types, GET only for queries, uploads
	// signed in and bounded by UPLOAD_MAX_BYTES, the
	// response's media type negotiated); the anonymous response cache (a
	// shared answer costs its caller one rate-limit token); the 30-second
	// timeout of everything but streams (inside the cache, so that a shared
	// answer, given at once, sets no timer; a request waiting for another's
	// execution is bounded by the cache's RequestTimeout, the same 30
	// seconds); admission (GRAPHQL_MAX_CONCURRENT operations execute at
	// once, the others wait their turn in arrival order: inside the cache,
	// so that shared answers and requests waiting for another's execution
	// hold no slot, and inside the timeout, which bounds the wait too;
	// websockets, subscriptions' event streams and uploads pass, their
	// queries and mutations taking a turn as they execute); and gqlgen (transports, the rate charge on the operation
	// that runs, shape limits, resolvers, dataloaders).
	// The buffer learns with the weights the feed ranks with.
	events.SetLearning(cfg.ForYou)
	events.SetFlushWorkers(cfg.FlushWorkers)
	events.SetMaxBuffered(cfg.EventsBufferMax)
	// For You first pages reuse a viewer's arrangement for FEED_RANKING_TTL,
	// and ranked pages the viewer's state for FEED_VIEWER_TTL; each flush
	// forgets those of the profiles it taught.
	rankings := cfg.FeedRankings
	if rankings == nil {
		rankings = store.NewFeedCaches(cfg.FeedRankingTTL, cfg.FeedViewerTTL)
	}
	events.SetFeedRankings(rankings)
	// Admission's turns: around HTTP requests (the middleware below), and
	// for the queries and mutations of websockets, event streams and
	// uploads as they execute (graph.Resolver.Admission).
	admit := newAdmission(cfg.AdmissionSlots, cfg.AdmissionQueue, cfg.AdmissionQueuePerCaller, cfg.AdmissionWait, m)
	m.registerAdmission(admit)
	var executing graph.Admission
	if admit != nil {
		executing = admit
	}
	gql := graph.NewHandler(&graph.Resolver{DB: db, Reads: cfg.Reads, Tokens: tokens, Payments: payments, Events: events,
		TopCreatorFollowers: cfg.TopCreatorFollowers, FeedWeights: cfg.FeedWeights, FeedPolicy: cfg.FeedPolicy, ForYou: &cfg.ForYou,
		FeedRankings: rankings, Figures: cfg.Figures,
		Production: cfg.Production, Live: hub, AllowedOrigins: cfg.AllowedOrigins, Observer: m,
		RateLimiter: limits, Admission: executing, Media: cfg.Media, MaxUploadBytes: cfg.MaxUploadBytes})
	cache := graph.NewResponseCache(cfg.ResponseCacheTTL, m, limits)
	if cache != nil {
		cache.RequestTimeout = requestTimeout
	}
	api := graph.WithRequestID(
		auth.Middleware(tokens, db,
			graph.GuardRequests(m, cfg.MaxUploadBytes,
				cache.Middleware(
					withRequestTimeout(
						admit.middleware(
							gql))))))
	mux.Handle("/graphql", api)
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
		if !db.FeedIndexReady() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("feed index loading\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux, debugMux
}

// requestTimeout bounds a GraphQL request; streams (websocket, SSE) live on.
const requestTimeout = 30 * time.Second

// withRequestTimeout bounds each request but websockets and event streams
// (the Accept header graph.GuardRequests negotiated) by requestTimeout.
func withRequestTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" || r.Header.Get("Accept") == graph.MediaEventStream {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
