package graph

import (
	"context"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// follow follows (on) or unfollows (off) the creator or shop named by gid
// for the signed-in person, and answers with the node as it is afterwards
// (its followerCount included). A malformed id is BAD_USER_INPUT; an id of
// something that is neither a User nor a Shop is NOT_FOLLOWABLE.
func (r *Resolver) follow(ctx context.Context, gid string, on bool) (*model.FollowPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	if !auth.CanFollow(v) {
		return nil, store.Errorf(store.EForbidden, "app tokens cannot follow; following is for people's own sessions")
	}
	typeName, id, err := parseGlobalID(gid)
	if err != nil {
		return nil, err
	}
	var target store.FollowTarget
	switch typeName {
	case typeUser:
		target.CreatorID = id
	case typeShop:
		target.ShopID = id
	default:
		return &model.FollowPayload{UserErrors: fieldError("id", model.UserErrorCodeNotFollowable, "only creators and shops can be followed")}, nil
	}
	if on {
		_, err = r.DB.Follow(ctx, v.UserID(), target)
	} else {
		_, err = r.DB.Unfollow(ctx, v.UserID(), target)
	}
	if err != nil {
		ue, err := userErrorsFrom(err, "")
		return &model.FollowPayload{UserErrors: ue}, err
	}
	fv := loadersFrom(ctx).FollowedByViewer
	fv.Clear(target)
	fv.Prime(target, on)
	node, err := loadFollowable(ctx, target)
	if err != nil {
		return nil, err
	}
	if node == nil {
		return &model.FollowPayload{UserErrors: fieldError("id", model.UserErrorCodeNotFound, "nothing to follow with this id")}, nil
	}
	return &model.FollowPayload{Node: node, ViewerFollows: on, UserErrors: []*model.UserError{}}, nil
}

// loadFollowable loads a followed creator or shop as it is now (nil when it
// does not exist, or is a guest, which is shown as no user at all).
func loadFollowable(ctx context.Context, t store.FollowTarget) (store.Followable, error) {
	l := loadersFrom(ctx)
	if t.CreatorID != 0 {
		l.User.Clear(t.CreatorID) // its followerCount may have just changed
		u, err := orNil(l.User.Load(ctx, t.CreatorID))
		if u == nil || err != nil || !auth.CanSeeProfile(u) {
			return nil, err
		}
		return u, nil
	}
	l.Shop.Clear(t.ShopID)
	s, err := orNil(l.Shop.Load(ctx, t.ShopID))
	if s == nil || err != nil {
		return nil, err
	}
	return s, nil
}

// followerConnection resolves User.followers (shop false) and Shop.followers.
func followerConnection(ctx context.Context, shop bool, parentID int64, first *int, after *string) (*model.FollowerConnection, error) {
	key, err := childPageKey(parentID, first, after)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx).CreatorFollowers
	if shop {
		l = loadersFrom(ctx).ShopFollowers
	}
	page, err := l.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	return &model.FollowerConnection{PageInfo: pageInfo(page), Edges: edges(page, func(c string, f *store.Follower) *model.FollowerEdge {
		return &model.FollowerEdge{Cursor: c, Node: &f.User, FollowedAt: f.FollowedAt}
	})}, nil
}

// followingConnection resolves User.following: the page in one statement
// (batched across users), its creators and shops in one more each.
func followingConnection(ctx context.Context, userID int64, first *int, after *string) (*model.FollowingConnection, error) {
	key, err := childPageKey(userID, first, after)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx)
	page, err := l.Following.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	thunks := make([]func() (store.Followable, error), len(page.Edges))
	for i, e := range page.Edges {
		if e.Node.CreatorID != nil {
			th := l.User.LoadThunk(ctx, *e.Node.CreatorID)
			thunks[i] = func() (store.Followable, error) { u, err := th(); return u, err }
		} else {
			th := l.Shop.LoadThunk(ctx, *e.Node.ShopID)
			thunks[i] = func() (store.Followable, error) { s, err := th(); return s, err }
		}
	}
	conn := &model.FollowingConnection{PageInfo: pageInfo(page), Edges: make([]*model.FollowingEdge, 0, len(page.Edges))}
	for i, e := range page.Edges {
		n, err := orNil(thunks[i]())
		if err != nil {
			return nil, err
		}
		if n == nil {
			continue // deleted meanwhile (its follows row goes with it)
		}
		conn.Edges = append(conn.Edges, &model.FollowingEdge{Cursor: e.Cursor, Node: n, FollowedAt: e.Node.FollowedAt})
	}
	return conn, nil
}

// followingFeed resolves feed(kind: FOLLOWING) for the signed-in person.
func (r *Resolver) followingFeed(ctx context.Context, args store.PageArgs) (*model.FeedConnection, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	if !auth.CanSeeFollowingFeed(v) {
		return nil, store.Errorf(store.EForbidden, "app tokens cannot read the FOLLOWING feed; it is for people's own sessions")
	}
	page, err := r.DB.FollowingFeed(ctx, v.UserID(), args)
	if err != nil {
		return nil, err
	}
	return inlineFeed(ctx, feedConnection(page), primeFeed(ctx, page)), nil
}

// viewerFollows resolves User.viewerFollows and Shop.viewerFollows, batched
// across the response; false for anonymous callers.
func viewerFollows(ctx context.Context, t store.FollowTarget) (bool, error) {
	if !auth.ViewerFrom(ctx).SignedIn() {
		return false, nil
	}
	return loadersFrom(ctx).FollowedByViewer.Load(ctx, t)
}
