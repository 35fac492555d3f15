package main

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimits are token buckets per caller: a signed-in user, an app, or the
// client address of anonymous callers. Credential checks (log-in, sign-up,
// refresh, log-out, the token endpoint) also draw from much smaller buckets
// per address, one token per attempt, against password and secret guessing.
type rateLimits struct {
	general, sensitive rate.Limit
	generalBurst       int
	sensitiveBurst     int

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// newRateLimits sizes the buckets: each caller sustains perSecond tokens
// with bursts of burst; each address may make authBurst credential checks at
// once and one more every authPeriod.
func newRateLimits(perSecond float64, burst, authBurst int, authPeriod time.Duration) *rateLimits {
	return &rateLimits{
		general: rate.Limit(perSecond), generalBurst: burst,
		sensitive: rate.Every(authPeriod), sensitiveBurst: authBurst,
		buckets: map[string]*bucket{},
	}
}

// Allow implements graph.RateLimiter.
func (l *rateLimits) Allow(key string, sensitive bool, cost int) (bool, time.Duration) {
	limit, burst := l.general, l.generalBurst
	if sensitive {
		key, limit, burst = "auth:"+key, l.sensitive, l.sensitiveBurst
	}
	now := time.Now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{limiter: rate.NewLimiter(limit, burst)}
		l.buckets[key] = b
	}
	b.seen = now
	l.sweepLocked(now)
	l.mu.Unlock()
	cost = min(max(cost, 1), burst)
	r := b.limiter.ReserveN(now, cost)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// Burst implements graph.RateLimiter.
func (l *rateLimits) Burst(sensitive bool) int {
	if sensitive {
		return l.sensitiveBurst
	}
	return l.generalBurst
}

// sweepLocked forgets idle callers so the map stays bounded.
func (l *rateLimits) sweepLocked(now time.Time) {
	if now.Sub(l.sweep) < time.Minute {
		return
	}
	l.sweep = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) > 10*time.Minute {
			delete(l.buckets, k)
		}
	}
}

// tooManyRequests answers 429 with Retry-After in whole seconds.
func tooManyRequests(w http.ResponseWriter, retryAfter time.Duration, body string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(body))
}

// limitTokenEndpoint applies the sensitive bucket of the client address.
func (l *rateLimits) limitTokenEndpoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := l.Allow("ip:"+clientIP(r), true, 1); !ok {
			tooManyRequests(w, wait, `{"error":"slow_down","error_description":"too many token requests; retry later"}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
