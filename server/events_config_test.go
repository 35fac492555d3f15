package main

import (
	"io"
	"testing"

	"showcase/store"
)

// EVENTS_FLUSH_WORKERS and EVENTS_BUFFER_MAX are read, default to 2 and
// 200,000, and refuse what is not a number in range.
func TestEventsFlushConfig(t *testing.T) {
	env := map[string]string{"EVENTS_FLUSH_WORKERS": "4", "EVENTS_BUFFER_MAX": "50000"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || cfg.FlushWorkers != 4 || cfg.EventsBufferMax != 50000 {
		t.Fatalf("cfg %d %d, err %v", cfg.FlushWorkers, cfg.EventsBufferMax, err)
	}
	def, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || def.FlushWorkers != store.DefaultFlushWorkers ||
		def.EventsBufferMax != store.DefaultMaxBufferedEvents {
		t.Fatalf("defaults %d %d, err %v", def.FlushWorkers, def.EventsBufferMax, err)
	}
	for _, bad := range []map[string]string{{"EVENTS_FLUSH_WORKERS": "0"}, {"EVENTS_FLUSH_WORKERS": "many"}, {"EVENTS_BUFFER_MAX": "9999"}} {
		if _, err := parseConfig(nil, func(k string) string { return bad[k] }, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
