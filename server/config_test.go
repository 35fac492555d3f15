package main

import (
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showcase/store"
)

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:9", "APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32), "FEED_GPM_WEIGHT": "3.5",
		"TOP_CREATOR_FOLLOWERS": "500", "ALLOW_TEST_PAYMENTS": "true", "AUTH_RATE_LIMIT_BURST": "40", "AUTH_RATE_LIMIT_PERIOD": "2s",
		"MEDIA_SWEEP_INTERVAL": "5m", "MEDIA_SWEEP_GRACE": "2h"}
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:10"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:10" || !cfg.Production || cfg.FeedWeights.GPM != 3.5 || cfg.TopCreatorFollowers != 500 ||
		cfg.AuthRateLimitBurst != 40 || cfg.AuthRateLimitPeriod != 2*time.Second ||
		cfg.MediaSweepInterval != 5*time.Minute || cfg.MediaSweepGrace != 2*time.Hour {
		t.Fatalf("cfg = %+v", cfg)
	}
	if def, err := parseConfig(nil, func(string) string { return "" }, io.Discard); err != nil ||
		def.AuthRateLimitBurst != 5 || def.AuthRateLimitPeriod != 12*time.Second {
		t.Fatalf("default credential-check bucket: %d per %v (err %v), want 5 per 12s", def.AuthRateLimitBurst, def.AuthRateLimitPeriod, err)
	}
	for key, bad := range map[string]string{"APP_ENV": "staging", "TOKEN_TTL": "soon", "DB_MAX_CONNS": "0", "FEED_ENGAGEMENT_WEIGHT": "-1",
		"AUTH_RATE_LIMIT_BURST": "0", "AUTH_RATE_LIMIT_PERIOD": "soon",
		"PAYMENT_PROVIDER": "paypal", "PAYMENT_TIMEOUT": "0s", "PAYMENT_SETTLE_AFTER": "soon", "PAYMENT_RECONCILE_INTERVAL": "-1s",
		"ALLOW_TEST_PAYMENTS": "yes", "MEDIA_SWEEP_INTERVAL": "10s", "MEDIA_SWEEP_GRACE": "soon"} {
		if _, err := parseConfig(nil, func(k string) string {
			if k == key {
				return bad
			}
			return ""
		}, io.Discard); err == nil {
			t.Errorf("%s=%s accepted", key, bad)
		}
	}
}

func TestEd25519KeysSpec(t *testing.T) {
	seed := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))
	keys, signer, err := ed25519Keys("new:" + seed + ", old:" + seed)
	if err != nil || signer != "new" || len(keys) != 2 {
		t.Fatalf("keys %d, signer %q, err %v", len(keys), signer, err)
	}
	for _, bad := range []string{"nokid", ":" + seed, "k:short", "a:" + seed + ",a:" + seed, "a:" + seed + ",", "a:" + seed + ",,b:" + seed} {
		if _, _, err := ed25519Keys(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestPaymentConfig: the provider and its bounds are read from the
// environment, and production refuses the test provider (tok_ok buys
// anything) unless explicitly allowed.
func TestPaymentConfig(t *testing.T) {
	parse := func(env map[string]string) (config, error) {
		env["JWT_SECRET"] = strings.Repeat("s", 32)
		return parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := parse(map[string]string{"PAYMENT_TIMEOUT": "3s", "PAYMENT_SETTLE_AFTER": "2m", "PAYMENT_RECONCILE_INTERVAL": "5s"})
	if err != nil || cfg.Payments.Provider != "test" || cfg.Payments.Settings.Timeout != 3*time.Second ||
		cfg.Payments.Settings.SettleAfter != 2*time.Minute || cfg.Payments.ReconcileInterval != 5*time.Second {
		t.Fatalf("cfg = %+v, %v", cfg.Payments, err)
	}
	if _, err := parse(map[string]string{"APP_ENV": "production"}); err == nil || !strings.Contains(err.Error(), "test payment provider") {
		t.Fatalf("production with the test provider: %v", err)
	}
	if _, err := parse(map[string]string{"APP_ENV": "production", "PAYMENT_PROVIDER": "stripe"}); err == nil || !strings.Contains(err.Error(), "STRIPE_SECRET_KEY") {
		t.Fatalf("stripe without a key: %v", err)
	}
	cfg, err = parse(map[string]string{"APP_ENV": "production", "PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_123",
		"STRIPE_API_BASE": "http://127.0.0.1:12111"})
	if err != nil || cfg.Payments.Provider != "stripe" || cfg.Payments.StripeSecretKey != "sk_test_123" || cfg.Payments.StripeAPIBase != "http://127.0.0.1:12111" {
		t.Fatalf("stripe in production: %+v, %v", cfg.Payments, err)
	}
	if _, err := parse(map[string]string{"APP_ENV": "production", "ALLOW_TEST_PAYMENTS": "true"}); err != nil {
		t.Fatalf("production with the test provider explicitly allowed: %v", err)
	}
}

// TestWebhookConfig reads the README's WEBHOOK_* settings and refuses bad ones.
func TestWebhookConfig(t *testing.T) {
	parse := func(env map[string]string) (config, error) {
		env["JWT_SECRET"] = strings.Repeat("s", 32)
		return parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := parse(map[string]string{})
	if err != nil || cfg.Webhooks.Interval != time.Second || cfg.Webhooks.AttemptTimeout != 10*time.Second ||
		cfg.Webhooks.MaxAge != 24*time.Hour || cfg.Webhooks.RetryBase != 10*time.Second ||
		cfg.Webhooks.Retention != 30*24*time.Hour || cfg.WebhookKeys != nil {
		t.Fatalf("defaults = %+v, %v", cfg.Webhooks, err)
	}
	cfg, err = parse(map[string]string{"WEBHOOK_INTERVAL": "250ms", "WEBHOOK_ATTEMPT_TIMEOUT": "3s",
		"WEBHOOK_MAX_AGE": "2h", "WEBHOOK_RETRY_BASE": "1s", "WEBHOOK_RETENTION": "168h",
		"WEBHOOK_SECRET_KEYS": "k2:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32))) +
			", k1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))})
	if err != nil || cfg.Webhooks.Interval != 250*time.Millisecond || cfg.Webhooks.AttemptTimeout != 3*time.Second ||
		cfg.Webhooks.MaxAge != 2*time.Hour || cfg.Webhooks.RetryBase != time.Second || cfg.Webhooks.Retention != 168*time.Hour ||
		cfg.WebhookKeys.CurrentID() != "k2" {
		t.Fatalf("cfg = %+v, %v", cfg.Webhooks, err)
	}
	for key, v := range map[string]string{"WEBHOOK_INTERVAL": "0s", "WEBHOOK_ATTEMPT_TIMEOUT": "10m",
		"WEBHOOK_MAX_AGE": "soon", "WEBHOOK_RETRY_BASE": "-1s", "WEBHOOK_RETENTION": "30m",
		"WEBHOOK_SECRET_KEYS": "k1:c2hvcnQ="} {
		if _, err := parse(map[string]string{key: v}); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: %v", key, v, err)
		}
	}
	// Production without keys starts, and says the secrets are unsealed.
	for _, keys := range []string{"", "k1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))} {
		var stderr strings.Builder
		env := map[string]string{"APP_ENV": "production", "ALLOW_TEST_PAYMENTS": "true", "JWT_SECRET": strings.Repeat("s", 32), "WEBHOOK_SECRET_KEYS": keys}
		if _, err := parseConfig(nil, func(k string) string { return env[k] }, &stderr); err != nil {
			t.Fatal(err)
		}
		if warned := strings.Contains(stderr.String(), "WEBHOOK_SECRET_KEYS is not set"); warned != (keys == "") {
			t.Errorf("production with WEBHOOK_SECRET_KEYS=%q: stderr %q", keys, stderr.String())
		}
	}
}

func TestConfigReadsAndChecksEd25519Keys(t *testing.T) {
	seed := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))
	env := map[string]string{"JWT_ED25519_KEYS": "k2:" + seed + ",k1:" + seed}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || cfg.Ed25519Keys != env["JWT_ED25519_KEYS"] {
		t.Fatalf("cfg.Ed25519Keys = %q, %v", cfg.Ed25519Keys, err)
	}
	env["JWT_ED25519_KEYS"] = "k2:not-a-seed"
	if _, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "JWT_ED25519_KEYS") {
		t.Fatalf("a bad key was accepted or not named: %v", err)
	} else if strings.Contains(err.Error(), "not-a-seed") {
		t.Fatalf("the error shows the key material: %v", err)
	}
}

// TestProductionNeedsAnExplicitSigningKey: APP_ENV=production refuses to start
// without JWT_SECRET or JWT_ED25519_KEYS, and never falls back to (or writes)
// a secret file in the data folder.
func TestProductionNeedsAnExplicitSigningKey(t *testing.T) {
	dataDir := t.TempDir()
	seed := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))
	cases := []struct {
		name string
		env  map[string]string
		ok   bool
	}{
		{"NoKey", map[string]string{"APP_ENV": "production"}, false},
		{"BlankKeys", map[string]string{"APP_ENV": "production", "JWT_ED25519_KEYS": "  "}, false},
		{"Secret", map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32)}, true},
		{"Ed25519Keys", map[string]string{"APP_ENV": "production", "JWT_ED25519_KEYS": "k1:" + seed}, true},
		{"Development", map[string]string{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.env["DATA_DIR"] = dataDir
			c.env["ALLOW_TEST_PAYMENTS"] = "true"
			cfg, err := parseConfig(nil, func(k string) string { return c.env[k] }, io.Discard)
			if (err == nil) != c.ok {
				t.Fatalf("parseConfig: err = %v, want ok %v", err, c.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "JWT_SECRET") {
					t.Fatalf("the refusal does not say what to set: %v", err)
				}
				return
			}
			if !cfg.Production {
				return
			}
			if _, err := jwtSecret(cfg); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dataDir, "jwt-secret")); !os.IsNotExist(err) {
				t.Fatalf("production wrote or read a secret file: %v", err)
			}
		})
	}
	// The process refuses to start, before it opens a database.
	if err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"APP_ENV": "production", "DATA_DIR": dataDir, "ALLOW_TEST_PAYMENTS": "true"}[k]
	}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("run in production without a key: %v", err)
	}
	// A secret file left in the data folder is not used in production either.
	if err := os.WriteFile(filepath.Join(dataDir, "jwt-secret"), []byte(strings.Repeat("f", 64)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"APP_ENV": "production", "JWT_ED25519_KEYS": "k1:" + seed, "DATA_DIR": dataDir, "ALLOW_TEST_PAYMENTS": "true"}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if secret, err := jwtSecret(cfg); err != nil || string(secret) == strings.Repeat("f", 64) {
		t.Fatalf("production used the file's secret (err %v)", err)
	}
}

// FEED_RANKING_TTL: 2 s by default, 0 turns reuse off, at most a minute.
func TestFeedRankingTTLConfig(t *testing.T) {
	parse := func(v string) (config, error) {
		return parseConfig(nil, func(k string) string {
			if k == "FEED_RANKING_TTL" {
				return v
			}
			return ""
		}, io.Discard)
	}
	for v, want := range map[string]time.Duration{"": store.DefaultFeedRankingTTL, "0": 0, "500ms": 500 * time.Millisecond, "1m": time.Minute} {
		if cfg, err := parse(v); err != nil || cfg.FeedRankingTTL != want {
			t.Errorf("FEED_RANKING_TTL=%q: %v, %v; want %v", v, cfg.FeedRankingTTL, err, want)
		}
	}
	if store.DefaultFeedRankingTTL != 2*time.Second {
		t.Errorf("the README says the default is 2s; it is %v", store.DefaultFeedRankingTTL)
	}
	for _, v := range []string{"-1s", "2m", "soon"} {
		if _, err := parse(v); err == nil || !strings.Contains(err.Error(), "FEED_RANKING_TTL") {
			t.Errorf("FEED_RANKING_TTL=%q: %v, want an error naming it", v, err)
		}
	}
	if store.NewFeedRankings(0) != nil {
		t.Error("FEED_RANKING_TTL=0 still reuses arrangements")
	}
}

// FEED_VIEWER_TTL: 30 s by default, 0 keeps no viewer state, at most ten
// minutes.
func TestFeedViewerTTLConfig(t *testing.T) {
	parse := func(v string) (config, error) {
		return parseConfig(nil, func(k string) string {
			if k == "FEED_VIEWER_TTL" {
				return v
			}
			return ""
		}, io.Discard)
	}
	for v, want := range map[string]time.Duration{"": store.DefaultFeedViewerTTL, "0": 0, "500ms": 500 * time.Millisecond, "10m": 10 * time.Minute} {
		if cfg, err := parse(v); err != nil || cfg.FeedViewerTTL != want {
			t.Errorf("FEED_VIEWER_TTL=%q: %v, %v; want %v", v, cfg.FeedViewerTTL, err, want)
		}
	}
	if store.DefaultFeedViewerTTL != 30*time.Second {
		t.Errorf("the README says the default is 30s; it is %v", store.DefaultFeedViewerTTL)
	}
	for _, v := range []string{"-1s", "11m", "soon"} {
		if _, err := parse(v); err == nil || !strings.Contains(err.Error(), "FEED_VIEWER_TTL") {
			t.Errorf("FEED_VIEWER_TTL=%q: %v, want an error naming it", v, err)
		}
	}
	if f := store.NewFeedCaches(0, 0); f != nil {
		t.Error("FEED_RANKING_TTL=0 and FEED_VIEWER_TTL=0 still keep something")
	}
	if f := store.NewFeedCaches(0, time.Second); f.TTL() != 0 || f.ViewerTTL() != time.Second {
		t.Errorf("FEED_RANKING_TTL=0, FEED_VIEWER_TTL=1s: %v and %v", f.TTL(), f.ViewerTTL())
	}
}

// FEED_INDEX_MAX_LAG: 1 s by default, 0 catches up before every ranking,
// at most a minute.
func TestFeedIndexMaxLagConfig(t *testing.T) {
	parse := func(v string) (config, error) {
		return parseConfig(nil, func(k string) string {
			if k == "FEED_INDEX_MAX_LAG" {
				return v
			}
			return ""
		}, io.Discard)
	}
	for v, want := range map[string]time.Duration{"": time.Second, "0": 0, "250ms": 250 * time.Millisecond, "1m": time.Minute} {
		if cfg, err := parse(v); err != nil || cfg.FeedIndexMaxLag != want {
			t.Errorf("FEED_INDEX_MAX_LAG=%q: %v, %v; want %v", v, cfg.FeedIndexMaxLag, err, want)
		}
	}
	if store.DefaultFeedIndexMaxLag != time.Second {
		t.Errorf("the README says the default is 1s; it is %v", store.DefaultFeedIndexMaxLag)
	}
	for _, v := range []string{"-1s", "61s", "later"} {
		if _, err := parse(v); err == nil || !strings.Contains(err.Error(), "FEED_INDEX_MAX_LAG") {
			t.Errorf("FEED_INDEX_MAX_LAG=%q: %v, want an error naming it", v, err)
		}
	}
}

// TestNumberSettingsBounds: each integer and duration setting refuses values
// outside its documented bounds with an error naming it, keeps values inside
// them, and a start with several bad settings names them all at once.
func TestNumberSettingsBounds(t *testing.T) {
	parse := func(env map[string]string) (config, error) {
		return parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	}
	for key, bad := range map[string]string{"TOKEN_TTL": "0s", "DB_MAX_CONNS": "99999999999", "EVENTS_FLUSH_WORKERS": "17",
		"EVENTS_BUFFER_MAX": "9999", "RATE_LIMIT_BURST": "1.5", "DATABASE_READ_MAX_LAG": store.DefaultReplicaPollInterval.String(),
		"FIGURES_CACHE_TTL": "11s", "CATALOG_CACHE_TTL": "-1s", "GUEST_CART_RETENTION": "59m", "GRAPHQL_MAX_CONCURRENT": "10001",
		"GRAPHQL_MAX_QUEUED": "-1", "GRAPHQL_MAX_QUEUE_WAIT": "0s", "UPLOAD_MAX_BYTES": "1023", "TOP_CREATOR_FOLLOWERS": "0",
		"WEBHOOK_ATTEMPT_TIMEOUT": "5m1s", "PAYMENT_TIMEOUT": "1 s"} {
		if _, err := parse(map[string]string{key: bad}); err == nil || !strings.HasPrefix(err.Error(), key+" must be ") {
			t.Errorf("%s=%s: %v, want an error naming %s", key, bad, err, key)
		}
	}
	cfg, err := parse(map[string]string{"TOKEN_TTL": "1h", "DB_MAX_CONNS": "7", "EVENTS_FLUSH_WORKERS": "16", "FIGURES_CACHE_TTL": "10s",
		"CATALOG_CACHE_TTL": "0", "GRAPHQL_MAX_CONCURRENT": "0", "GRAPHQL_MAX_QUEUE_WAIT": "30s", "UPLOAD_MAX_BYTES": "1024",
		"TOP_CREATOR_FOLLOWERS": "9000000000"})
	if err != nil || cfg.TokenTTL != time.Hour || cfg.DBMaxConns != 7 || cfg.FlushWorkers != 16 || cfg.FiguresTTL != 10*time.Second ||
		cfg.CatalogTTL != 0 || cfg.AdmissionSlots != 0 || cfg.AdmissionWait != 30*time.Second || cfg.MaxUploadBytes != 1024 ||
		cfg.TopCreatorFollowers != 9_000_000_000 {
		t.Fatalf("bounds' own values: %+v, %v", cfg, err)
	}
	_, err = parse(map[string]string{"DB_MAX_CONNS": "0", "FEED_RANKING_TTL": "2m"})
	if err == nil || !strings.Contains(err.Error(), "DB_MAX_CONNS") || !strings.Contains(err.Error(), "FEED_RANKING_TTL") {
		t.Fatalf("two bad settings: %v, want both named", err)
	}
}
