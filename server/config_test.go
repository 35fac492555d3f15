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
		"AUTH_RATE_LIMIT_BURST": "40", "AUTH_RATE_LIMIT_PERIOD": "2s"}
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:10"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:10" || !cfg.Production || cfg.FeedWeights.GPM != 3.5 || cfg.TopCreatorFollowers != 500 ||
		cfg.AuthRateLimitBurst != 40 || cfg.AuthRateLimitPeriod != 2*time.Second {
		t.Fatalf("cfg = %+v", cfg)
	}
	if def, err := parseConfig(nil, func(string) string { return "" }, io.Discard); err != nil ||
		def.AuthRateLimitBurst != 5 || def.AuthRateLimitPeriod != 12*time.Second {
		t.Fatalf("default credential-check bucket: %d per %v (err %v), want 5 per 12s", def.AuthRateLimitBurst, def.AuthRateLimitPeriod, err)
	}
	for key, bad := range map[string]string{"APP_ENV": "staging", "TOKEN_TTL": "soon", "DB_MAX_CONNS": "0", "FEED_ENGAGEMENT_WEIGHT": "-1",
		"AUTH_RATE_LIMIT_BURST": "0", "AUTH_RATE_LIMIT_PERIOD": "soon"} {
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
	for _, bad := range []string{"nokid", ":" + seed, "k:short"} {
		if _, _, err := ed25519Keys(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
