package graph

import (
	"context"
	"log/slog"
	"sync/atomic"
	"unicode/utf8"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
	"showcase/store/live"
)

// MaxSubscriptionsPerConnection bounds what one websocket may watch at once.
const MaxSubscriptionsPerConnection = 10

type subscriptionCountKey struct{}

// WithSubscriptionCounter gives a websocket connection its subscription count.
func WithSubscriptionCounter(ctx context.Context) context.Context {
	return context.WithValue(ctx, subscriptionCountKey{}, new(atomic.Int32))
}

func (r *Resolver) liveSessionEvents(ctx context.Context, sessionGID string) (<-chan model.LiveSessionEvent, error) {
	if r.Live == nil {
		return nil, store.Errorf(store.ENotFound, "live events are not available")
	}
	ls, err := existingLiveSession(ctx, sessionGID)
	if err != nil {
		return nil, err
	}
	id := ls.ID
	if n, ok := ctx.Value(subscriptionCountKey{}).(*atomic.Int32); ok {
		if n.Add(1) > MaxSubscriptionsPerConnection {
			n.Add(-1)
			return nil, store.Errorf(store.EInvalid, "at most %d subscriptions per connection", MaxSubscriptionsPerConnection)
		}
		go func() { <-ctx.Done(); n.Add(-1) }()
	}
	sub := r.Live.Subscribe(id)
	out := make(chan model.LiveSessionEvent, 1)
	go func() {
		defer close(out)
		defer r.Live.Unsubscribe(sub)
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.C:
				if !ok {
					return
				}
				ev := toModelEvent(ctx, e)
				if ev == nil {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// toModelEvent turns a bus event into its GraphQL type, priming this
// connection's loaders with what the event carries so that nested fields
// cost no query per subscriber. An event about a product this subscriber may
// not see (auth.CanSeeProduct: a draft) is nil, so it is not sent.
func toModelEvent(ctx context.Context, e live.Event) model.LiveSessionEvent {
	l := loadersFrom(ctx)
	if e.Author != nil {
		l.User.Prime(e.Author.ID, e.Author)
	}
	if e.Product != nil {
		if e.Product.Status == store.ProductDraft {
			shop, err := l.Shop.Load(ctx, e.Product.ShopID)
			if err != nil || !auth.CanSeeProduct(auth.ViewerFrom(ctx), e.Product, shop) {
				return nil
			}
		}
		l.Product.Prime(e.Product.ID, e.Product)
	}
	switch e.Kind {
	case live.KindComment:
		return &model.CommentAdded{Comment: e.Comment}
	case live.KindPinned:
		return &model.ProductPinned{Product: e.Product}
	case live.KindPurchase:
		return &model.PurchaseMade{Product: e.Product, Quantity: e.Quantity, BuyerHandle: e.BuyerHandle}
	case live.KindViewers:
		return &model.ViewerCountChanged{Count: e.Count}
	case live.KindStatus:
		return &model.StatusChanged{Status: e.Status}
	case live.KindDropped:
		return &model.EventsDropped{Count: e.Count}
	}
	return nil
}

// publish sends a live event; a failure is logged, never failing the write
// that caused it.
func (r *Resolver) publish(ctx context.Context, e live.Event) {
	if r.Live == nil {
		return
	}
	if err := r.Live.Publish(context.WithoutCancel(ctx), e); err != nil {
		slog.ErrorContext(ctx, "publish live event", "kind", e.Kind, "err", err)
	}
}

// publishPurchases announces the lines a checkout bought from live
// sessions, each to its own session, from the lines the checkout returned.
func (r *Resolver) publishPurchases(ctx context.Context, lines map[int64][]*store.OrderLine) {
	buyer := ""
	for _, orderLines := range lines {
		for _, line := range orderLines {
			if line.SourceContentID == nil {
				continue
			}
			c, err := orNil(loadersFrom(ctx).Content.Load(ctx, *line.SourceContentID))
			if _, isLive := c.(*store.LiveSession); err != nil || !isLive {
				continue
			}
			if buyer == "" {
				buyer = "a guest" // a guest checkout: no account, no handle
				if u := auth.ViewerFrom(ctx).User; u != nil {
					buyer = maskHandle(u.Handle)
				}
			}
			r.publish(ctx, live.Event{SessionID: *line.SourceContentID, Kind: live.KindPurchase,
				ProductID: line.ProductID, Quantity: line.Quantity, BuyerHandle: buyer})
		}
	}
}

// maskHandle keeps a handle's first and last letters: "jasmina" → "j***a".
func maskHandle(h string) string {
	if utf8.RuneCountInString(h) <= 2 {
		return "***"
	}
	r := []rune(h)
	return string(r[0]) + "***" + string(r[len(r)-1])
}
