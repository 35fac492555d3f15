package graph

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"showcase/auth"
	"showcase/store"
)

// profileWriters are the mutations that write what a For You ranking reads
// directly (follows, declared tags, learned interests) rather than through
// the event buffer, whose flushes announce the profiles they teach.
var profileWriters = map[string]bool{"follow": true, "unfollow": true, "resetInterests": true}

// forgetFeedRankings is the operation middleware that keeps reused For You
// arrangements (Resolver.FeedRankings) from hiding a viewer's own writes:
// after a signed-in caller's mutation has run (a like, a follow, a
// purchase, any other), and before its response leaves, this process
// forgets the caller's arrangements, so their next first page ranks again;
// after a profileWriters mutation every other API process is told too
// (store.DB.AnnounceProfiles). It also forgets before the mutation runs, so
// that a first page ranked meanwhile is not kept. Signals that go through
// the event buffer (likes, comments, purchases, recordEvents) are forgotten
// and announced by the flush that writes them.
func (r *Resolver) forgetFeedRankings(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	id := auth.ViewerFrom(ctx).UserID()
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation || id == 0 {
		return next(ctx)
	}
	profile := store.UserProfile(id)
	r.FeedRankings.Forget(profile)
	respond := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		r.FeedRankings.Forget(profile)
		for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"}) {
			if profileWriters[f.Name] {
				actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				if err := r.DB.AnnounceProfiles(actx, []string{profile}); err != nil {
					slog.ErrorContext(ctx, "profile write not announced; other API processes show it within FEED_RANKING_TTL", "err", err)
				}
				cancel()
				break
			}
		}
		return resp
	}
}
