package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// DefaultProfileTTL is how long a ProfileCache keeps users and shops read by
// id (PROFILE_CACHE_TTL): every change reaches every process by
// notification at once; the TTL bounds only what a listener that died
// without noticing could leave behind.
const DefaultProfileTTL = 10 * time.Second

// DefaultSessionTTL is how long a ProfileCache keeps a session check
// (SESSION_CACHE_TTL): the same bound the streams' credential check keeps
// (one check every 2 seconds).
const DefaultSessionTTL = 2 * time.Second

// ProfilesChannel is the PostgreSQL notification channel on which the
// triggers of migration 0030 announce, on commit, every user, shop, session
// (refresh-token family) and app changed or deleted, one line each:
// "u:<id>", "s:<id>", "f:<id>", "a:<id>".
const ProfilesChannel = "showcase_profiles"

// maxKeptProfiles bounds each of a ProfileCache's maps; past it, entries
// older than their TTL are dropped, and if that is not enough the map
// starts over.
const maxKeptProfiles = 50_000

// ProfileCache keeps, per API process, users and shops read by id for a
// feed page's authors and shops (KeptUsersByIDs, KeptShopsByIDs), and the
// session and app checks of signed-in requests (UserInSession, AppByID),
// so that a warm feed page costs none of those statements.
//
// Every change to those rows, through any process or by hand, is announced
// by a trigger when it commits (ProfilesChannel) and forgotten here when the
// notification arrives (Listen); a change made through this process is
// forgotten before the call that made it returns (UseProfileCache), so a
// caller always sees their own writes, and an ended session is refused at
// once. A row read by a statement that began before a forget of it is not
// kept. While the listening connection is down nothing is kept and nothing
// is served (the cache starts so until Listen has begun), and entries are
// dropped after their TTL whatever is heard: profileTTL for users and shops,
// sessionTTL for session and app checks (and for a user served as a token's
// subject). A session is never served past its refresh tokens' expiry as
// PostgreSQL measured it. A nil *ProfileCache keeps nothing.
type ProfileCache struct {
	profileTTL, sessionTTL time.Duration

	// forgetting holds the lock the maps below are read and written under.
	forgetting
	users    map[int64]kept[*User]
	shops    map[int64]kept[*Shop]
	apps     map[int64]kept[*App]
	sessions map[int64]map[int64]keptSession // by user, then session
	// sessionUser is the user of each kept session, to forget it by id.
	sessionUser map[int64]int64
}

type kept[T any] struct {
	v  T
	at time.Time // when the statement that read v began
}

type keptSession struct {
	user *User
	at   time.Time
	// until is when the session's last refresh token expires, measured
	// from at with PostgreSQL's clock.
	until time.Time
}

// NewProfileCache returns a cache keeping users and shops for profileTTL and
// session and app checks for sessionTTL (0 or less: those are not kept), or
// nil when both are 0 or less. It keeps nothing until Listen has begun.
func NewProfileCache(profileTTL, sessionTTL time.Duration) *ProfileCache {
	if profileTTL <= 0 && sessionTTL <= 0 {
		return nil
	}
	c := &ProfileCache{profileTTL: profileTTL, sessionTTL: sessionTTL}
	c.init(func() {
		c.users, c.shops, c.apps = map[int64]kept[*User]{}, map[int64]kept[*Shop]{}, map[int64]kept[*App]{}
		c.sessions, c.sessionUser = map[int64]map[int64]keptSession{}, map[int64]int64{}
	})
	return c
}

// UseProfileCache makes db's KeptUsersByIDs, KeptShopsByIDs, UserInSession
// and AppByID served from c, and db's writes to users, shops, sessions and
// apps forget what c keeps of them before they return. Call it before
// serving; nil turns keeping off.
func (db *DB) UseProfileCache(c *ProfileCache) { db.profiles = c }

// KeptUsersByIDs is UsersByIDs, served from the process's ProfileCache
// (UseProfileCache) for the users it keeps; the others are read in one
// statement and kept. The users returned are shared: callers do not change
// them.
func (db *DB) KeptUsersByIDs(ctx context.Context, ids []int64) (map[int64]*User, error) {
	c := db.profiles
	if c == nil || c.profileTTL <= 0 {
		return db.UsersByIDs(ctx, ids)
	}
	return keptByIDs(c, keptUsers, 'u', c.profileTTL, ids, func(ids []int64) (map[int64]*User, error) { return db.UsersByIDs(ctx, ids) })
}

// KeptShopsByIDs is ShopsByIDs, served from the process's ProfileCache as
// KeptUsersByIDs is.
func (db *DB) KeptShopsByIDs(ctx context.Context, ids []int64) (map[int64]*Shop, error) {
	c := db.profiles
	if c == nil || c.profileTTL <= 0 {
		return db.ShopsByIDs(ctx, ids)
	}
	return keptByIDs(c, keptShops, 's', c.profileTTL, ids, func(ids []int64) (map[int64]*Shop, error) { return db.ShopsByIDs(ctx, ids) })
}

// UserForToken is UserByID for the subject of a token issued outside a
// session (an app's token, a person's without one): one statement, or none
// when the process's ProfileCache (UseProfileCache) read the user less than
// SESSION_CACHE_TTL ago and heard of no change to them since. ENotFound
// when the user is gone.
func (db *DB) UserForToken(ctx context.Context, id int64) (*User, error) {
	c := db.profiles
	if c == nil || c.sessionTTL <= 0 {
		return db.UserByID(ctx, id)
	}
	got, err := keptByIDs(c, keptUsers, 'u', c.sessionTTL, []int64{id}, func(ids []int64) (map[int64]*User, error) { return db.UsersByIDs(ctx, ids) })
	if err != nil {
		return nil, err
	}
	if u, ok := got[id]; ok {
		return u, nil
	}
	return nil, Errorf(ENotFound, "user not found")
}

// The maps of a ProfileCache, picked under its lock (forgetting everything
// replaces them).
func keptUsers(c *ProfileCache) map[int64]kept[*User] { return c.users }
func keptShops(c *ProfileCache) map[int64]kept[*Shop] { return c.shops }
func keptApps(c *ProfileCache) map[int64]kept[*App]   { return c.apps }

// keptByIDs serves ids from the map pick chooses (entries younger than
// ttl), reads the others with read and keeps them unless forgotten
// meanwhile. kind names the map's rows in notifications.
func keptByIDs[T any](c *ProfileCache, pick func(*ProfileCache) map[int64]kept[T], kind byte, ttl time.Duration, ids []int64, read func([]int64) (map[int64]T, error)) (map[int64]T, error) {
	out := make(map[int64]T, len(ids))
	var missing []int64
	began := c.now()
	c.mu.Lock()
	m := pick(c)
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		if e, ok := m[id]; ok && !c.deaf && began.Sub(e.at) < ttl {
			out[id] = e.v
			continue
		}
		missing = append(missing, id)
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := read(missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m = pick(c)
	keep := c.keepableLocked(began)
	if keep && len(m)+len(got) > maxKeptProfiles {
		for id, e := range m {
			if began.Sub(e.at) >= ttl {
				delete(m, id)
			}
		}
		if len(m)+len(got) > maxKeptProfiles {
			clear(m)
		}
	}
	for id, v := range got {
		out[id] = v
		if keep && c.unforgottenLocked(began, rowKey{kind, id}) {
			m[id] = kept[T]{v: v, at: began}
		}
	}
	return out, nil
}

// userInSession is UserInSession served from c: the user of an active
// session checked less than the session TTL ago, and never past the
// session's expiry.
func (c *ProfileCache) userInSession(ctx context.Context, db *DB, userID, sessionID int64) (*User, error) {
	began := c.now()
	c.mu.Lock()
	if e, ok := c.sessions[userID][sessionID]; ok && !c.deaf && began.Sub(e.at) < c.sessionTTL && began.Before(e.until) {
		c.mu.Unlock()
		return e.user, nil
	}
	c.mu.Unlock()
	u, left, err := db.userInSession(ctx, userID, sessionID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keepableLocked(began) && c.unforgottenLocked(began, rowKey{'u', userID}, rowKey{'f', sessionID}) {
		if len(c.sessionUser) >= maxKeptProfiles {
			c.pruneSessionsLocked(began)
		}
		byUser := c.sessions[userID]
		if byUser == nil {
			byUser = map[int64]keptSession{}
			c.sessions[userID] = byUser
		}
		byUser[sessionID] = keptSession{user: u, at: began, until: began.Add(left)}
		c.sessionUser[sessionID] = userID
	}
	return u, nil
}

// pruneSessionsLocked drops session checks older than the TTL, and all of
// them if that is not enough.
func (c *ProfileCache) pruneSessionsLocked(now time.Time) {
	for uid, byUser := range c.sessions {
		for sid, e := range byUser {
			if now.Sub(e.at) >= c.sessionTTL || !now.Before(e.until) {
				delete(byUser, sid)
				delete(c.sessionUser, sid)
			}
		}
		if len(byUser) == 0 {
			delete(c.sessions, uid)
		}
	}
	if len(c.sessionUser) >= maxKeptProfiles {
		c.sessions, c.sessionUser = map[int64]map[int64]keptSession{}, map[int64]int64{}
	}
}

// appByID is AppByID served from c for the session TTL.
func (c *ProfileCache) appByID(ctx context.Context, db *DB, id int64) (*App, error) {
	got, err := keptByIDs(c, keptApps, 'a', c.sessionTTL, []int64{id}, func([]int64) (map[int64]*App, error) {
		app, err := db.appByID(ctx, id)
		if err != nil {
			return nil, err
		}
		return map[int64]*App{id: app}, nil
	})
	if err != nil {
		return nil, err
	}
	return got[id], nil
}

// Forget drops what c keeps of the rows named as the notifications name
// them ("u:1", "s:2", "f:3", "a:4"; a user takes their sessions with them)
// and keeps rows being read at this moment from being kept. Other lines are
// ignored.
func (c *ProfileCache) Forget(names ...string) {
	if c == nil || len(names) == 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range names {
		kind, v, ok := strings.Cut(n, ":")
		id, err := strconv.ParseInt(v, 10, 64)
		if ok && err == nil && len(kind) == 1 {
			c.forgetLocked(kind[0], id, now)
		}
	}
	c.pruneForgottenLocked(now, max(c.profileTTL, c.sessionTTL), maxKeptProfiles)
}

// forget is Forget for this process's own writes: kind is 'u', 's', 'f' or
// 'a' as in the notifications, ids the rows' ids.
func (c *ProfileCache) forget(kind byte, ids ...int64) {
	if c == nil || len(ids) == 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.forgetLocked(kind, id, now)
	}
	c.pruneForgottenLocked(now, max(c.profileTTL, c.sessionTTL), maxKeptProfiles)
}

// forgetLocked drops the row of kind and id (a user with their sessions) and
// notes it forgotten at now; an unknown kind is ignored. c.mu is held.
func (c *ProfileCache) forgetLocked(kind byte, id int64, now time.Time) {
	switch kind {
	case 'u':
		delete(c.users, id)
		for sid := range c.sessions[id] {
			delete(c.sessionUser, sid)
		}
		delete(c.sessions, id)
	case 's':
		delete(c.shops, id)
	case 'a':
		delete(c.apps, id)
	case 'f':
		if uid, ok := c.sessionUser[id]; ok {
			delete(c.sessions[uid], id)
			delete(c.sessionUser, id)
		}
	default:
		return
	}
	c.forgotten[rowKey{kind, id}] = now
}

// Listen forgets, in c, every row the triggers announce on ProfilesChannel
// until ctx ends, on a connection of its own; only once it has begun does c
// keep anything. When the connection is lost it forgets everything and
// keeps nothing until it has reconnected, then forgets everything again.
// When ctx ends it keeps nothing more. It returns once listening has begun,
// or the first error.
func (c *ProfileCache) Listen(ctx context.Context, dsn string) error {
	if c == nil {
		return nil
	}
	return c.listen(ctx, dsn, ProfilesChannel, "profiles", func(s string) { c.Forget(s) })
}
