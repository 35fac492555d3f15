package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lib/pq"
)

// FeedProfilesChannel is the PostgreSQL notification channel on which API
// processes tell each other which interest profiles were written, so that
// each forgets the For You arrangements it keeps for them (FeedRankings).
const FeedProfilesChannel = "showcase_feed_profiles"

// maxNotifyPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxNotifyPayload = 7900

// profilePayloads joins profiles, one a line, into payloads that each fit
// one notification.
func profilePayloads(profiles []string) []string {
	var out []string
	var b strings.Builder
	for _, p := range profiles {
		if p == "" || len(p) > maxNotifyPayload {
			continue
		}
		if b.Len()+len(p)+1 > maxNotifyPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// notifyProfilesSQL sends each payload of $2 on channel $1: one statement.
const notifyProfilesSQL = `SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) p`

// AnnounceProfiles tells every API process listening (FeedRankings.Listen)
// that profiles were written, in one statement; the notification is
// delivered when it commits (at once outside a transaction).
func (db *DB) AnnounceProfiles(ctx context.Context, profiles []string) error {
	payloads := profilePayloads(profiles)
	if len(payloads) == 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, notifyProfilesSQL, FeedProfilesChannel, pq.Array(payloads)); err != nil {
		return fmt.Errorf("announce profiles: %w", err)
	}
	return nil
}

// Listen forgets, in f, the profiles any API process announces
// (AnnounceProfiles, and every event flush), until ctx ends. When the
// connection is lost it forgets everything it kept (a notification may
// have been missed) and keeps nothing until it has reconnected (the pool
// may reach a restarted PostgreSQL before the listener does), then forgets
// everything again. It returns once listening has begun,
// or the first error.
func (f *FeedRankings) Listen(ctx context.Context, dsn string) error {
	if f == nil {
		return nil
	}
	return listenForgetting(ctx, dsn, FeedProfilesChannel, "feed rankings", f.listening, f.forgetAll, f.Forget)
}

// listenForgetting listens on channel on a connection of its own until ctx
// ends, calling forget with each line of every notification's payload.
// When the connection is lost it calls listening(false), and on reconnect
// forgetAll (a notification may have been missed) and listening(true). It
// returns once listening has begun, or the first error. name labels its
// log lines.
func listenForgetting(ctx context.Context, dsn, channel, name string, listening func(bool), forgetAll func(), forget func(string)) error {
	l := pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected:
			listening(false)
		case pq.ListenerEventReconnected:
			listening(true)
		}
		if err != nil {
			slog.Warn(name+" listener", "event", ev, "err", err)
		}
	})
	if err := l.Listen(channel); err != nil {
		_ = l.Close()
		return fmt.Errorf("listen on %s: %w", channel, err)
	}
	go func() {
		defer l.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-l.Notify:
				if n == nil { // reconnected: notifications may have been lost
					forgetAll()
					continue
				}
				for _, p := range strings.Split(n.Extra, "\n") {
					forget(p)
				}
			}
		}
	}()
	return nil
}
