package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"showcase/auth"
	"showcase/store"
)

// forgetFeedRankings is the operation middleware that keeps reused For You
// arrangements (Resolver.FeedRankings) from hiding a viewer's own writes:
// after a signed-in caller's mutation has run (a like, a follow, not
// interested, a purchase, any other), and before its response leaves, the
// caller's arrangements are forgotten, so their next first page ranks
// again. It is also forgotten before the mutation runs, so that a first page
// ranked while the mutation was running is not kept. recordEvents only
// buffers (its events land with the next flush): what they teach shows on
// a first page within the flush interval and FEED_RANKING_TTL.
func (r *Resolver) forgetFeedRankings(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx).Operation
	id := auth.ViewerFrom(ctx).UserID()
	if op == nil || op.Operation != ast.Mutation || id == 0 {
		return next(ctx)
	}
	r.FeedRankings.Forget(store.UserProfile(id))
	respond := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		r.FeedRankings.Forget(store.UserProfile(id))
		return resp
	}
}
