package graph

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestOperationLogLineIsLogAttrs: observe writes, through the default
// handler, the line slog.LogAttrs wrote before it skipped the caller's
// program counter (the time aside), and none when the level is off.
func TestOperationLogLineIsLogAttrs(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	defer slog.SetDefault(prev)
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	ctx := context.WithValue(context.Background(), requestIDKey{}, "req-1")
	for _, codes := range [][]string{nil, {"INTERNAL", "NOT_FOUND"}} {
		buf.Reset()
		observe(ctx, nil, "Op", codes, 1500*time.Microsecond, true)
		slog.LogAttrs(ctx, slog.LevelInfo, "graphql", slog.String("request_id", "req-1"), slog.String("operation", "Op"),
			slog.Float64("duration_ms", 1.5), slog.Any("error_codes", codes), slog.Bool("cached", true))
		lines := strings.Split(strings.TrimSpace(regexp.MustCompile(`"time":"[^"]*",`).ReplaceAllString(buf.String(), "")), "\n")
		if len(lines) != 2 || lines[0] != lines[1] || !strings.Contains(lines[0], `"operation":"Op"`) {
			t.Fatalf("observe's line and LogAttrs' differ:\n%s", buf.String())
		}
	}
	buf.Reset()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	observe(ctx, nil, "Op", nil, time.Millisecond, false)
	if buf.Len() != 0 {
		t.Fatalf("logged below the handler's level: %s", buf.String())
	}
}
