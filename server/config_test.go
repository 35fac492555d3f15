package main

import (
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:9", "APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32), "FEED_GPM_WEIGHT": "3.5", "TOP_CREATOR_FOLLOWERS": "500"}
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
	for _, bad := range []string{"nokid", ":" + seed, "k:short"} {
		if _, _, err := ed25519Keys(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
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
		return map[string]string{"APP_ENV": "production", "DATA_DIR": dataDir}[k]
	}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("run in production without a key: %v", err)
	}
	// A secret file left in the data folder is not used in production either.
	if err := os.WriteFile(filepath.Join(dataDir, "jwt-secret"), []byte(strings.Repeat("f", 64)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"APP_ENV": "production", "JWT_ED25519_KEYS": "k1:" + seed, "DATA_DIR": dataDir}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if secret, err := jwtSecret(cfg); err != nil || string(secret) == strings.Repeat("f", 64) {
		t.Fatalf("production used the file's secret (err %v)", err)
	}
}
