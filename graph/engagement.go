package graph

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
	"showcase/store/live"
)

// subject is something with metrics, and who may see its commercial figures.
type subject struct {
	kind       string
	id         int64
	commercial func() (bool, error)
}

func contentSubject(ctx context.Context, c store.Content) subject {
	base := c.Base()
	return subject{store.SubjectContent, base.ID, func() (bool, error) {
		return viewerSeesCommercial(ctx, base.AuthorID, base.ShopID)
	}}
}

func productSubject(ctx context.Context, p *store.Product) subject {
	return subject{store.SubjectProduct, p.ID, func() (bool, error) { return viewerSeesCommercial(ctx, 0, &p.ShopID) }}
}

func shopSubject(ctx context.Context, s *store.Shop) subject {
	return subject{store.SubjectShop, s.ID, func() (bool, error) { return viewerSeesCommercial(ctx, 0, &s.ID) }}
}

// viewerSeesCommercial applies auth.CanSeeCommercialFigures to a subject by
// its author (0 for none) and shop (nil for none).
func viewerSeesCommercial(ctx context.Context, authorID int64, shopID *int64) (bool, error) {
	v := auth.ViewerFrom(ctx)
	if !v.SignedIn() {
		return false, nil
	}
	var shop *store.Shop
	if shopID != nil {
		var err error
		if shop, err = loadersFrom(ctx).Shop.Load(ctx, *shopID); err != nil {
			return false, err
		}
	}
	return auth.CanSeeCommercialFigures(v, authorID, shop), nil
}

// metrics resolves the subject's figures over a window.
func (s subject) metrics(ctx context.Context, window *string) (*store.Metrics, error) {
	m, err := loadersFrom(ctx).Metrics.Load(ctx, store.MetricsKey{Subject: s.kind, ID: s.id, Window: deref(window)})
	if err != nil {
		return nil, err
	}
	return s.withCommercial(m)
}

// withCommercial copies shared loader results, marking what the viewer may see.
func (s subject) withCommercial(m *store.Metrics) (*store.Metrics, error) {
	allowed, err := s.commercial()
	if err != nil {
		return nil, err
	}
	out := *m
	out.Commercial = allowed
	return &out, nil
}

// series resolves the subject's chart.
func (s subject) series(ctx context.Context, window, granularity *string) ([]*store.MetricsPoint, error) {
	key := store.SeriesKey{MetricsKey: store.MetricsKey{Subject: s.kind, ID: s.id, Window: deref(window)}, Granularity: deref(granularity)}
	points, err := loadersFrom(ctx).Series.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]*store.MetricsPoint, len(points))
	for i, p := range points {
		m, err := s.withCommercial(p.Metrics)
		if err != nil {
			return nil, err
		}
		out[i] = &store.MetricsPoint{At: p.At, Metrics: m}
	}
	return out, nil
}

// breakdown resolves a shop's sales split by surface or channel.
func breakdown(ctx context.Context, m *store.Metrics, pick func(*store.Breakdown) []*store.SalesSlice) ([]*store.SalesSlice, error) {
	if m.Subject != store.SubjectShop {
		return nil, nil
	}
	if _, err := commercialFigure(m, 0); err != nil {
		return nil, err
	}
	b, err := loadersFrom(ctx).Breakdown.Load(ctx, store.MetricsKey{Subject: m.Subject, ID: m.SubjectID, Window: m.Window})
	if err != nil {
		return nil, err
	}
	return pick(b), nil
}

// commercialFigure hides a figure from viewers who may not see it.
func commercialFigure[T any](m *store.Metrics, value T) (*T, error) {
	if !m.Commercial {
		return nil, store.Errorf(store.EForbidden, "only the shop's owner, the content's author and admins see commercial figures")
	}
	return &value, nil
}

func intFigure(m *store.Metrics, v int64) (*int, error) { return commercialFigure(m, int(v)) }

// gmvByCurrency is a commercial figure: the GMV in every currency it was paid in.
func gmvByCurrency(m *store.Metrics) ([]*store.Money, error) {
	if _, err := commercialFigure(m, 0); err != nil {
		return nil, err
	}
	all := m.GMVByCurrency()
	out := make([]*store.Money, len(all))
	for i := range all {
		out[i] = &all[i]
	}
	return out, nil
}

// viewerHasLiked reports whether the signed-in viewer likes the content.
func viewerHasLiked(ctx context.Context, c store.Content) (bool, error) {
	if !auth.ViewerFrom(ctx).SignedIn() {
		return false, nil
	}
	return loadersFrom(ctx).Liked.Load(ctx, c.Base().ID)
}

// contentComments pages a content's comments, batched across the response.
func contentComments(ctx context.Context, c store.Content, first *int, after *string) (*model.CommentConnection, error) {
	key, err := childPageKey(c.Base().ID, first, after)
	if err != nil {
		return nil, err
	}
	page, err := loadersFrom(ctx).Comments.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	return &model.CommentConnection{PageInfo: pageInfo(page), Edges: edges(page, func(cur string, n *store.Comment) *model.CommentEdge {
		return &model.CommentEdge{Cursor: cur, Node: n}
	})}, nil
}

// forgetFigures drops what Resolver.Figures keeps of a content whose
// figures the caller just changed directly (a like, an unlike, a comment),
// before the mutation answers, and tells every other API process to do the
// same. A failed announcement is logged: the other processes then show the
// change within the cache's TTL.
func (r *Resolver) forgetFigures(ctx context.Context, contentID int64) {
	if r.Figures == nil {
		return
	}
	r.Figures.Forget(contentID)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.DB.AnnounceFigures(actx, contentID); err != nil {
		slog.ErrorContext(ctx, "figures change not announced; other API processes show it within FIGURES_CACHE_TTL", "err", err)
	}
}

// deviceIDMaxLength bounds the anonymous client's device id.
const deviceIDMaxLength = 100

func (r *Resolver) recordEvents(ctx context.Context, in []*model.EngagementEventInput) (*model.RecordEventsPayload, error) {
	if len(in) > store.MaxEventsPerBatch {
		return nil, store.FieldErrorf(store.EInvalid, "events", "at most %d events per call", store.MaxEventsPerBatch)
	}
	v := auth.ViewerFrom(ctx)
	signedIn := v.SignedIn()
	now := time.Now()
	events := make([]store.Event, 0, len(in))
	var problems store.Problems
	index := make([]int, 0, len(in)) // events[i] came from in[index[i]]
	viewer := ""                     // the same for every event but an anonymous client's
	if signedIn {
		viewer = eventViewer(v, nil)
	}
	for i, e := range in {
		if !signedIn && (e.DeviceID == nil || *e.DeviceID == "" || len(*e.DeviceID) > deviceIDMaxLength) {
			problems = append(problems, store.FieldErrorf(store.EInvalid, eventField(i, "deviceId"), "anonymous clients send a deviceId of 1 to %d characters", deviceIDMaxLength))
			continue
		}
		contentID, err := parseContentID(e.ContentID)
		if err != nil {
			problems = append(problems, store.FieldErrorf(store.EInvalid, eventField(i, "contentId"), "not a Video or LiveSession ID"))
			continue
		}
		ev := store.Event{Type: e.Type, ContentID: contentID, At: now, Viewer: viewer}
		if !signedIn {
			ev.Viewer = eventViewer(v, e.DeviceID)
		}
		if e.Type == store.EventProductClick || e.Type == store.EventProductImpression {
			if e.ProductID == nil {
				problems = append(problems, store.FieldErrorf(store.EInvalid, eventField(i, "productId"), "%s needs a productId", e.Type))
				continue
			}
			if ev.ProductID, err = parseTypedID(*e.ProductID, typeProduct); err != nil {
				problems = append(problems, store.FieldErrorf(store.EInvalid, eventField(i, "productId"), "not a Product ID"))
				continue
			}
		}
		if e.WatchMs != nil {
			ev.WatchMs = int64(*e.WatchMs)
		}
		events = append(events, ev)
		index = append(index, i)
	}
	accepted, refused, err := r.DB.CheckEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	for _, p := range refused {
		p.Field = renumberEventField(p.Field, index)
	}
	// Back-pressure shares the buffer by the caller the rate limit charges.
	if err := r.Events.Offer(rateKey(ctx), accepted); err != nil {
		return nil, err // back-pressure: SERVICE_UNAVAILABLE, retryable, nothing recorded
	}
	problems = append(problems, refused...)
	return &model.RecordEventsPayload{Accepted: len(accepted), UserErrors: problemsToUserErrors(problems, "")}, nil
}

// eventField names a field of the i-th event in user errors
// ("events.3.contentId"); built only for an event that has a problem.
func eventField(i int, name string) string { return "events." + strconv.Itoa(i) + "." + name }

// eventViewer names who sent an event, for counting it once per viewer per
// store.CountWindow: the signed-in person (whatever device), else the app,
// else the anonymous client's device.
func eventViewer(v auth.Viewer, deviceID *string) string {
	switch {
	case v.IsApp():
		return "app:" + strconv.FormatInt(v.App.AppID, 10)
	case v.SignedIn():
		return "user:" + strconv.FormatInt(v.UserID(), 10)
	case deviceID != nil:
		return "device:" + *deviceID
	}
	return "device:"
}

// renumberEventField maps "events.i.x" of the checked subset back to the
// index the client sent.
func renumberEventField(field string, index []int) string {
	var i int
	var rest string
	if _, err := fmt.Sscanf(field, "events.%d.%s", &i, &rest); err != nil || i >= len(index) {
		return field
	}
	return fmt.Sprintf("events.%d.%s", index[i], rest)
}

func (r *Resolver) like(ctx context.Context, contentGID string, like bool) (*model.LikePayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseContentID(contentGID)
	if err != nil {
		return nil, err
	}
	c, err := orNil(loadersFrom(ctx).Content.Load(ctx, id))
	if err != nil {
		return nil, err
	}
	if c == nil {
		return &model.LikePayload{UserErrors: fieldError("contentId", model.UserErrorCodeNotFound, "content not found")}, nil
	}
	changed, delta := false, int64(1)
	if like {
		changed, err = r.DB.LikeContent(ctx, v.UserID(), id)
	} else {
		changed, err = r.DB.UnlikeContent(ctx, v.UserID(), id)
		delta = -1
	}
	if err != nil {
		return nil, err
	}
	if changed {
		r.forgetFigures(ctx, id)
		r.Events.AddLike(id, delta)
		if like {
			r.learn(ctx, store.Signal{ContentID: id, Weight: r.forYou().Like})
		}
	}
	loadersFrom(ctx).Liked.Prime(id, like)
	return &model.LikePayload{Content: c, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) commentOnContent(ctx context.Context, contentGID, body string) (*model.CommentPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseContentID(contentGID)
	if err != nil {
		return nil, err
	}
	c, err := r.DB.AddComment(ctx, v.UserID(), id, body)
	if err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.CommentPayload{UserErrors: ue}, err
	}
	r.forgetFigures(ctx, id)
	r.learn(ctx, store.Signal{ContentID: id, Weight: r.forYou().Comment})
	if content, err := orNil(loadersFrom(ctx).Content.Load(ctx, id)); err == nil {
		if _, isLive := content.(*store.LiveSession); isLive {
			r.publish(ctx, live.Event{SessionID: id, Kind: live.KindComment, CommentID: c.ID})
		}
	}
	return &model.CommentPayload{Comment: c, UserErrors: []*model.UserError{}}, nil
}
