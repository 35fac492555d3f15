// Package live carries live-session events between server replicas through
// PostgreSQL LISTEN/NOTIFY and fans them out to each replica's subscribers.
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"

	"showcase/store"
)

// channel is the PostgreSQL notification channel every replica listens on.
const channel = "showcase_live"

// Event kinds.
const (
	KindComment  = "comment"
	KindPinned   = "pinned"
	KindPurchase = "purchase"
	KindStatus   = "status"
	KindViewers  = "viewers"
	// KindDropped tells one subscriber how many events it missed for being slow.
	KindDropped = "dropped"
)

// Event is one thing that happened in a live session. Only ids and small
// values travel through NOTIFY (its payload is limited to 8000 bytes); each
// replica loads what they point at once, for all its subscribers.
type Event struct {
	SessionID   int64  `json:"s"`
	Kind        string `json:"k"`
	CommentID   int64  `json:"c,omitempty"`
	ProductID   int64  `json:"p,omitempty"`
	Quantity    int    `json:"q,omitempty"`
	BuyerHandle string `json:"b,omitempty"`
	Status      string `json:"st,omitempty"`
	Count       int    `json:"n,omitempty"`
	Replica     string `json:"r,omitempty"`

	// Loaded on arrival.
	Comment *store.Comment `json:"-"`
	Author  *store.User    `json:"-"`
	Product *store.Product `json:"-"`
}

// SubscriberBuffer is how many events a subscriber may fall behind before
// events are dropped for it (and it is told how many).
const SubscriberBuffer = 64

// Subscription is one subscriber's stream of a session's events.
type Subscription struct {
	SessionID int64
	C         chan Event

	mu      sync.Mutex
	dropped int
}

// deliver never blocks: a subscriber that does not keep up loses events
// instead of slowing the others, and learns how many with its next event.
func (s *Subscription) deliver(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped > 0 {
		select {
		case s.C <- Event{SessionID: s.SessionID, Kind: KindDropped, Count: s.dropped}:
			s.dropped = 0
		default:
			s.dropped++
			return
		}
	}
	select {
	case s.C <- e:
	default:
		s.dropped++
	}
}

// Dropped returns how many events the subscriber has missed and not yet been told of.
func (s *Subscription) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// viewerCount is one replica's viewers of a session, as last announced.
type viewerCount struct {
	count int
	at    time.Time
}

// Timings of the viewer count.
const (
	viewerAnnounceEvery = 500 * time.Millisecond // coalesces joins and leaves
	viewerHeartbeat     = 10 * time.Second
	viewerStaleAfter    = 30 * time.Second // a replica that died stops counting
)

// Hub is a replica's end of the live event bus.
type Hub struct {
	db      *store.DB
	dsn     string
	replica string

	mu       sync.Mutex
	subs     map[int64]map[*Subscription]struct{}
	local    map[int64]int                    // this replica's viewers per session
	dirty    map[int64]bool                   // sessions whose local count changed
	remote   map[int64]map[string]viewerCount // every replica's viewers per session
	lastSent map[int64]int                    // total last told to subscribers

	listener *pq.Listener
	done     chan struct{}
}

// NewHub returns a hub; Start connects it.
func NewHub(db *store.DB, dsn string) *Hub {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Hub{
		db: db, dsn: dsn, replica: hex.EncodeToString(b),
		subs: map[int64]map[*Subscription]struct{}{}, local: map[int64]int{}, dirty: map[int64]bool{},
		remote: map[int64]map[string]viewerCount{}, lastSent: map[int64]int{}, done: make(chan struct{}),
	}
}

// Start listens for events until ctx ends. lib/pq's listener reconnects by
// itself when the database connection drops.
func (h *Hub) Start(ctx context.Context) error {
	h.listener = pq.NewListener(h.dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			slog.Warn("live listener", "event", ev, "err", err)
		}
	})
	if err := h.listener.Listen(channel); err != nil {
		h.listener.Close()
		return fmt.Errorf("listen for live events: %w", err)
	}
	go h.run(ctx)
	return nil
}

// Done is closed when the hub has stopped.
func (h *Hub) Done() <-chan struct{} { return h.done }

func (h *Hub) run(ctx context.Context) {
	defer close(h.done)
	defer h.listener.Close()
	announce := time.NewTicker(viewerAnnounceEvery)
	defer announce.Stop()
	heartbeat := time.NewTicker(viewerHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			h.closeAll()
			return
		case n := <-h.listener.Notify:
			if n == nil { // reconnected: notifications may have been missed
				continue
			}
			var e Event
			if err := json.Unmarshal([]byte(n.Extra), &e); err != nil {
				slog.Warn("bad live event", "err", err)
				continue
			}
			h.receive(ctx, e)
		case <-announce.C:
			h.announceViewers(ctx, false)
		case <-heartbeat.C:
			h.announceViewers(ctx, true)
			_ = h.listener.Ping()
		}
	}
}

// Publish sends an event to every replica, this one included.
func (h *Hub) Publish(ctx context.Context, e Event) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = h.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, string(payload))
	return err
}

// receive loads what an event points at and fans it out locally.
func (h *Hub) receive(ctx context.Context, e Event) {
	if e.Kind == KindViewers {
		h.countViewers(e)
		return
	}
	if err := h.load(ctx, &e); err != nil {
		slog.Error("load live event", "kind", e.Kind, "err", err)
		return
	}
	h.fanOut(e)
}

func (h *Hub) load(ctx context.Context, e *Event) error {
	if e.CommentID != 0 {
		comments, err := h.db.CommentsByIDs(ctx, []int64{e.CommentID})
		if err != nil {
			return err
		}
		if e.Comment = comments[e.CommentID]; e.Comment == nil {
			return fmt.Errorf("comment %d not found", e.CommentID)
		}
		if e.Author, err = h.db.UserByID(ctx, e.Comment.AuthorID); err != nil {
			return err
		}
	}
	if e.ProductID != 0 {
		products, err := h.db.ProductsByIDs(ctx, []int64{e.ProductID})
		if err != nil {
			return err
		}
		if e.Product = products[e.ProductID]; e.Product == nil {
			return fmt.Errorf("product %d not found", e.ProductID)
		}
	}
	return nil
}

func (h *Hub) fanOut(e Event) {
	h.mu.Lock()
	subs := make([]*Subscription, 0, len(h.subs[e.SessionID]))
	for s := range h.subs[e.SessionID] {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.deliver(e)
	}
}

// Subscribe starts a subscriber's stream; it counts as a viewer until Unsubscribe.
func (h *Hub) Subscribe(sessionID int64) *Subscription {
	s := &Subscription{SessionID: sessionID, C: make(chan Event, SubscriberBuffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[sessionID] == nil {
		h.subs[sessionID] = map[*Subscription]struct{}{}
	}
	h.subs[sessionID][s] = struct{}{}
	h.local[sessionID]++
	h.dirty[sessionID] = true
	return s
}

// Unsubscribe ends a stream; its viewer leaves the count.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s.SessionID][s]; !ok {
		return
	}
	delete(h.subs[s.SessionID], s)
	if len(h.subs[s.SessionID]) == 0 {
		delete(h.subs, s.SessionID)
	}
	h.local[s.SessionID]--
	h.dirty[s.SessionID] = true
}

// Viewers returns a session's viewers across every replica.
func (h *Hub) Viewers(sessionID int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.totalLocked(sessionID)
}

func (h *Hub) totalLocked(sessionID int64) int {
	total := h.local[sessionID]
	for replica, vc := range h.remote[sessionID] {
		if replica != h.replica && time.Since(vc.at) < viewerStaleAfter {
			total += vc.count
		}
	}
	return total
}

// announceViewers tells every replica this one's changed counts (or all of
// them, as a heartbeat) and tells local subscribers of changed totals.
func (h *Hub) announceViewers(ctx context.Context, all bool) {
	h.mu.Lock()
	var events []Event
	for id, n := range h.local {
		if all || h.dirty[id] {
			events = append(events, Event{SessionID: id, Kind: KindViewers, Count: n, Replica: h.replica})
		}
		if n == 0 {
			delete(h.local, id)
		}
	}
	h.dirty = map[int64]bool{}
	h.mu.Unlock()
	for _, e := range events {
		if err := h.Publish(ctx, e); err != nil && ctx.Err() == nil {
			slog.Warn("announce live viewers", "err", err)
		}
	}
}

func (h *Hub) countViewers(e Event) {
	h.mu.Lock()
	if e.Replica != h.replica {
		if h.remote[e.SessionID] == nil {
			h.remote[e.SessionID] = map[string]viewerCount{}
		}
		h.remote[e.SessionID][e.Replica] = viewerCount{count: e.Count, at: time.Now()}
	}
	total := h.totalLocked(e.SessionID)
	changed := h.lastSent[e.SessionID] != total
	h.lastSent[e.SessionID] = total
	h.mu.Unlock()
	if changed {
		h.fanOut(Event{SessionID: e.SessionID, Kind: KindViewers, Count: total})
	}
}

// closeAll ends every stream on shutdown.
func (h *Hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, subs := range h.subs {
		for s := range subs {
			close(s.C)
		}
		delete(h.subs, id)
	}
}

// Subscribers returns how many streams this replica is serving.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.subs {
		n += len(subs)
	}
	return n
}
