package graph

import (
	"context"
	"fmt"
	"time"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// metricsFor resolves a subject's figures, marking whether the viewer may
// see the commercial ones.
func metricsFor(ctx context.Context, subject string, id int64, window *string, commercial func() (bool, error)) (*store.Metrics, error) {
	w := store.WindowAllTime
	if window != nil {
		w = *window
	}
	m, err := loadersFrom(ctx).Metrics.Load(ctx, store.MetricsKey{Subject: subject, ID: id, Window: w})
	if err != nil {
		return nil, err
	}
	allowed, err := commercial()
	if err != nil {
		return nil, err
	}
	out := *m // the loader's copy is shared by every field asking for it
	out.Commercial = allowed
	return &out, nil
}

// contentMetrics resolves a video's or live session's figures: commercial
// ones for its author, its shop's managers and admins.
func contentMetrics(ctx context.Context, c store.Content, window *string) (*store.Metrics, error) {
	base := c.Base()
	return metricsFor(ctx, store.SubjectContent, base.ID, window, func() (bool, error) {
		v := auth.ViewerFrom(ctx)
		if v.SignedIn() && (v.IsAdmin() || v.UserID() == base.AuthorID) {
			return true, nil
		}
		if base.ShopID == nil {
			return false, nil
		}
		return viewerManagesShop(ctx, *base.ShopID)
	})
}

// commercialFigure hides a figure from viewers who may not see it.
func commercialFigure[T any](m *store.Metrics, value T) (*T, error) {
	if !m.Commercial {
		return nil, store.Errorf(store.EForbidden, "only the shop's owner, the content's author and admins see commercial figures")
	}
	return &value, nil
}

func intFigure(m *store.Metrics, v int64) (*int, error) { return commercialFigure(m, int(v)) }

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

// deviceIDMaxLength bounds the anonymous client's device id.
const deviceIDMaxLength = 100

func (r *Resolver) recordEvents(ctx context.Context, in []*model.EngagementEventInput) (*model.RecordEventsPayload, error) {
	if len(in) > store.MaxEventsPerBatch {
		return nil, store.FieldErrorf(store.EInvalid, "events", "at most %d events per call", store.MaxEventsPerBatch)
	}
	signedIn := auth.ViewerFrom(ctx).SignedIn()
	now := time.Now()
	var events []store.Event
	var problems store.Problems
	index := []int{} // events[i] came from in[index[i]]
	for i, e := range in {
		field := fmt.Sprintf("events.%d", i)
		if !signedIn && (e.DeviceID == nil || *e.DeviceID == "" || len(*e.DeviceID) > deviceIDMaxLength) {
			problems = append(problems, store.FieldErrorf(store.EInvalid, field+".deviceId", "anonymous clients send a deviceId of 1 to %d characters", deviceIDMaxLength))
			continue
		}
		contentID, err := parseContentID(e.ContentID)
		if err != nil {
			problems = append(problems, store.FieldErrorf(store.EInvalid, field+".contentId", "not a Video or LiveSession ID"))
			continue
		}
		ev := store.Event{Type: e.Type, ContentID: contentID, At: now}
		if e.Type == store.EventProductClick || e.Type == store.EventProductImpression {
			if e.ProductID == nil {
				problems = append(problems, store.FieldErrorf(store.EInvalid, field+".productId", "%s needs a productId", e.Type))
				continue
			}
			if ev.ProductID, err = parseTypedID(*e.ProductID, typeProduct); err != nil {
				problems = append(problems, store.FieldErrorf(store.EInvalid, field+".productId", "not a Product ID"))
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
	r.Events.Add(accepted)
	problems = append(problems, refused...)
	return &model.RecordEventsPayload{Accepted: len(accepted), UserErrors: problemsToUserErrors(problems, "")}, nil
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
		r.Events.AddLike(id, delta)
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
	return &model.CommentPayload{Comment: c, UserErrors: []*model.UserError{}}, nil
}
