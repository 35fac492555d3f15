package main

import (
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:9", "APP_ENV": "production", "FEED_GPM_WEIGHT": "3.5", "TOP_CREATOR_FOLLOWERS": "500",
		"ALLOW_TEST_PAYMENTS": "true"}
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:10"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:10" || !cfg.Production || cfg.FeedWeights.GPM != 3.5 || cfg.TopCreatorFollowers != 500 {
		t.Fatalf("cfg = %+v", cfg)
	}
	for key, bad := range map[string]string{"APP_ENV": "staging", "TOKEN_TTL": "soon", "DB_MAX_CONNS": "0", "FEED_ENGAGEMENT_WEIGHT": "-1",
		"PAYMENT_PROVIDER": "paypal", "PAYMENT_TIMEOUT": "0s", "PAYMENT_SETTLE_AFTER": "soon", "PAYMENT_RECONCILE_INTERVAL": "-1s",
		"ALLOW_TEST_PAYMENTS": "yes"} {
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
