package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"showcase/store"
)

// PROFILE_CACHE_TTL: 10 s by default, 0 turns keeping authors and shops
// off, at most 1 m. SESSION_CACHE_TTL: 2 s by default, 0 checks every
// session, at most 5 s.
func TestProfileAndSessionCacheTTLConfig(t *testing.T) {
	parse := func(k, v string) (config, error) {
		return parseConfig(nil, func(key string) string {
			if key == k {
				return v
			}
			return ""
		}, io.Discard)
	}
	for v, want := range map[string]time.Duration{"": store.DefaultProfileTTL, "0": 0, "250ms": 250 * time.Millisecond, "1m": time.Minute} {
		if cfg, err := parse("PROFILE_CACHE_TTL", v); err != nil || cfg.ProfileTTL != want {
			t.Errorf("PROFILE_CACHE_TTL=%q: %v, %v; want %v", v, cfg.ProfileTTL, err, want)
		}
	}
	for v, want := range map[string]time.Duration{"": store.DefaultSessionTTL, "0": 0, "500ms": 500 * time.Millisecond, "5s": 5 * time.Second} {
		if cfg, err := parse("SESSION_CACHE_TTL", v); err != nil || cfg.SessionTTL != want {
			t.Errorf("SESSION_CACHE_TTL=%q: %v, %v; want %v", v, cfg.SessionTTL, err, want)
		}
	}
	if store.DefaultProfileTTL != 10*time.Second || store.DefaultSessionTTL != 2*time.Second {
		t.Errorf("the README says the defaults are 10s and 2s; they are %v and %v", store.DefaultProfileTTL, store.DefaultSessionTTL)
	}
	for k, bad := range map[string][]string{"PROFILE_CACHE_TTL": {"-1s", "61s", "soon"}, "SESSION_CACHE_TTL": {"-1s", "6s", "soon"}} {
		for _, v := range bad {
			if _, err := parse(k, v); err == nil || !strings.Contains(err.Error(), k) {
				t.Errorf("%s=%q: %v, want an error naming it", k, v, err)
			}
		}
	}
	if store.NewProfileCache(0, 0) != nil {
		t.Error("PROFILE_CACHE_TTL=0 and SESSION_CACHE_TTL=0 still keep something")
	}
}
