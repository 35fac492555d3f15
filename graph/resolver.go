// Package graph serves the GraphQL schema: generated execution code, thin
// resolvers and the dataloaders that keep every page N+1-free.
package graph

//go:generate sh -c "cd .. && go run ./graph/generate"

import (
	"sync"
	"time"

	"showcase/auth"
	"showcase/media"
	"showcase/store"
	"showcase/store/live"
	"showcase/store/payment"
)

// Resolver holds the dependencies every resolver uses.
type Resolver struct {
	DB *store.DB
	// Reads, when set, sends queries' reads to a streaming replica (see
	// routeReads); nil keeps every read on DB.
	Reads  *store.ReadReplica
	Tokens *auth.Tokens
	// Payments takes and refunds checkout payments.
	Payments payment.Provider
	// Events buffers engagement events until the next flush.
	Events *store.EventBuffer
	// TopCreatorFollowers is where the TOP_CREATORS channel begins
	// (store.DefaultTopCreatorFollowers when 0).
	TopCreatorFollowers int64
	// FeedWeights say how much 7-day GPM and engagement lift content in the feed.
	FeedWeights store.FeedWeights
	// FeedPolicy ranks the feed: store.PolicyForYou (also when empty),
	// store.PolicyPopular or store.PolicyTags.
	FeedPolicy string
	// ForYou weighs the For You ranking and what signals teach (nil:
	// store.DefaultForYouSettings); the event buffer learns with the same
	// settings (EventBuffer.SetLearning).
	ForYou *store.ForYouSettings
	// FeedRankings, when set, reuses a viewer's For You first-page
	// arrangement within its TTL (FEED_RANKING_TTL); every signed-in
	// mutation forgets its caller's (forgetFeedRankings), so a viewer's
	// next first page shows what they just did. nil ranks every first page.
	FeedRankings *store.FeedRankings
	// Figures, when set, shares feed pages' figures between requests for
	// its TTL (FIGURES_CACHE_TTL) when a query asks only public figures
	// (primeFeed); likes, unlikes and comments forget their content's, here
	// and, announced, in every other API process. Not used with Reads.
	Figures *store.FiguresCache
	// Production hides the schema (introspection, field suggestions) from
	// everyone but admins.
	Production bool
	// Live carries live-session events between replicas; nil disables them.
	Live *live.Hub
	// AllowedOrigins are the host patterns browsers may open websockets
	// from, besides the server's own host (coder/websocket's OriginPatterns).
	AllowedOrigins []string
	// Observer, when set, counts operations for metrics.
	Observer Observer
	// RateLimiter, when set, charges each operation that runs to its
	// caller's bucket (rateCharge).
	RateLimiter RateLimiter
	// Admission, when set, gives a turn to execute to each query and
	// mutation whose HTTP request did not take one (WithAdmitted): those
	// sent over websockets and event streams, and uploads
	// (admitOperations). nil executes them at once.
	Admission Admission
	// BatchWait is how long loaders collect keys (DefaultBatchWait when 0).
	BatchWait time.Duration
	// StreamCheckInterval is how often open streams' credentials are checked
	// for revocation (auth.DefaultStreamCheckInterval when 0).
	StreamCheckInterval time.Duration

	// Media stores uploaded product images; uploads fail without one.
	Media media.Store
	// MaxUploadBytes bounds one uploaded file (media.DefaultMaxUploadBytes
	// when 0).
	MaxUploadBytes int64
	// SalesRankLag overrides store.DefaultSalesRankLag for BEST_SELLING
	// (negative: none; for tests).
	SalesRankLag time.Duration

	streamsOnce sync.Once
	streams     *auth.StreamGuard
}
