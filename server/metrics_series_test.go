package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestOperationSeriesKeepTheLabelBound checks that the series remembered
// per operation name count as the label rules say: a sane name is its own
// label up to maxOperationLabels names, the rest and malformed names are
// "other", and outcomes are counted apart, on first and later sightings.
func TestOperationSeriesKeepTheLabelBound(t *testing.T) {
	// The operation vectors only: newMetrics also registers the database's.
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops"}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "secs"}, []string{"operation"}),
		names:    map[string]bool{},
	}
	for round := 0; round < 2; round++ {
		for i := 0; i < maxOperationLabels+10; i++ {
			m.ObserveOperation("Op"+strconv.Itoa(i), "ok", time.Millisecond)
		}
		m.ObserveOperation("not a name!", "FORBIDDEN", time.Millisecond)
		m.ObserveOperation("Op0", "NOT_FOUND", time.Millisecond)
	}
	if got := counterValue(m.requests.WithLabelValues("Op0", "ok")); got != 2 {
		t.Errorf("Op0 ok = %v, want 2", got)
	}
	if got := counterValue(m.requests.WithLabelValues("Op0", "NOT_FOUND")); got != 2 {
		t.Errorf("Op0 NOT_FOUND = %v, want 2", got)
	}
	if got := counterValue(m.requests.WithLabelValues("other", "ok")); got != 20 {
		t.Errorf("other ok = %v, want 20 (10 names past the bound, twice)", got)
	}
	if got := counterValue(m.requests.WithLabelValues("other", "FORBIDDEN")); got != 2 {
		t.Errorf("other FORBIDDEN = %v, want 2", got)
	}
	if n := seriesCount(m.requests); n != maxOperationLabels+3 {
		t.Errorf("%d series, want %d", n, maxOperationLabels+3)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		return -1
	}
	return d.GetCounter().GetValue()
}

func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 1000)
	c.Collect(ch)
	close(ch)
	return len(ch)
}
