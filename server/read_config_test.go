package main

import (
	"io"
	"testing"
	"time"

	"showcase/store"
)

// TestReadReplicaConfig reads DATABASE_READ_URL and DATABASE_READ_MAX_LAG
// (default 1 s) and refuses a bound at or below the poll interval, and a
// replica without DATABASE_URL.
func TestReadReplicaConfig(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://p/db", "DATABASE_READ_URL": "postgres://r/db"}
	get := func(k string) string { return env[k] }
	cfg, err := parseConfig(nil, get, io.Discard)
	if err != nil || cfg.DatabaseReadURL != "postgres://r/db" || cfg.ReadMaxLag != time.Second || store.DefaultReadMaxLag != time.Second {
		t.Fatalf("cfg = %q, %s (err %v), want the URL and a 1s bound", cfg.DatabaseReadURL, cfg.ReadMaxLag, err)
	}
	env["DATABASE_READ_MAX_LAG"] = "250ms"
	if cfg, err = parseConfig([]string{"-database-read-url", "postgres://r2/db"}, get, io.Discard); err != nil ||
		cfg.ReadMaxLag != 250*time.Millisecond || cfg.DatabaseReadURL != "postgres://r2/db" {
		t.Fatalf("cfg = %q, %s (err %v)", cfg.DatabaseReadURL, cfg.ReadMaxLag, err)
	}
	for _, bad := range []string{"soon", "100ms", "-1s", "0"} {
		env["DATABASE_READ_MAX_LAG"] = bad
		if _, err := parseConfig(nil, get, io.Discard); err == nil {
			t.Errorf("DATABASE_READ_MAX_LAG=%s accepted", bad)
		}
	}
	delete(env, "DATABASE_READ_MAX_LAG")
	delete(env, "DATABASE_URL")
	if _, err := parseConfig(nil, get, io.Discard); err == nil {
		t.Error("DATABASE_READ_URL without DATABASE_URL accepted")
	}
}
