package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// rowKey names a row a per-process cache keeps, as its notifications name
// it: a kind ('u' user, 's' shop, 'f' session, 'a' app, 'p' product, 'c'
// content) and the row's id.
type rowKey struct {
	kind byte
	id   int64
}

// forgetting is the bookkeeping the per-process caches share
// (FiguresCache, CatalogCache, ProfileCache): their lock, when each row and
// when everything was last forgotten, and whether their listener hears the
// changes other processes announce. A row read by a statement that began
// before a forget of it, or of everything, is not kept (it may predate the
// write), and nothing is kept while the listener is not connected: from
// creation until Listen has begun, while its connection is lost, and once
// its context has ended. Every field but mu is read and written under mu.
type forgetting struct {
	mu  sync.Mutex
	now func() time.Time
	// clear drops everything the owning cache keeps (under mu).
	clear func()
	// forgotten is when each row was last forgotten (pruned after the
	// cache's TTL: a row read before then is older than the TTL anyway).
	forgotten map[rowKey]time.Time
	// allForgotten is when everything was last forgotten.
	allForgotten time.Time
	// deaf is set until listen has begun, while its connection is lost and
	// once it has ended: changes are not heard, so nothing is kept.
	deaf bool
	// heard counts the listener's connection events (listening).
	heard int
}

// init makes f deaf and empty; clear drops what its owner keeps.
func (f *forgetting) init(clear func()) {
	f.now, f.clear, f.deaf = time.Now, clear, true
	f.forgetAllLocked()
}

// keepableLocked reports whether rows read by a statement that began at
// began may be kept: the cache is listening and nothing was forgotten as a
// whole since.
func (f *forgetting) keepableLocked(began time.Time) bool {
	return !f.deaf && f.allForgotten.Before(began)
}

// unforgottenLocked reports whether none of keys was forgotten since began.
func (f *forgetting) unforgottenLocked(began time.Time, keys ...rowKey) bool {
	for _, k := range keys {
		if at, ok := f.forgotten[k]; ok && !at.Before(began) {
			return false
		}
	}
	return true
}

// pruneForgottenLocked drops the forget times older than ttl once there are
// more than max of them.
func (f *forgetting) pruneForgottenLocked(now time.Time, ttl time.Duration, max int) {
	if len(f.forgotten) <= max {
		return
	}
	for k, at := range f.forgotten {
		if now.Sub(at) >= ttl {
			delete(f.forgotten, k)
		}
	}
}

// forgetAll drops everything kept, and keeps what statements under way
// read from being kept.
func (f *forgetting) forgetAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgetAllLocked()
}

func (f *forgetting) forgetAllLocked() {
	f.clear()
	f.forgotten = map[rowKey]time.Time{}
	f.allForgotten = f.now()
}

// listening records whether the listening connection is up: either way
// everything is forgotten (a notification may have been missed; the pool
// may reach a restarted PostgreSQL before the listener reconnects), and
// while it is down nothing is kept.
func (f *forgetting) listening(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heard++
	f.deaf = !up
	f.forgetAllLocked()
}

// listen forgets, until ctx ends, what notifications on channel name, each
// line given to line, on a connection of its own; only once it has begun is
// anything kept. When the connection is lost everything is forgotten and
// nothing kept until it has reconnected; then everything is forgotten
// again. When ctx ends nothing more is kept. It returns once listening has
// begun, or the first error (name says which cache in it and in logs).
func (f *forgetting) listen(ctx context.Context, dsn, channel, name string, line func(string)) error {
	f.mu.Lock()
	heard := f.heard
	f.mu.Unlock()
	if err := listenForgetting(ctx, dsn, channel, name, f.listening, f.forgetAll, line); err != nil {
		return fmt.Errorf("%s cache: %w", name, err)
	}
	f.mu.Lock()
	if f.heard == heard { // no disconnection since listening began
		f.deaf = false
		f.forgetAllLocked()
	}
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.listening(false)
	}()
	return nil
}
