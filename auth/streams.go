package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// StreamEnd says why a stream (websocket or Server-Sent Events) was ended
// by its credential. Reason is stable and shown to clients in
// extensions.reason; Message is for people.
type StreamEnd struct {
	Reason  string
	Message string
}

// Error returns the message.
func (e *StreamEnd) Error() string { return e.Message }

// Why a stream's credential ended it.
var (
	// ErrTokenExpired: the access token reached its expiry.
	ErrTokenExpired = &StreamEnd{Reason: "TOKEN_EXPIRED", Message: "the access token expired; reconnect with a fresh one"}
	// ErrSessionEnded: the person logged out, or a reused refresh token
	// ended the session.
	ErrSessionEnded = &StreamEnd{Reason: "SESSION_ENDED", Message: "the session was ended; sign in again"}
	// ErrAppRevoked: the app the token was issued to was revoked.
	ErrAppRevoked = &StreamEnd{Reason: "APP_REVOKED", Message: "the app was revoked"}
)

// StreamEndOf returns why ctx (one returned by StreamGuard.Hold) was ended
// by its credential, or nil while it lives or when it ended for another
// reason (the client left, the server is shutting down).
func StreamEndOf(ctx context.Context) *StreamEnd {
	var end *StreamEnd
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &end) {
		return end
	}
	return nil
}

// RevocationChecker tells which credentials were revoked; store.DB
// implements it in one statement.
type RevocationChecker interface {
	// EndedCredentials returns, of the given apps and sessions, the apps
	// that were revoked and the sessions that ended.
	EndedCredentials(ctx context.Context, appIDs, sessionIDs []int64) (apps, sessions []int64, err error)
}

// DefaultStreamCheckInterval is how often a StreamGuard asks the database
// whether the credentials of open streams were revoked: revocation ends a
// stream on any replica within about this long.
const DefaultStreamCheckInterval = 2 * time.Second

// StreamGuard ends streams when their credential does: at the token's
// expiry (a timer, no query), and within one check interval of the app being
// revoked or the session being ended on any replica. One goroutine per
// process checks every held stream's credentials with one statement per
// interval, whatever the number of streams, and only while some are held.
// If a check fails (database unavailable) streams go on until the next one
// that succeeds; expiry still ends them.
type StreamGuard struct {
	check    RevocationChecker
	interval time.Duration

	mu      sync.Mutex
	held    map[*heldStream]struct{}
	running bool
	idle    chan struct{}
}

type heldStream struct {
	appID, sessionID int64
	end              context.CancelCauseFunc
}

// NewStreamGuard returns a guard checking revocation with check every
// interval (DefaultStreamCheckInterval when not positive). A nil check
// guards expiry only.
func NewStreamGuard(check RevocationChecker, interval time.Duration) *StreamGuard {
	if interval <= 0 {
		interval = DefaultStreamCheckInterval
	}
	return &StreamGuard{check: check, interval: interval, held: map[*heldStream]struct{}{}, idle: make(chan struct{}, 1)}
}

// Hold returns a context that ends when the credential c does, with a
// *StreamEnd cause (see StreamEndOf), and a release function the caller must
// call when the stream ends for any reason.
func (g *StreamGuard) Hold(ctx context.Context, c Claims) (context.Context, func()) {
	ctx, stopDeadline := context.WithDeadlineCause(ctx, c.ExpiresAt, ErrTokenExpired)
	h := &heldStream{appID: c.AppID}
	if c.AppID == 0 {
		h.sessionID = c.SessionID
	}
	if g.check == nil || (h.appID == 0 && h.sessionID == 0) {
		return ctx, stopDeadline
	}
	ctx, h.end = context.WithCancelCause(ctx)
	g.mu.Lock()
	g.held[h] = struct{}{}
	start := !g.running
	g.running = true
	g.mu.Unlock()
	if start {
		go g.run()
	}
	return ctx, func() {
		g.mu.Lock()
		delete(g.held, h)
		empty := len(g.held) == 0
		g.mu.Unlock()
		if empty {
			select {
			case g.idle <- struct{}{}:
			default:
			}
		}
		h.end(context.Canceled)
		stopDeadline()
	}
}

// run checks the held streams every interval and returns once none is held.
func (g *StreamGuard) run() {
	timer := time.NewTimer(g.interval)
	defer timer.Stop()
	for {
		fired := false
		select {
		case <-timer.C:
			fired = true
		case <-g.idle:
		}
		g.mu.Lock()
		if len(g.held) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		if !fired { // a stream was released while others remain: keep waiting
			g.mu.Unlock()
			continue
		}
		var apps, sessions []int64
		seenApp, seenSession := map[int64]bool{}, map[int64]bool{}
		for h := range g.held {
			if h.appID != 0 && !seenApp[h.appID] {
				seenApp[h.appID] = true
				apps = append(apps, h.appID)
			}
			if h.sessionID != 0 && !seenSession[h.sessionID] {
				seenSession[h.sessionID] = true
				sessions = append(sessions, h.sessionID)
			}
		}
		g.mu.Unlock()
		g.checkOnce(apps, sessions)
		timer.Reset(g.interval)
	}
}

func (g *StreamGuard) checkOnce(apps, sessions []int64) {
	ctx, cancel := context.WithTimeout(context.Background(), g.interval)
	defer cancel()
	endedApps, endedSessions, err := g.check.EndedCredentials(ctx, apps, sessions)
	if err != nil {
		slog.Warn("check stream credentials", "err", err)
		return
	}
	if len(endedApps) == 0 && len(endedSessions) == 0 {
		return
	}
	revokedApp, endedSession := map[int64]bool{}, map[int64]bool{}
	for _, id := range endedApps {
		revokedApp[id] = true
	}
	for _, id := range endedSessions {
		endedSession[id] = true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for h := range g.held {
		switch {
		case h.appID != 0 && revokedApp[h.appID]:
			h.end(ErrAppRevoked)
		case h.sessionID != 0 && endedSession[h.sessionID]:
			h.end(ErrSessionEnded)
		}
	}
}
