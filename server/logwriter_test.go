package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the flusher and the test to share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBufferedLog: lines reach the output within the flush interval without
// anyone closing the log, and everything buffered is written on Close.
func TestBufferedLog(t *testing.T) {
	var out lockedBuffer
	l := newBufferedLog(&out)
	_, _ = l.Write([]byte("first\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "first\n" {
		if time.Now().After(deadline) {
			t.Fatalf("not flushed by the ticker: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, _ = l.Write([]byte("last\n"))
	l.Close()
	if got := out.String(); !strings.HasSuffix(got, "last\n") {
		t.Fatalf("Close did not flush: %q", got)
	}
}
