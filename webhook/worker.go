package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"showcase/store"
)

// Defaults of Settings.
const (
	DefaultInterval       = time.Second
	DefaultAttemptTimeout = 10 * time.Second
	DefaultMaxAge         = 24 * time.Hour
	DefaultRetryBase      = 10 * time.Second
	// DefaultRetention is how long settled deliveries and their events are
	// kept (WEBHOOK_RETENTION).
	DefaultRetention = 30 * 24 * time.Hour
	// MaintenanceEvery is how often a worker sweeps the delivery log and
	// reseals webhook secrets under the current key.
	MaintenanceEvery = 10 * time.Minute
	// sweepBatch bounds the rows one sweep statement deletes.
	sweepBatch = 1000
	// MaxRetryDelay caps the delay between two attempts.
	MaxRetryDelay = time.Hour
	// batch is how many deliveries one worker sends at once.
	batch = 16
)

// Headers of every delivery.
const (
	HeaderID        = "Showcase-Webhook-Id"
	HeaderTimestamp = "Showcase-Webhook-Timestamp"
	HeaderTopic     = "Showcase-Webhook-Topic"
	HeaderSignature = "Showcase-Webhook-Signature"
)

// Settings tune the delivery worker; zero fields take the defaults.
type Settings struct {
	// Interval is how often the worker looks for due deliveries when it
	// found none the last time.
	Interval time.Duration
	// AttemptTimeout bounds one attempt: connecting, sending, and reading
	// the answer.
	AttemptTimeout time.Duration
	// MaxAge is how long a delivery is retried, from its first attempt (or
	// a redelivery), before it is FAILED.
	MaxAge time.Duration
	// RetryBase is the delay after the first failed attempt; each further
	// failure doubles it (up to MaxRetryDelay), with ±25% jitter.
	RetryBase time.Duration
	// Retention is how long a delivery is kept after it settled (DELIVERED
	// or FAILED), and an event after its last delivery went; pending ones
	// are kept however old.
	Retention time.Duration
}

func (s Settings) withDefaults() Settings {
	if s.Interval <= 0 {
		s.Interval = DefaultInterval
	}
	if s.AttemptTimeout <= 0 {
		s.AttemptTimeout = DefaultAttemptTimeout
	}
	if s.MaxAge <= 0 {
		s.MaxAge = DefaultMaxAge
	}
	if s.RetryBase <= 0 {
		s.RetryBase = DefaultRetryBase
	}
	if s.Retention <= 0 {
		s.Retention = DefaultRetention
	}
	return s
}

// RetryDelay is the delay before the attempt after the given failed one
// (1-based), before jitter: RetryBase·2^(attempt−1), at most MaxRetryDelay.
func (s Settings) RetryDelay(attempt int) time.Duration {
	s = s.withDefaults()
	d := s.RetryBase
	for i := 1; i < attempt && d < MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, MaxRetryDelay)
}

// SignatureHeader is the value of Showcase-Webhook-Signature: the
// signature (Sign) with each secret, newest first, separated by ", " (one
// secret but during a rotation's overlap, when the replaced secret signs
// too).
func SignatureHeader(timestamp string, body []byte, secrets ...string) string {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			sigs = append(sigs, Sign(s, timestamp, body))
		}
	}
	return strings.Join(sigs, ", ")
}

// Sign returns the signature of a delivery: the lowercase hex HMAC-SHA256,
// keyed with the app's webhook secret, of the timestamp (Unix seconds, as
// sent in Showcase-Webhook-Timestamp), a dot, and the body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header, a Showcase-Webhook-Signature value (one
// signature or several separated by commas), holds the valid signature of
// the body and timestamp with secret, comparing in constant time.
// (Receivers should also refuse timestamps far from their clock, to stop
// replays.)
func Verify(secret, timestamp string, body []byte, header string) bool {
	want := []byte(Sign(secret, timestamp, body))
	ok := false
	for _, sig := range strings.Split(header, ",") {
		if hmac.Equal(want, []byte(strings.TrimSpace(sig))) {
			ok = true
		}
	}
	return ok
}

// Worker sends due deliveries. Every replica runs one; a delivery is sent by
// the worker that holds its lease, so each attempt happens once.
type Worker struct {
	DB       *store.DB
	Policy   Policy
	Settings Settings

	clientOnce sync.Once
	client     *http.Client
}

// httpClient is the client deliveries go out with: no proxy, no redirects
// followed, each attempt bounded by AttemptTimeout, and in production a
// dialer that refuses non-public addresses after resolving.
func (w *Worker) httpClient() *http.Client {
	w.clientOnce.Do(func() {
		s := w.Settings.withDefaults()
		dialer := &net.Dialer{Timeout: s.AttemptTimeout, Resolver: w.Policy.Resolver}
		if w.Policy.Production {
			dialer.Control = dialControl
		}
		w.client = &http.Client{
			Timeout: s.AttemptTimeout,
			Transport: &http.Transport{
				Proxy:                 nil,
				DialContext:           dialer.DialContext,
				TLSHandshakeTimeout:   s.AttemptTimeout,
				ResponseHeaderTimeout: s.AttemptTimeout,
				MaxIdleConnsPerHost:   4,
				IdleConnTimeout:       30 * time.Second,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
	return w.client
}

// Run delivers until ctx ends: it claims due deliveries, sends them, records
// each outcome, and waits Settings.Interval when none were due.
func (w *Worker) Run(ctx context.Context) {
	s := w.Settings.withDefaults()
	var maintained time.Time
	for {
		if time.Since(maintained) >= MaintenanceEvery {
			maintained = time.Now()
			if err := w.Maintain(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("webhook maintenance", "err", err)
			}
		}
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			slog.Warn("webhook deliveries", "err", err)
		}
		if n == batch && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.Interval):
		}
	}
}

// Maintain deletes the settled deliveries and events older than
// Settings.Retention (store.SweepWebhookLog, in batches until none is left)
// and reseals webhook secrets not sealed with the current key
// (store.ResealWebhookSecrets). Every replica runs it every
// MaintenanceEvery; both are safe to run at once.
func (w *Worker) Maintain(ctx context.Context) error {
	s := w.Settings.withDefaults()
	for ctx.Err() == nil {
		d, e, err := w.DB.SweepWebhookLog(ctx, s.Retention, sweepBatch)
		if err != nil {
			return err
		}
		if d < sweepBatch && e < sweepBatch {
			break
		}
	}
	for ctx.Err() == nil {
		n, err := w.DB.ResealWebhookSecrets(ctx, sweepBatch)
		if err != nil {
			return err
		}
		if n < sweepBatch {
			break
		}
	}
	return ctx.Err()
}

// RunOnce claims up to one batch of due deliveries and sends them at once,
// returning how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	s := w.Settings.withDefaults()
	attempts, err := w.DB.ClaimWebhookDeliveries(ctx, batch, s.AttemptTimeout+10*time.Second)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := w.send(ctx, a)
			if ctx.Err() != nil {
				// Shutting down: the attempt was cut short, not refused.
				// Let go at once so that another replica (or this one,
				// restarted) sends it without waiting for the lease.
				if err := w.DB.ReleaseWebhookAttempt(context.WithoutCancel(ctx), a); err != nil {
					slog.Warn("webhook delivery lease not released; it is sent again when its lease runs out", "delivery", a.DeliveryID, "err", err)
				}
				return
			}
			if !out.Delivered && !out.Final {
				out.RetryIn = jitter(s.RetryDelay(a.Attempt))
			}
			if err := w.DB.FinishWebhookAttempt(context.WithoutCancel(ctx), a, out, s.MaxAge); err != nil {
				slog.Warn("webhook delivery outcome not recorded; it is sent again when its lease runs out", "delivery", a.DeliveryID, "err", err)
			}
		}()
	}
	wg.Wait()
	return len(attempts), nil
}

// jitter spreads d by ±25%, so receivers that failed together are not all
// retried at the same moment.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}

// send makes one attempt.
func (w *Worker) send(ctx context.Context, a *store.WebhookAttempt) store.WebhookOutcome {
	switch {
	case a.SecretError != "":
		// A configuration problem of this server (WEBHOOK_SECRET_KEYS lacks
		// the key): retried, so that a fixed server still delivers.
		slog.Error("webhook secret cannot be opened; check WEBHOOK_SECRET_KEYS", "delivery", a.DeliveryID, "err", a.SecretError)
		return store.WebhookOutcome{Error: "the server could not sign the delivery; it is retried"}
	case a.URL == "":
		return store.WebhookOutcome{Error: "the subscription was deleted", Final: true}
	case a.Secret == "":
		return store.WebhookOutcome{Error: "the app was revoked", Final: true}
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, bytes.NewReader(a.Body))
	if err != nil {
		return store.WebhookOutcome{Error: "the callback URL is not valid"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Showcase-Webhooks/1")
	req.Header.Set(HeaderID, a.EventID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderTopic, a.Topic)
	req.Header.Set(HeaderSignature, SignatureHeader(ts, a.Body, a.Secret, a.PreviousSecret))
	if w.Policy.Production && req.URL.Scheme != "https" {
		return store.WebhookOutcome{Error: "the callback URL must use https"}
	}
	resp, err := w.httpClient().Do(req)
	if err != nil {
		return store.WebhookOutcome{Error: attemptError(err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, store.MaxStoredResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	return store.WebhookOutcome{
		Delivered:    resp.StatusCode >= 200 && resp.StatusCode < 300,
		ResponseCode: resp.StatusCode,
		ResponseBody: string(body),
	}
}

// attemptError says why an attempt got no answer, without internals.
func attemptError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrBlockedAddress):
		return ErrBlockedAddress.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	default:
		var oe *net.OpError
		if errors.As(err, &oe) {
			return fmt.Sprintf("could not connect (%s)", oe.Op)
		}
		return "the request failed"
	}
}
