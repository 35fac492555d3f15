package graph

import (
	"context"
	"net/http"
	"time"

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

// NewHandler serves the schema over GraphQL-over-HTTP: POST with JSON, and
// GET for queries only. Responses are application/graphql-response+json
// unless the client asks for application/json.
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
	srv.AddTransport(transport.GET{UseGrapQLResponseJsonByDefault: true})
	srv.AddTransport(transport.POST{UseGrapQLResponseJsonByDefault: true})
	// Uploads (the GraphQL multipart request spec): files up to the memory
	// bound are held in memory, larger ones in temporary files.
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: uploadRequestBytes(r.maxUploadBytes()), MaxMemory: 16 << 20})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](queryCacheSize)})
	srv.Use(shapeLimits{}) // after APQ, which fills in the query
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.SetParserTokenLimit(MaxTokens)
	if r.Production {
		srv.SetDisableSuggestion(true)
		srv.AroundOperations(adminOnlyIntrospection)
	}
	srv.AroundResponses(r.logOperations)
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)
	top := r.TopCreatorFollowers
	if top <= 0 {
		top = store.DefaultTopCreatorFollowers
	}
	wait := r.BatchWait
	if wait <= 0 {
		wait = DefaultBatchWait
	}
	exec := WithLoaders(r.DB, top, wait, srv)
	if r.ResponseCacheTTL > 0 {
		exec = newResponseCache(r.ResponseCacheTTL, func(ctx context.Context, operation string, codes []string, d time.Duration) {
			r.observe(ctx, operation, codes, d, true)
		}).middleware(exec)
	}
	return WithRequestID(guardRequests(r.Observer, r.RateLimiter, uploadRequestBytes(r.maxUploadBytes()), exec))
}

// adminOnlyIntrospection lets only admins' own sessions read the schema in
// production.
func adminOnlyIntrospection(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	v := auth.ViewerFrom(ctx)
	graphql.GetOperationContext(ctx).DisableIntrospection = !(v.IsAdmin() && !v.IsApp())
	return next(ctx)
}
