package main

import (
	"bufio"
	"context"
	"io"
	"sync"
	"time"
)

// logFlushInterval bounds how long a log line may wait in memory.
const logFlushInterval = 100 * time.Millisecond

// bufferedLog batches log lines into few writes: one line per operation is
// otherwise one write system call per request, a cost the busiest requests
// (answers from the shared cache) felt most. Lines reach the output within
// logFlushInterval, when the buffer fills, and on Close.
type bufferedLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop context.CancelFunc
	done chan struct{}
}

func newBufferedLog(out io.Writer) *bufferedLog {
	ctx, stop := context.WithCancel(context.Background())
	l := &bufferedLog{w: bufio.NewWriterSize(out, 64<<10), stop: stop, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(logFlushInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.flush()
			}
		}
	}()
	return l
}

func (l *bufferedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *bufferedLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.w.Flush()
}

// Close writes what is buffered and stops the flusher.
func (l *bufferedLog) Close() {
	l.stop()
	<-l.done
	l.flush()
}
