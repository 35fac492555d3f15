package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"showcase/auth"
	"showcase/media"
	"showcase/store"
	"showcase/store/payment"
	"showcase/webhook"
)

// config is everything the server reads from flags and the environment.
// Flags win over environment variables.
type config struct {
	Addr        string
	DatabaseURL string
	DataDir     string
	Seed        bool
	JWTSecret   string
	// Ed25519Keys, when set, switches token signing to EdDSA (JWT_ED25519_KEYS).
	Ed25519Keys string
	TokenTTL    time.Duration
	DBMaxConns  int
	// DatabaseReadURL, when set, is a streaming replica of DatabaseURL that
	// serves reads which tolerate lag (DATABASE_READ_URL), up to
	// ReadMaxLag behind (DATABASE_READ_MAX_LAG).
	DatabaseReadURL string
	ReadMaxLag      time.Duration
	// Reads is the opened replica (set at start from DatabaseReadURL).
	Reads *store.ReadReplica
	// FlushInterval is how often buffered engagement events are written.
	FlushInterval time.Duration
	// FlushWorkers is how many transactions at once a large flush of
	// engagement events is split into (EVENTS_FLUSH_WORKERS, default 2).
	FlushWorkers int
	// EventsBufferMax bounds the engagement events waiting for a flush
	// (EVENTS_BUFFER_MAX, default 200,000; at least 10,000); recordEvents
	// answers SERVICE_UNAVAILABLE (retryable) beyond what the flush writes
	// in half an interval.
	EventsBufferMax int
	// TopCreatorFollowers is where the TOP_CREATORS sales channel begins.
	TopCreatorFollowers int64
	// FeedWeights lift converting content in the feed.
	FeedWeights store.FeedWeights
	// FeedPolicy ranks the feed (FEED_POLICY: foryou, popular or tags).
	FeedPolicy string
	// ForYou weighs learning and the For You ranking (FORYOU_* settings).
	ForYou store.ForYouSettings
	// ScoreRefresh is how often the feed's scores of contents whose inputs
	// changed (store.RefreshChangedContentScores) are recomputed.
	ScoreRefresh time.Duration
	// Production hides the schema from all but admins (APP_ENV=production).
	Production bool
	// AllowedOrigins may open websockets from browsers besides the server's own host.
	AllowedOrigins []string
	// RateLimitRPS and RateLimitBurst size each caller's request bucket.
	RateLimitRPS   float64
	RateLimitBurst int
	// AuthRateLimitBurst and AuthRateLimitPeriod size each address's bucket
	// of credential checks: that many at once, one more every period.
	AuthRateLimitBurst  int
	AuthRateLimitPeriod time.Duration
	// DebugAddr, when set, serves net/http/pprof there (keep it on loopback).
	DebugAddr string
	// ResponseCacheTTL is how long anonymous query responses are shared (0: off).
	ResponseCacheTTL time.Duration
	// FeedRankingTTL is how long a viewer's For You first-page arrangement
	// is reused (FEED_RANKING_TTL; 0: every first page ranks).
	FeedRankingTTL time.Duration
	// FeedViewerTTL is how long a viewer's For You state is kept in this
	// process (FEED_VIEWER_TTL; 0: read for every ranked page).
	FeedViewerTTL time.Duration
	// FeedIndexMaxLag bounds how late a change reaches this process's feed
	// index, which For You ranks from (FEED_INDEX_MAX_LAG; 0: caught up
	// before every ranking).
	FeedIndexMaxLag time.Duration
	// FeedRankings keeps the arrangements (made by run, listening for
	// profile writes of other API processes); nil: routes makes one that
	// hears only this process's writes.
	FeedRankings *store.FeedRankings
	// FiguresTTL is how long a feed page's figures are shared between
	// requests (FIGURES_CACHE_TTL; 0: every page reads them).
	FiguresTTL time.Duration
	// Figures shares them (made by run, listening for other API processes'
	// likes and comments); nil: none shared.
	Figures *store.FiguresCache
	// ProfileTTL is how long a feed page's authors and shops are kept per
	// process (PROFILE_CACHE_TTL; 0: read for every page).
	ProfileTTL time.Duration
	// SessionTTL is how long a signed-in request's session or app check is
	// kept per process (SESSION_CACHE_TTL; 0: checked on every request).
	SessionTTL time.Duration
	// CatalogTTL is how long contents' product cards and products' variants
	// are kept in this process (CATALOG_CACHE_TTL; 0: read for every page).
	CatalogTTL time.Duration
	// Payments chooses and bounds the payment provider.
	Payments paymentConfig
	// MediaDir is the folder uploaded product images are kept in (MEDIA_DIR,
	// default DATA_DIR/media).
	MediaDir string
	// MaxUploadBytes bounds one uploaded file (UPLOAD_MAX_BYTES, default 10 MiB).
	MaxUploadBytes int64
	// Webhooks tunes the webhook delivery worker (WEBHOOK_* settings).
	Webhooks webhook.Settings
	// WebhookKeys seal apps' webhook secrets at rest (WEBHOOK_SECRET_KEYS);
	// nil stores them as they are.
	WebhookKeys *store.WebhookKeys
	// Media stores and serves uploads; run opens it at MediaDir. Nil turns
	// uploads off (and /media/ serves nothing).
	Media media.Store
	// MediaS3 puts media in an S3-compatible bucket instead of MediaDir
	// when its Endpoint is set (MEDIA_S3_ENDPOINT, MEDIA_S3_BUCKET,
	// MEDIA_S3_REGION, MEDIA_S3_ACCESS_KEY_ID, MEDIA_S3_SECRET_ACCESS_KEY,
	// MEDIA_S3_PREFIX, MEDIA_PUBLIC_URL); run connects to it at start.
	MediaS3 media.S3Config
	// MediaSweepInterval is how often stored files no row names are looked
	// for (MEDIA_SWEEP_INTERVAL, default 15m); MediaSweepGrace how old such
	// a file must be to be removed (MEDIA_SWEEP_GRACE, default 1h).
	MediaSweepInterval, MediaSweepGrace time.Duration
	// GuestCartRetention is how long a guest cart is kept after its last
	// change (GUEST_CART_RETENTION, default 720h = 30 days, at least 1h);
	// GuestCartSweepInterval how often each replica looks for carts past it
	// (GUEST_CART_SWEEP_INTERVAL, default 1h, at least 1m).
	GuestCartRetention, GuestCartSweepInterval time.Duration
	// AdmissionSlots bounds the GraphQL operations executing at once
	// (GRAPHQL_MAX_CONCURRENT, default DefaultAdmissionPerCPU × GOMAXPROCS;
	// 0: unbounded); AdmissionQueue how many more may wait for a turn, in
	// arrival order (GRAPHQL_MAX_QUEUED, default 1024), and AdmissionWait
	// for how long (GRAPHQL_MAX_QUEUE_WAIT, default 5s);
	// AdmissionQueuePerCaller how many of those places one caller (a user,
	// an app, an anonymous address: graph.CallerKey) may hold at once
	// (GRAPHQL_MAX_QUEUED_PER_CALLER, default 16).
	AdmissionSlots, AdmissionQueue, AdmissionQueuePerCaller int
	AdmissionWait                                           time.Duration
}

// paymentConfig is the payment provider and the bounds of its calls.
type paymentConfig struct {
	// Provider is "test" (the built-in provider, PostgreSQL-backed) or
	// "stripe" (PAYMENT_PROVIDER).
	Provider string
	// AllowTest lets production run the test provider (ALLOW_TEST_PAYMENTS).
	AllowTest bool
	// StripeSecretKey and StripeAPIBase configure the Stripe provider
	// (STRIPE_SECRET_KEY, STRIPE_API_BASE; an empty base is Stripe's API).
	StripeSecretKey string
	StripeAPIBase   string
	// Settings bound each provider call and when the reconciler settles
	// what a checkout left unsettled (PAYMENT_TIMEOUT, PAYMENT_SETTLE_AFTER).
	Settings store.PaymentSettings
	// ReconcileInterval is how often the reconciler sweeps
	// (PAYMENT_RECONCILE_INTERVAL).
	ReconcileInterval time.Duration
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{
		Addr:                envOr(getenv, "ADDR", "127.0.0.1:8080"),
		DatabaseURL:         getenv("DATABASE_URL"),
		DatabaseReadURL:     getenv("DATABASE_READ_URL"),
		ReadMaxLag:          store.DefaultReadMaxLag,
		DataDir:             envOr(getenv, "DATA_DIR", ".data"),
		JWTSecret:           getenv("JWT_SECRET"),
		Ed25519Keys:         strings.TrimSpace(getenv("JWT_ED25519_KEYS")),
		DebugAddr:           getenv("DEBUG_ADDR"),
		TokenTTL:            auth.DefaultAccessTTL,
		DBMaxConns:          20,
		FlushInterval:       time.Second,
		FlushWorkers:        store.DefaultFlushWorkers,
		EventsBufferMax:     store.DefaultMaxBufferedEvents,
		TopCreatorFollowers: store.DefaultTopCreatorFollowers,
		FeedWeights:         store.DefaultFeedWeights,
		FeedPolicy:          envOr(getenv, "FEED_POLICY", store.PolicyForYou),
		ForYou:              store.DefaultForYouSettings,
		ScoreRefresh:        time.Minute,
		RateLimitRPS:        20,
		RateLimitBurst:      60,
		AuthRateLimitBurst:  5,
		AuthRateLimitPeriod: 12 * time.Second,
		ResponseCacheTTL:    time.Second,
		FeedRankingTTL:      store.DefaultFeedRankingTTL,
		FiguresTTL:          store.DefaultFiguresTTL,
		ProfileTTL:          store.DefaultProfileTTL,
		SessionTTL:          store.DefaultSessionTTL,

		CatalogTTL:      store.DefaultCatalogTTL,
		FeedViewerTTL:   store.DefaultFeedViewerTTL,
		FeedIndexMaxLag: store.DefaultFeedIndexMaxLag,

		MediaSweepInterval:      store.DefaultMediaSweepInterval,
		MediaSweepGrace:         store.DefaultMediaSweepGrace,
		GuestCartRetention:      store.DefaultGuestCartRetention,
		GuestCartSweepInterval:  store.DefaultGuestCartSweepInterval,
		AdmissionSlots:          defaultAdmissionSlots(),
		AdmissionQueue:          DefaultAdmissionQueue,
		AdmissionQueuePerCaller: DefaultAdmissionQueuePerCaller,
		AdmissionWait:           DefaultAdmissionWait,
		MaxUploadBytes:          media.DefaultMaxUploadBytes,
		Payments: paymentConfig{
			Provider:          envOr(getenv, "PAYMENT_PROVIDER", "test"),
			StripeSecretKey:   getenv("STRIPE_SECRET_KEY"),
			StripeAPIBase:     getenv("STRIPE_API_BASE"),
			Settings:          store.PaymentSettings{Timeout: payment.DefaultTimeout, SettleAfter: store.DefaultSettleAfter},
			ReconcileInterval: store.DefaultReconcileInterval,
		},
	}
	if err := parsePaymentConfig(&cfg.Payments, getenv); err != nil {
		return cfg, err
	}
	if err := parseWebhookConfig(&cfg.Webhooks, getenv); err != nil {
		return cfg, err
	}
	keys, err := store.ParseWebhookKeys(getenv("WEBHOOK_SECRET_KEYS"))
	if err != nil {
		return cfg, fmt.Errorf("WEBHOOK_SECRET_KEYS: %w", err)
	}
	cfg.WebhookKeys = keys
	if cfg.Ed25519Keys != "" {
		// Checked now so that a bad key refuses to start instead of failing later.
		if _, _, err := ed25519Keys(cfg.Ed25519Keys); err != nil {
			return cfg, err
		}
	}
	if err := errors.Join(
		envDuration(getenv, "TOKEN_TTL", &cfg.TokenTTL, 1, forever, "a positive duration"),
		envInt(getenv, "DB_MAX_CONNS", &cfg.DBMaxConns, 1, math.MaxInt32, "a positive integer"),
		envDuration(getenv, "DATABASE_READ_MAX_LAG", &cfg.ReadMaxLag, store.DefaultReplicaPollInterval+1, forever,
			"a duration above "+store.DefaultReplicaPollInterval.String()),
		envDuration(getenv, "EVENTS_FLUSH_INTERVAL", &cfg.FlushInterval, 1, forever, "a positive duration"),
		envInt(getenv, "EVENTS_FLUSH_WORKERS", &cfg.FlushWorkers, 1, 16, "an integer from 1 to 16"),
		envInt(getenv, "EVENTS_BUFFER_MAX", &cfg.EventsBufferMax, 10_000, math.MaxInt32, "an integer of at least 10000"),
		envInt(getenv, "RATE_LIMIT_BURST", &cfg.RateLimitBurst, 1, math.MaxInt32, "a positive integer"),
		envInt(getenv, "AUTH_RATE_LIMIT_BURST", &cfg.AuthRateLimitBurst, 1, math.MaxInt32, "a positive integer"),
		envDuration(getenv, "AUTH_RATE_LIMIT_PERIOD", &cfg.AuthRateLimitPeriod, 1, forever, "a positive duration"),
		envDuration(getenv, "SCORES_REFRESH_INTERVAL", &cfg.ScoreRefresh, 1, forever, "a positive duration"),
		envDuration(getenv, "RESPONSE_CACHE_TTL", &cfg.ResponseCacheTTL, 0, forever, "a duration, 0 to turn the cache off"),
		// The per-process caches' bounds: each from 0 (what 0 means) to a
		// documented maximum (README, Settings).
		envDuration(getenv, "FEED_RANKING_TTL", &cfg.FeedRankingTTL, 0, time.Minute, "a duration from 0 (every first page ranks) to 1m"),
		envDuration(getenv, "FIGURES_CACHE_TTL", &cfg.FiguresTTL, 0, 10*time.Second, "a duration from 0 (every feed page reads its figures) to 10s"),
		envDuration(getenv, "PROFILE_CACHE_TTL", &cfg.ProfileTTL, 0, time.Minute, "a duration from 0 (every feed page reads its authors and shops) to 1m"),
		envDuration(getenv, "SESSION_CACHE_TTL", &cfg.SessionTTL, 0, 5*time.Second, "a duration from 0 (every signed-in request checks its session) to 5s"),
		envDuration(getenv, "CATALOG_CACHE_TTL", &cfg.CatalogTTL, 0, time.Minute, "a duration from 0 (every page reads its cards and variants) to 1m"),
		envDuration(getenv, "FEED_VIEWER_TTL", &cfg.FeedViewerTTL, 0, 10*time.Minute, "a duration from 0 (read for every ranked page) to 10m"),
		envDuration(getenv, "FEED_INDEX_MAX_LAG", &cfg.FeedIndexMaxLag, 0, time.Minute, "a duration from 0 (catch up before every ranking) to 1m"),
		envDuration(getenv, "MEDIA_SWEEP_INTERVAL", &cfg.MediaSweepInterval, time.Minute, forever, "a duration of at least 1m"),
		envDuration(getenv, "MEDIA_SWEEP_GRACE", &cfg.MediaSweepGrace, time.Minute, forever, "a duration of at least 1m"),
		envDuration(getenv, "GUEST_CART_RETENTION", &cfg.GuestCartRetention, time.Hour, forever, "a duration of at least 1h"),
		envDuration(getenv, "GUEST_CART_SWEEP_INTERVAL", &cfg.GuestCartSweepInterval, time.Minute, forever, "a duration of at least 1m"),
		envInt(getenv, "GRAPHQL_MAX_CONCURRENT", &cfg.AdmissionSlots, 0, 10_000, "an integer from 0 (unbounded) to 10000"),
		envInt(getenv, "GRAPHQL_MAX_QUEUED", &cfg.AdmissionQueue, 0, 1_000_000, "an integer from 0 to 1000000"),
		envInt(getenv, "GRAPHQL_MAX_QUEUED_PER_CALLER", &cfg.AdmissionQueuePerCaller, 1, 1_000_000, "an integer from 1 to 1000000"),
		envDuration(getenv, "GRAPHQL_MAX_QUEUE_WAIT", &cfg.AdmissionWait, 1, requestTimeout, "a positive duration of at most "+requestTimeout.String()),
		envInt(getenv, "UPLOAD_MAX_BYTES", &cfg.MaxUploadBytes, 1024, 1<<30, "a number of bytes from 1024 to 1073741824"),
		envInt(getenv, "TOP_CREATOR_FOLLOWERS", &cfg.TopCreatorFollowers, 1, math.MaxInt64, "a positive integer"),
	); err != nil {
		return cfg, err
	}
	for key, dst := range map[string]*float64{"FEED_GPM_WEIGHT": &cfg.FeedWeights.GPM, "FEED_ENGAGEMENT_WEIGHT": &cfg.FeedWeights.Engagement} {
		if v := getenv(key); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return cfg, fmt.Errorf("%s must be a non-negative number", key)
			}
			*dst = f
		}
	}
	if !slices.Contains(store.FeedPolicies, cfg.FeedPolicy) {
		return cfg, fmt.Errorf("FEED_POLICY must be one of %s, not %q", strings.Join(store.FeedPolicies, ", "), cfg.FeedPolicy)
	}
	for _, st := range cfg.ForYou.Settings() {
		if v := getenv(st.Env); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return cfg, fmt.Errorf("%s must be a number", st.Env)
			}
			*st.Value = f
		}
	}
	if err := cfg.ForYou.Validate(); err != nil {
		return cfg, err
	}
	switch env := getenv("APP_ENV"); env {
	case "", "development":
	case "production":
		cfg.Production = true
		if cfg.Payments.Provider == "test" && !cfg.Payments.AllowTest {
			return cfg, fmt.Errorf("APP_ENV=production refuses the test payment provider (tok_ok buys anything): set PAYMENT_PROVIDER=stripe, or ALLOW_TEST_PAYMENTS=true for a staging deployment")
		}
	default:
		return cfg, fmt.Errorf("APP_ENV must be development or production, not %q", env)
	}
	if v := getenv("RATE_LIMIT_RPS"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return cfg, fmt.Errorf("RATE_LIMIT_RPS must be a positive number")
		}
		cfg.RateLimitRPS = f
	}
	if v := getenv("ALLOWED_ORIGINS"); v != "" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
			}
		}
	}
	cfg.MediaS3 = media.S3Config{Endpoint: getenv("MEDIA_S3_ENDPOINT"), Bucket: getenv("MEDIA_S3_BUCKET"), Region: getenv("MEDIA_S3_REGION"),
		AccessKeyID: getenv("MEDIA_S3_ACCESS_KEY_ID"), SecretAccessKey: getenv("MEDIA_S3_SECRET_ACCESS_KEY"),
		Prefix: getenv("MEDIA_S3_PREFIX"), PublicURL: getenv("MEDIA_PUBLIC_URL")}
	if cfg.MediaS3.Endpoint == "" && (cfg.MediaS3.Bucket != "" || cfg.MediaS3.AccessKeyID != "" || cfg.MediaS3.PublicURL != "") {
		return cfg, fmt.Errorf("MEDIA_S3_BUCKET, MEDIA_S3_ACCESS_KEY_ID and MEDIA_PUBLIC_URL need MEDIA_S3_ENDPOINT (the S3 service's URL)")
	}
	fs := flag.NewFlagSet("showcase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (env ADDR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL; empty runs an embedded cluster under -data-dir (env DATABASE_URL)")
	fs.StringVar(&cfg.DatabaseReadURL, "database-read-url", cfg.DatabaseReadURL, "PostgreSQL URL of a streaming replica of -database-url for reads that tolerate lag (env DATABASE_READ_URL)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "folder for the embedded cluster and the generated dev JWT secret (env DATA_DIR)")
	fs.BoolVar(&cfg.Seed, "seed", false, "load demo data into an empty database even when -database-url is set")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", cfg.TokenTTL, "lifetime of issued access tokens (env TOKEN_TTL)")
	fs.IntVar(&cfg.DBMaxConns, "db-max-conns", cfg.DBMaxConns, "maximum open database connections (env DB_MAX_CONNS)")
	fs.DurationVar(&cfg.FlushInterval, "events-flush-interval", cfg.FlushInterval, "how often buffered engagement events are written (env EVENTS_FLUSH_INTERVAL)")
	fs.Int64Var(&cfg.TopCreatorFollowers, "top-creator-followers", cfg.TopCreatorFollowers, "followers from which an affiliate counts as a top creator (env TOP_CREATOR_FOLLOWERS)")
	fs.Float64Var(&cfg.FeedWeights.GPM, "feed-gpm-weight", cfg.FeedWeights.GPM, "feed score per ln(1 + 7-day GPM) (env FEED_GPM_WEIGHT)")
	fs.Float64Var(&cfg.FeedWeights.Engagement, "feed-engagement-weight", cfg.FeedWeights.Engagement, "feed score per percent of 7-day engagement rate (env FEED_ENGAGEMENT_WEIGHT)")
	fs.DurationVar(&cfg.ScoreRefresh, "scores-refresh-interval", cfg.ScoreRefresh, "how often the feed's scores of changed contents are recomputed (env SCORES_REFRESH_INTERVAL)")
	fs.DurationVar(&cfg.ResponseCacheTTL, "response-cache-ttl", cfg.ResponseCacheTTL, "how long anonymous query responses are shared; 0 turns it off (env RESPONSE_CACHE_TTL)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.Production && cfg.JWTSecret == "" && strings.TrimSpace(getenv("JWT_ED25519_KEYS")) == "" {
		return cfg, fmt.Errorf("APP_ENV=production needs an explicit signing key: set JWT_SECRET (at least 32 bytes) or JWT_ED25519_KEYS; a generated secret is for development only")
	}
	if cfg.Production && cfg.WebhookKeys == nil {
		fmt.Fprintln(stderr, "warning: WEBHOOK_SECRET_KEYS is not set: apps' webhook secrets are stored unencrypted in the database")
	}
	if cfg.DatabaseReadURL != "" && cfg.DatabaseURL == "" {
		return cfg, fmt.Errorf("DATABASE_READ_URL needs DATABASE_URL: the replica's primary (the embedded cluster has no replica)")
	}
	cfg.MediaDir = envOr(getenv, "MEDIA_DIR", filepath.Join(cfg.DataDir, "media"))
	return cfg, nil
}

// parsePaymentConfig reads the payment settings from the environment.
func parsePaymentConfig(p *paymentConfig, getenv func(string) string) error {
	switch p.Provider {
	case "test":
	case "stripe":
		if p.StripeSecretKey == "" {
			return fmt.Errorf("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY")
		}
	default:
		return fmt.Errorf("PAYMENT_PROVIDER must be test or stripe, not %q", p.Provider)
	}
	switch v := getenv("ALLOW_TEST_PAYMENTS"); v {
	case "", "false":
	case "true":
		p.AllowTest = true
	default:
		return fmt.Errorf("ALLOW_TEST_PAYMENTS must be true or false, not %q", v)
	}
	return errors.Join(
		envDuration(getenv, "PAYMENT_TIMEOUT", &p.Settings.Timeout, 1, forever, "a positive duration"),
		envDuration(getenv, "PAYMENT_SETTLE_AFTER", &p.Settings.SettleAfter, 1, forever, "a positive duration"),
		envDuration(getenv, "PAYMENT_RECONCILE_INTERVAL", &p.ReconcileInterval, 1, forever, "a positive duration"))
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

// parseWebhookConfig reads the webhook worker's settings from the
// environment (WEBHOOK_INTERVAL, WEBHOOK_ATTEMPT_TIMEOUT, WEBHOOK_MAX_AGE,
// WEBHOOK_RETRY_BASE, WEBHOOK_RETENTION); unset ones keep webhook's defaults.
func parseWebhookConfig(s *webhook.Settings, getenv func(string) string) error {
	*s = webhook.Settings{Interval: webhook.DefaultInterval, AttemptTimeout: webhook.DefaultAttemptTimeout,
		MaxAge: webhook.DefaultMaxAge, RetryBase: webhook.DefaultRetryBase, Retention: webhook.DefaultRetention}
	return errors.Join(
		envDuration(getenv, "WEBHOOK_INTERVAL", &s.Interval, 1, forever, "a positive duration"),
		envDuration(getenv, "WEBHOOK_ATTEMPT_TIMEOUT", &s.AttemptTimeout, 1, 5*time.Minute, "a positive duration of at most 5m"),
		envDuration(getenv, "WEBHOOK_MAX_AGE", &s.MaxAge, 1, forever, "a positive duration"),
		envDuration(getenv, "WEBHOOK_RETRY_BASE", &s.RetryBase, 1, forever, "a positive duration"),
		envDuration(getenv, "WEBHOOK_RETENTION", &s.Retention, time.Hour, forever, "a duration of at least 1h"))
}

// forever is the largest duration: the upper bound of settings that have none.
const forever = time.Duration(math.MaxInt64)

// envInt sets *dst to the integer in the environment variable name when it is
// set. The value must be an integer from min to max; otherwise *dst keeps its
// value and the error is "NAME must be want".
func envInt[T int | int64](getenv func(string) string, name string, dst *T, min, max T, want string) error {
	v := getenv(name)
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < int64(min) || n > int64(max) {
		return fmt.Errorf("%s must be %s", name, want)
	}
	*dst = T(n)
	return nil
}

// envDuration sets *dst to the duration (time.ParseDuration's syntax: "1s",
// "5m", "1h30m") in the environment variable name when it is set. The value
// must lie from min to max, both included; otherwise *dst keeps its value and
// the error is "NAME must be want".
func envDuration(getenv func(string) string, name string, dst *time.Duration, min, max time.Duration, want string) error {
	v := getenv(name)
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min || d > max {
		return fmt.Errorf("%s must be %s", name, want)
	}
	*dst = d
	return nil
}
