package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"showcase/store"
)

// FIGURES_CACHE_TTL: 1 s by default, 0 turns sharing off, at most 10 s.
func TestFiguresCacheTTLConfig(t *testing.T) {
	parse := func(v string) (config, error) {
		return parseConfig(nil, func(k string) string {
			if k == "FIGURES_CACHE_TTL" {
				return v
			}
			return ""
		}, io.Discard)
	}
	for v, want := range map[string]time.Duration{"": store.DefaultFiguresTTL, "0": 0, "250ms": 250 * time.Millisecond, "10s": 10 * time.Second} {
		if cfg, err := parse(v); err != nil || cfg.FiguresTTL != want {
			t.Errorf("FIGURES_CACHE_TTL=%q: %v, %v; want %v", v, cfg.FiguresTTL, err, want)
		}
	}
	if store.DefaultFiguresTTL != time.Second {
		t.Errorf("the README says the default is 1s; it is %v", store.DefaultFiguresTTL)
	}
	for _, v := range []string{"-1s", "11s", "soon"} {
		if _, err := parse(v); err == nil || !strings.Contains(err.Error(), "FIGURES_CACHE_TTL") {
			t.Errorf("FIGURES_CACHE_TTL=%q: %v, want an error naming it", v, err)
		}
	}
	if store.NewFiguresCache(0) != nil {
		t.Error("FIGURES_CACHE_TTL=0 still shares figures")
	}
}

// CATALOG_CACHE_TTL: 10 s by default, 0 keeps nothing, at most 1 m.
func TestCatalogCacheTTLConfig(t *testing.T) {
	parse := func(v string) (config, error) {
		return parseConfig(nil, func(k string) string {
			if k == "CATALOG_CACHE_TTL" {
				return v
			}
			return ""
		}, io.Discard)
	}
	for v, want := range map[string]time.Duration{"": store.DefaultCatalogTTL, "0": 0, "250ms": 250 * time.Millisecond, "1m": time.Minute} {
		if cfg, err := parse(v); err != nil || cfg.CatalogTTL != want {
			t.Errorf("CATALOG_CACHE_TTL=%q: %v, %v; want %v", v, cfg.CatalogTTL, err, want)
		}
	}
	if store.DefaultCatalogTTL != 10*time.Second {
		t.Errorf("the README says the default is 10s; it is %v", store.DefaultCatalogTTL)
	}
	for _, v := range []string{"-1s", "61s", "soon"} {
		if _, err := parse(v); err == nil || !strings.Contains(err.Error(), "CATALOG_CACHE_TTL") {
			t.Errorf("CATALOG_CACHE_TTL=%q: %v, want an error naming it", v, err)
		}
	}
	if store.NewCatalogCache(0) != nil {
		t.Error("CATALOG_CACHE_TTL=0 still keeps cards and variants")
	}
}
