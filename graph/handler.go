package graph

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"showcase/auth"
	"showcase/store"
)

// queryCacheSize is how many parsed and validated documents are kept, so a
// client's repeated operations skip parsing and validation.
const queryCacheSize = 1000

// NewHandler returns the gqlgen server of the schema, with its dataloaders:
// GraphQL over HTTP (POST with JSON, GET for queries only), Server-Sent
// Events and graphql-transport-ws websockets, the shape and complexity
// limits, persisted queries, and introspection (admins only in production).
// It expects requests that went through GuardRequests, which checks the
// body and negotiates the response's media type (the Accept header it
// leaves is the one the transports answer with).
func NewHandler(r *Resolver) http.Handler {
	cfg := Config{Resolvers: r}
	cfg.Directives.Auth = authDirective
	cfg.Directives.Scope = scopeDirective
	weightByFirst(&cfg.Complexity)
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AroundRootFields(closeUnscopedRootFields)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(r.websocketTransport())
	srv.AddTransport(r.sseTransport())
	srv.AddTransport(httpTransport{}) // POST application/json and GET only
	// Uploads (the GraphQL multipart request spec; POST multipart/form-data,
	// which httpTransport does not take): files up to the memory bound are
	// held in memory, larger ones in temporary files. GuardRequests checked
	// the request first (guardUpload); rateCharge charges its operation.
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: uploadRequestBytes(r.maxUploadBytes()), MaxMemory: 16 << 20})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.Use(extension.Introspection{})
	if r.RateLimiter != nil {
		srv.Use(rateCharge{limits: r.RateLimiter, obs: r.Observer}) // first, so every arriving operation pays
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](queryCacheSize)})
	srv.Use(shapeLimits{}) // after APQ, which fills in the query
	// gqlgen's FixedComplexityLimit, remembered per operation without variables.
	srv.Use(newRememberingComplexityLimit(MaxComplexity))
	srv.SetParserTokenLimit(MaxTokens)
	if r.Admission != nil {
		srv.AroundOperations(r.admitOperations)
	}
	if r.Production {
		srv.AroundOperations(adminOnlyIntrospection)
	}
	srv.AroundResponses(r.logOperations)
	srv.SetErrorPresenter(presenter(r.Production))
	srv.SetRecoverFunc(recoverPanic)
	top := r.TopCreatorFollowers
	if top <= 0 {
		top = store.DefaultTopCreatorFollowers
	}
	wait := r.BatchWait
	if wait <= 0 {
		wait = DefaultBatchWait
	}
	srv.AroundOperations(operationLoaders) // before routeReads, which may replace them
	if r.Reads != nil {
		srv.AroundOperations(r.routeReads(top, wait))
	}
	if r.FeedRankings != nil {
		srv.AroundOperations(r.forgetFeedRankings)
	}
	// withRequestState turns rateCharge's refusal into 429 + Retry-After;
	// it sits directly around gqlgen, inside the response cache.
	// Feed pages' figures are shared (Resolver.Figures) only where reads
	// stay on the primary: with a read replica, routeReads gives each
	// query loaders over the handle it chose, without the cache.
	return withRequestState(r.DB, r.Figures, top, wait, srv)
}

// adminOnlyIntrospection lets only admins' own sessions read the schema in
// production.
func adminOnlyIntrospection(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	v := auth.ViewerFrom(ctx)
	graphql.GetOperationContext(ctx).DisableIntrospection = !(v.IsAdmin() && !v.IsApp())
	return next(ctx)
}
