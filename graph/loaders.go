package graph

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"showcase/auth"
	"showcase/store"
)

// DefaultBatchWait is how long a loader collects keys before one statement
// fetches them all; gqlgen starts sibling resolvers concurrently, so a short
// window catches a whole level of the query.
const DefaultBatchWait = 2 * time.Millisecond

// Loaders batch every lookup a request makes, so a page costs a fixed number
// of SQL statements whatever its size. They live for one request.
type Loaders struct {
	User              *dataloadgen.Loader[int64, *store.User]
	Shop              *dataloadgen.Loader[int64, *store.Shop]
	Product           *dataloadgen.Loader[int64, *store.Product]
	Variant           *dataloadgen.Loader[int64, *store.ProductVariant]
	Content           *dataloadgen.Loader[int64, store.Content]
	VariantsByProduct *dataloadgen.Loader[int64, []*store.ProductVariant]
	ProductsByContent *dataloadgen.Loader[int64, []*store.Product]
	ShopProducts      *dataloadgen.Loader[store.ChildPageKey, store.Page[*store.Product]]
	ShopVideos        *dataloadgen.Loader[store.ChildPageKey, store.Page[store.Content]]
	ShopLiveSessions  *dataloadgen.Loader[store.ChildPageKey, store.Page[store.Content]]
	Order             *dataloadgen.Loader[int64, *store.Order]
	OrderLines        *dataloadgen.Loader[int64, []*store.OrderLine]
	OrderPages        *dataloadgen.Loader[store.OrderPageKey, store.Page[*store.Order]]
	CartLines         *dataloadgen.Loader[int64, []*store.CartLine]
	Metrics           *dataloadgen.Loader[store.MetricsKey, *store.Metrics]
	Comments          *dataloadgen.Loader[store.ChildPageKey, store.Page[*store.Comment]]
	Comment           *dataloadgen.Loader[int64, *store.Comment]
	App               *dataloadgen.Loader[int64, *store.App]
	Liked             *dataloadgen.Loader[int64, bool]
	Series            *dataloadgen.Loader[store.SeriesKey, []store.MetricsPoint]
	Breakdown         *dataloadgen.Loader[store.MetricsKey, *store.Breakdown]
	// The catalogue: media, variant images, collections and list counts.
	Media                  *dataloadgen.Loader[int64, *store.ProductMedia]
	MediaByProduct         *dataloadgen.Loader[int64, []*store.ProductMedia]
	VariantImage           *dataloadgen.Loader[int64, *store.ProductMedia]
	VideoPoster            *dataloadgen.Loader[int64, *store.VideoPoster]
	Collection             *dataloadgen.Loader[int64, *store.Collection]
	WebhookSubscription    *dataloadgen.Loader[int64, *store.WebhookSubscription]
	WebhookDelivery        *dataloadgen.Loader[int64, *store.WebhookDelivery]
	ShopCollections        *dataloadgen.Loader[store.ChildPageKey, store.Page[*store.Collection]]
	ShopCollectionCount    *dataloadgen.Loader[int64, int]
	CollectionProducts     *dataloadgen.Loader[store.ChildPageKey, store.Page[*store.Product]]
	CollectionProductCount *dataloadgen.Loader[store.CountKey, int]
	// Campaigns and their figures.
	Campaign        *dataloadgen.Loader[int64, *store.Campaign]
	CampaignFigures *dataloadgen.Loader[int64, *store.CampaignFigures]
	// DiscountCode serves node and nodes (shop managers only).
	DiscountCode     *dataloadgen.Loader[int64, *store.DiscountCode]
	ShopProductCount *dataloadgen.Loader[store.CountKey, int]
	// Cart cost, shipping and tax, saved addresses.
	CartCost        *dataloadgen.Loader[int64, *store.PricedCart]
	ShippingRates   *dataloadgen.Loader[int64, []*store.ShippingRate]
	TaxRates        *dataloadgen.Loader[int64, []*store.TaxRate]
	CustomerAddress *dataloadgen.Loader[int64, *store.CustomerAddress]
	// Follows: pages of followers (of creators and of shops) and of following.
	CreatorFollowers, ShopFollowers *dataloadgen.Loader[store.ChildPageKey, store.Page[*store.Follower]]
	Following                       *dataloadgen.Loader[store.ChildPageKey, store.Page[*store.Followed]]
	FollowedByViewer                *dataloadgen.Loader[store.FollowTarget, bool]

	// db is the handle the loaders read from (the replica or the primary,
	// as read routing chose), for primeVariants and primeFeed.
	db *store.DB
	// now is the moment the request's figures are computed as of.
	now time.Time
	// figures, when set, shares feed pages' figures between requests
	// (primeFeed); set only where the loaders read the primary.
	figures *store.FiguresCache
	// cardVariantsPrimed holds (as keys, value true) the ids of the
	// contents whose product cards' variants primeFeed put in
	// VariantsByProduct: their cards' edges may marshal inline
	// (contentProducts).
	cardVariantsPrimed sync.Map
}

// NewLoaders returns fresh loaders over db that collect keys for batchWait.
// topCreatorFollowers sets where the TOP_CREATORS sales channel begins.
func NewLoaders(db *store.DB, topCreatorFollowers int64, batchWait time.Duration) *Loaders {
	return newLoaders(db, db, topCreatorFollowers, batchWait)
}

// newLoaders is NewLoaders over db, a read replica or the primary: where db
// is not primary, the loaders of rows by id (users, shops, contents,
// products, variants, figures) read on primary the keys db did not find.
// A page read on the primary (a walk: the feed, a search by relevance)
// lists rows the replica may not have replayed yet; without the second
// read their fields would fail as not found.
func newLoaders(db, primary *store.DB, topCreatorFollowers int64, batchWait time.Duration) *Loaders {
	wait := dataloadgen.WithWait(batchWait)
	// Every figure of a request is computed as of one moment, so that a
	// window's figures, its chart and a shop's breakdown agree.
	now := time.Now().UTC()
	return &Loaders{
		db:      db,
		now:     now,
		User:    dataloadgen.NewMappedLoader(counted(orPrimary(db, primary, (*store.DB).UsersByIDs)), wait),
		Shop:    dataloadgen.NewMappedLoader(counted(orPrimary(db, primary, (*store.DB).ShopsByIDs)), wait),
		Product: dataloadgen.NewMappedLoader(orPrimary(db, primary, (*store.DB).ProductsByIDs), wait),
		Variant: dataloadgen.NewMappedLoader(orPrimary(db, primary, (*store.DB).VariantsByIDs), wait),
		Content: dataloadgen.NewMappedLoader(orPrimary(db, primary, (*store.DB).ContentsByIDs), wait),
		VariantsByProduct: dataloadgen.NewMappedLoader(counted(func(ctx context.Context, ids []int64) (map[int64][]*store.ProductVariant, error) {
			return db.CatalogCache().VariantsFor(ctx, db, ids)
		}), wait),
		ProductsByContent: dataloadgen.NewMappedLoader(counted(func(ctx context.Context, ids []int64) (map[int64][]*store.Product, error) {
			cards, _, err := db.CatalogCache().Cards(ctx, db, ids, false)
			return cards, err
		}), wait),
		ShopProducts: dataloadgen.NewMappedLoader(db.ShopProductPages, wait),
		ShopVideos: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []store.ChildPageKey) (map[store.ChildPageKey]store.Page[store.Content], error) {
			return db.ShopContentPages(ctx, store.KindVideo, keys)
		}, wait),
		ShopLiveSessions: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []store.ChildPageKey) (map[store.ChildPageKey]store.Page[store.Content], error) {
			return db.ShopContentPages(ctx, store.KindLive, keys)
		}, wait),
		Order:      dataloadgen.NewMappedLoader(db.OrdersByIDs, wait),
		OrderLines: dataloadgen.NewMappedLoader(db.OrderLinesByOrderIDs, wait),
		OrderPages: dataloadgen.NewMappedLoader(db.OrderPages, wait),
		CartLines:  dataloadgen.NewMappedLoader(db.CartLinesByBuyerIDs, wait),
		Metrics: dataloadgen.NewMappedLoader(counted(orPrimary(db, primary, func(db *store.DB, ctx context.Context, keys []store.MetricsKey) (map[store.MetricsKey]*store.Metrics, error) {
			return db.MetricsFor(ctx, now, keys)
		})), wait),
		Comments: dataloadgen.NewMappedLoader(db.CommentPages, wait),
		Comment:  dataloadgen.NewMappedLoader(db.CommentsByIDs, wait),
		App:      dataloadgen.NewMappedLoader(db.AppsByIDs, wait),
		Series: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []store.SeriesKey) (map[store.SeriesKey][]store.MetricsPoint, error) {
			return db.MetricsSeries(ctx, now, keys)
		}, wait),
		Breakdown: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []store.MetricsKey) (map[store.MetricsKey]*store.Breakdown, error) {
			return db.ShopBreakdowns(ctx, now, keys, topCreatorFollowers)
		}, wait),
		Media:                  dataloadgen.NewMappedLoader(db.MediaByIDs, wait),
		MediaByProduct:         dataloadgen.NewMappedLoader(db.MediaByProductIDs, wait),
		VariantImage:           dataloadgen.NewMappedLoader(db.ImagesByVariantIDs, wait),
		VideoPoster:            dataloadgen.NewMappedLoader(db.PostersByVideoIDs, wait),
		Collection:             dataloadgen.NewMappedLoader(db.CollectionsByIDs, wait),
		WebhookSubscription:    dataloadgen.NewMappedLoader(db.WebhookSubscriptionsByIDs, wait),
		WebhookDelivery:        dataloadgen.NewMappedLoader(db.WebhookDeliveriesByIDs, wait),
		ShopCollections:        dataloadgen.NewMappedLoader(db.ShopCollectionPages, wait),
		ShopCollectionCount:    dataloadgen.NewMappedLoader(db.ShopCollectionCounts, wait),
		CollectionProducts:     dataloadgen.NewMappedLoader(db.CollectionProductPages, wait),
		CollectionProductCount: dataloadgen.NewMappedLoader(db.CollectionProductCounts, wait),
		ShopProductCount:       dataloadgen.NewMappedLoader(db.ShopProductCounts, wait),
		Campaign:               dataloadgen.NewMappedLoader(db.CampaignsByIDs, wait),
		CampaignFigures:        dataloadgen.NewMappedLoader(db.CampaignFiguresByIDs, wait),
		DiscountCode:           dataloadgen.NewMappedLoader(db.DiscountCodesByIDs, wait),
		CartCost:               dataloadgen.NewMappedLoader(db.CartCostsByBuyerIDs, wait),
		ShippingRates:          dataloadgen.NewMappedLoader(db.ShippingRatesByShopIDs, wait),
		TaxRates:               dataloadgen.NewMappedLoader(db.TaxRatesByShopIDs, wait),
		CustomerAddress:        dataloadgen.NewMappedLoader(db.CustomerAddressesByIDs, wait),
		CreatorFollowers: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []store.ChildPageKey) (map[store.ChildPageKey]store.Page[*store.Follower], error) {
			return db.FollowerPages(ctx, false, keys)
		}, wait),
		ShopFollowers: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []store.ChildPageKey) (map[store.ChildPageKey]store.Page[*store.Follower], error) {
			return db.FollowerPages(ctx, true, keys)
		}, wait),
		Following: dataloadgen.NewMappedLoader(db.FollowingPages, wait),
		FollowedByViewer: dataloadgen.NewMappedLoader(func(ctx context.Context, targets []store.FollowTarget) (map[store.FollowTarget]bool, error) {
			return db.FollowedBy(ctx, auth.ViewerFrom(ctx).UserID(), targets)
		}, wait),
		Liked: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]bool, error) {
			return db.LikedByUser(ctx, auth.ViewerFrom(ctx).UserID(), ids)
		}, wait),
	}
}

// orPrimary returns fetch on db, which then reads on primary (when it is
// another handle) the keys db did not find, in one more statement only
// when some are missing.
func orPrimary[K comparable, V any](db, primary *store.DB, fetch func(*store.DB, context.Context, []K) (map[K]V, error)) func(context.Context, []K) (map[K]V, error) {
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		got, err := fetch(db, ctx, keys)
		if err != nil || primary == nil || primary == db {
			return got, err
		}
		var missing []K
		for _, k := range keys {
			if _, ok := got[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			return got, nil
		}
		more, err := fetch(primary, ctx, missing)
		if err != nil {
			return nil, err
		}
		if got == nil {
			got = make(map[K]V, len(more))
		}
		maps.Copy(got, more)
		return got, nil
	}
}

// fetchCounterKey holds, in a request's context, an *atomic.Int64 that
// counts the batches the loaders primeFeed primes fetch themselves (tests
// show with it that a primed page fetches none).
type fetchCounterKey struct{}

// counted counts fetch's calls in the context's fetch counter, when it has one.
func counted[K comparable, V any](fetch func(context.Context, []K) (map[K]V, error)) func(context.Context, []K) (map[K]V, error) {
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		if n, ok := ctx.Value(fetchCounterKey{}).(*atomic.Int64); ok {
			n.Add(1)
		}
		return fetch(ctx, keys)
	}
}

type loadersKey struct{}

// requestLoaders makes a request's loaders on first use: most requests
// (introspection, __typename, mutations that load nothing) never need them.
type requestLoaders struct {
	once    sync.Once
	loaders *Loaders
	db      *store.DB
	top     int64
	wait    time.Duration
	// pick, when set, chooses db on first use (read routing), and primary
	// is then the primary, which reads what the chosen db did not find.
	pick    func() *store.DB
	primary *store.DB
	// figures is the Resolver's FiguresCache, for loaders over the primary.
	figures *store.FiguresCache
}

// withRequestState serves next (the gqlgen server) with what each request
// keeps in its context, made in one allocation and put in one copy of the
// request:
//   - its own loaders, so cached rows never leak between requests or
//     viewers; figures (nil: none) shares feed pages' figures between
//     requests;
//   - the rate limit's state, so that rateCharge can refuse with HTTP status
//     429: the client address (anonymous callers' bucket), and for requests
//     that are not websocket upgrades a reply made 429 with Retry-After when
//     rateCharge refused. gqlgen's transports would answer 200 or 400 for an
//     extension's error. A refused SSE request gets the 429 status with its
//     error event in the body; a websocket operation gets a RATE_LIMITED
//     error message. An operation admitOperations found no turn for gets
//     503 the same way.
func withRequestState(db *store.DB, figures *store.FiguresCache, topCreatorFollowers int64, batchWait time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := &requestState{loaders: requestLoaders{db: db, figures: figures, top: topCreatorFollowers, wait: batchWait}}
		addr := remoteHost(r)
		s.rate.addr, s.rate.ipKey = addr, "ip:"+addr
		ctx := context.WithValue(context.WithValue(r.Context(), loadersKey{}, &s.loaders), rateStateKey{}, &s.rate)
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		s.rate.note = &s.rate.noted
		s.rate.w = rateWriter{ResponseWriter: w, note: s.rate.note}
		next.ServeHTTP(&s.rate.w, r.WithContext(ctx))
	})
}

// requestState is what withRequestState makes for a request.
type requestState struct {
	loaders requestLoaders
	rate    rateState
}

// operationLoaders gives each operation over a websocket loaders of its
// own, as every HTTP request has: the connection's request (whose loaders
// withRequestState made) carries all its operations, and loaders keep what
// they read. Shared, a feed page's figures taken from the FiguresCache
// (ALL_TIME without the sales) would answer a later operation's orders and
// GMV with zeros, and any row read once would be served stale for the
// connection's life (TestWebsocketCommercialFiguresAfterAPublicPage).
func operationLoaders(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if onWebsocket(ctx) {
		if l, ok := ctx.Value(loadersKey{}).(*requestLoaders); ok {
			ctx = context.WithValue(ctx, loadersKey{}, &requestLoaders{db: l.db, top: l.top, wait: l.wait,
				pick: l.pick, primary: l.primary, figures: l.figures})
		}
	}
	return next(ctx)
}

// loadersFrom returns the request's loaders.
func loadersFrom(ctx context.Context) *Loaders {
	l := ctx.Value(loadersKey{}).(*requestLoaders)
	l.once.Do(func() {
		if l.pick != nil {
			l.db = l.pick()
		}
		l.loaders = newLoaders(l.db, cmp.Or(l.primary, l.db), l.top, l.wait)
		l.loaders.figures = l.figures
	})
	return l.loaders
}
