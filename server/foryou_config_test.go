package main

import (
	"io"
	"os"
	"strings"
	"testing"

	"showcase/store"
)

// Every For You weight is a setting: read from its environment variable,
// refused when out of range, and listed in the README's settings table.
func TestForYouSettingsAreConfiguration(t *testing.T) {
	def, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if def.FeedPolicy != store.PolicyForYou || def.ForYou != store.DefaultForYouSettings {
		t.Fatalf("defaults: policy %q, settings %+v", def.FeedPolicy, def.ForYou)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "| `FEED_POLICY` |") {
		t.Error("README's settings table lacks FEED_POLICY")
	}
	for _, st := range def.ForYou.Settings() {
		t.Run(st.Env, func(t *testing.T) {
			env := map[string]string{st.Env: "0.75", "FEED_POLICY": store.PolicyPopular}
			cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range cfg.ForYou.Settings() {
				if got.Env == st.Env && *got.Value != 0.75 {
					t.Fatalf("%s=0.75 read as %v", st.Env, *got.Value)
				}
			}
			if cfg.FeedPolicy != store.PolicyPopular {
				t.Fatalf("FEED_POLICY=popular read as %q", cfg.FeedPolicy)
			}
			bad := "-1"
			if st.Signed {
				bad = "many"
			}
			if _, err := parseConfig(nil, func(k string) string {
				if k == st.Env {
					return bad
				}
				return ""
			}, io.Discard); err == nil {
				t.Fatalf("%s=%s accepted", st.Env, bad)
			}
			if !strings.Contains(string(readme), "| `"+st.Env+"` |") {
				t.Errorf("README's settings table lacks %s", st.Env)
			}
		})
	}
	if _, err := parseConfig(nil, func(k string) string {
		if k == "FEED_POLICY" {
			return "random"
		}
		return ""
	}, io.Discard); err == nil {
		t.Fatal("FEED_POLICY=random accepted")
	}
}
