package main

import (
	"io"
	"testing"
	"time"
)

// GUEST_CART_RETENTION and GUEST_CART_SWEEP_INTERVAL are read, default to
// 30 days and 1 hour, and refuse what is not a duration or is too short.
func TestGuestCartSweepConfig(t *testing.T) {
	env := map[string]string{"GUEST_CART_RETENTION": "168h", "GUEST_CART_SWEEP_INTERVAL": "10m"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || cfg.GuestCartRetention != 7*24*time.Hour || cfg.GuestCartSweepInterval != 10*time.Minute {
		t.Fatalf("cfg %v %v, err %v", cfg.GuestCartRetention, cfg.GuestCartSweepInterval, err)
	}
	def, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || def.GuestCartRetention != 30*24*time.Hour || def.GuestCartSweepInterval != time.Hour {
		t.Fatalf("defaults %v %v, err %v", def.GuestCartRetention, def.GuestCartSweepInterval, err)
	}
	for key, bad := range map[string]string{"GUEST_CART_RETENTION": "30m", "GUEST_CART_SWEEP_INTERVAL": "soon"} {
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
