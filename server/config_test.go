package main

import (
	"encoding/base64"
	"io"
	"strings"
	"testing"
)

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:9", "APP_ENV": "production", "FEED_GPM_WEIGHT": "3.5", "TOP_CREATOR_FOLLOWERS": "500"}
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:10"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:10" || !cfg.Production || cfg.FeedWeights.GPM != 3.5 || cfg.TopCreatorFollowers != 500 {
		t.Fatalf("cfg = %+v", cfg)
	}
	for key, bad := range map[string]string{"APP_ENV": "staging", "TOKEN_TTL": "soon", "DB_MAX_CONNS": "0", "FEED_ENGAGEMENT_WEIGHT": "-1"} {
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
