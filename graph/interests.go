package graph

import (
	"time"

	"context"
	"log/slog"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

// forYou returns the For You settings in force.
func (r *Resolver) forYou() *store.ForYouSettings {
	if r.ForYou != nil {
		return r.ForYou
	}
	return &store.DefaultForYouSettings
}

// learn hands a signal of the viewer in person to the event buffer: apps
// acting for a person teach nothing.
func (r *Resolver) learn(ctx context.Context, s store.Signal) {
	v := auth.ViewerFrom(ctx)
	if !v.InPerson() || r.Events == nil {
		return
	}
	s.Profile = store.UserProfile(v.UserID())
	r.Events.AddSignal(s)
}

// learnPurchase teaches the buyer's profile what a checkout bought: each
// line's content when it was bought from one, else its product.
func (r *Resolver) learnPurchase(ctx context.Context, lines map[int64][]*store.OrderLine) {
	w := r.forYou().Purchase
	for _, ls := range lines {
		for _, l := range ls {
			s := store.Signal{ProductID: l.ProductID, Weight: w}
			if l.SourceContentID != nil {
				s = store.Signal{ContentID: *l.SourceContentID, Weight: w}
			}
			r.learn(ctx, s)
		}
	}
}

// interests resolves User.interests: the viewer's own only.
func (r *Resolver) interests(ctx context.Context, u *store.User, first *int) ([]*store.Interest, error) {
	if !auth.CanSeeOwnAccount(auth.ViewerFrom(ctx), u.ID) {
		return nil, nil
	}
	n := 20
	if first != nil {
		n = *first
	}
	if n < 1 || n > 100 {
		return nil, store.FieldErrorf(store.EInvalid, "first", "first must be 1 to 100")
	}
	list, err := r.DB.Interests(ctx, r.forYou(), u.ID, n)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Interest, len(list))
	for i := range list {
		it := list[i]
		switch it.Kind {
		case store.InterestCreator:
			it.Key = globalIDOfKey(typeUser, it.Key)
		case store.InterestShop:
			it.Key = globalIDOfKey(typeShop, it.Key)
		}
		out[i] = &it
	}
	return out, nil
}

// globalIDOfKey turns an interest's numeric key into the object's ID.
func globalIDOfKey(typeName, key string) string {
	var id int64
	for _, c := range key {
		if c < '0' || c > '9' {
			return key
		}
		id = id*10 + int64(c-'0')
	}
	return globalID(typeName, id)
}

// flushSignals writes what the event buffer holds, so that a profile
// change (reset, merge) comes after the signals sent before it. A failed
// flush keeps the events for the next one; the change goes ahead.
func (r *Resolver) flushSignals(ctx context.Context) {
	if r.Events == nil || r.Events.Pending() == 0 {
		return
	}
	if err := r.Events.Flush(ctx); err != nil {
		slog.WarnContext(ctx, "flush before a profile change failed", "err", err)
	}
}

func (r *Resolver) resetInterests(ctx context.Context) (*model.ResetInterestsPayload, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return nil, err
	}
	if !v.InPerson() {
		return nil, store.Errorf(store.EForbidden, "only the person themselves resets their interests")
	}
	r.flushSignals(ctx)
	if err := r.DB.ResetInterests(ctx, v.UserID()); err != nil {
		return nil, err
	}
	return &model.ResetInterestsPayload{User: v.User, UserErrors: []*model.UserError{}}, nil
}

// mergeDevice merges a signed-out device's profile into the user's after
// a log-in or sign-up that named it. A failure is logged: the person is
// signed in all the same. Both profiles were written, so this process
// forgets their For You arrangements and tells the others
// (store.DB.AnnounceProfiles), as after a follow: the log-in ran signed
// out, so forgetFeedRankings did not see whose profile it wrote.
func (r *Resolver) mergeDevice(ctx context.Context, deviceID *string, userID int64) {
	if deviceID == nil || *deviceID == "" || len(*deviceID) > deviceIDMaxLength {
		return
	}
	r.flushSignals(ctx)
	profiles := []string{store.UserProfile(userID), store.DeviceProfile(*deviceID)}
	for _, p := range profiles {
		r.FeedRankings.Forget(p)
	}
	err := r.DB.MergeDeviceProfile(ctx, r.forYou(), *deviceID, userID)
	for _, p := range profiles {
		r.FeedRankings.Forget(p) // a first page ranked meanwhile
	}
	if err != nil {
		slog.ErrorContext(ctx, "merge device profile", "err", err)
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.DB.AnnounceProfiles(actx, profiles); err != nil {
		slog.ErrorContext(ctx, "profile write not announced; other API processes show it within FEED_RANKING_TTL", "err", err)
	}
}

// feedProfile names the interest profile a For You page is ranked by: ""
// (the signed-in viewer's own account, or nobody for an anonymous caller
// without a device), or a signed-out caller's device profile when the
// request names its deviceId. A device's ranking is for that caller alone,
// so the answer is kept out of the shared response cache. A deviceId of
// more than deviceIDMaxLength characters, or empty, is BAD_USER_INPUT
// whoever sends it; signed-in callers (people and apps) are ranked for
// their account whatever deviceId they send, as recordEvents counts them.
func feedProfile(ctx context.Context, deviceID *string) (string, error) {
	if deviceID == nil {
		return "", nil
	}
	if *deviceID == "" || len(*deviceID) > deviceIDMaxLength {
		return "", store.FieldErrorf(store.EInvalid, "deviceId", "a deviceId has 1 to %d characters", deviceIDMaxLength)
	}
	if auth.ViewerFrom(ctx).SignedIn() {
		return "", nil
	}
	markPrivate(ctx)
	return store.DeviceProfile(*deviceID), nil
}
