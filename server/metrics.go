package main

import (
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"showcase/store"
	"showcase/store/live"
)

// maxOperationLabels bounds the operation label: names come from clients.
const maxOperationLabels = 200

var operationNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// metrics are what GET /metrics exposes to Prometheus.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	rejected *prometheus.CounterVec

	mu    sync.Mutex
	names map[string]bool
	// ops holds each operation label's series, found once: the label's
	// check and the vectors' hashing of label values are not paid per
	// request. Keyed by the name the client sent (at most
	// maxOperationLabels of them besides those counted as "other").
	ops sync.Map // string → *operationSeries
	// others counts the names that became "other" that ops remembers, so
	// that ops stays bounded whatever names clients send.
	others atomic.Int64
}

// operationSeries are one operation label's series: its latency histogram,
// its "ok" counter, and its counters by error code, made on first use.
type operationSeries struct {
	label    string
	duration prometheus.Observer
	ok       prometheus.Counter
	outcomes sync.Map // outcome → prometheus.Counter
}

func newMetrics(db *store.DB, events *store.EventBuffer, hub *live.Hub) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "showcase_graphql_operations_total", Help: "GraphQL operations by name and outcome (ok or the first error code).",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "showcase_graphql_operation_seconds", Help: "GraphQL operation latency.", Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "showcase_http_rejected_total", Help: "Requests refused before GraphQL execution, by reason.",
		}, []string{"reason"}),
		names: map[string]bool{},
	}
	m.registry.MustRegister(m.requests, m.duration, m.rejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.DB.DB, "showcase"),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "showcase_sql_statements_total", Help: "SQL statements sent to PostgreSQL.",
		}, func() float64 { return float64(store.StatementsExecuted()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "showcase_events_pending", Help: "Engagement events accepted and not yet flushed (ingestion lag).",
		}, func() float64 { return float64(events.Pending()) }),
	)
	if hub != nil {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "showcase_live_subscribers", Help: "Live-session event streams served by this replica.",
		}, func() float64 { return float64(hub.Subscribers()) }))
	}
	return m
}

// ObserveOperation implements graph.Observer.
func (m *metrics) ObserveOperation(operation, outcome string, d time.Duration) {
	s := m.series(operation)
	if outcome == "ok" {
		s.ok.Inc()
	} else if c, ok := s.outcomes.Load(outcome); ok {
		c.(prometheus.Counter).Inc()
	} else {
		c := m.requests.WithLabelValues(s.label, outcome)
		s.outcomes.Store(outcome, c)
		c.Inc()
	}
	s.duration.Observe(d.Seconds())
}

// maxRememberedOthers bounds the names ops remembers as "other"; beyond it
// such a name's series are found again on each request.
const maxRememberedOthers = 1000

// series returns the series of an operation name, labelled by label.
func (m *metrics) series(operation string) *operationSeries {
	if s, ok := m.ops.Load(operation); ok {
		return s.(*operationSeries)
	}
	label := m.label(operation)
	s := &operationSeries{label: label, duration: m.duration.WithLabelValues(label), ok: m.requests.WithLabelValues(label, "ok")}
	if label == operation || m.others.Add(1) <= maxRememberedOthers {
		if prev, loaded := m.ops.LoadOrStore(operation, s); loaded {
			return prev.(*operationSeries)
		}
	}
	return s
}

// ObserveRejection implements graph.Observer.
func (m *metrics) ObserveRejection(reason string) { m.rejected.WithLabelValues(reason).Inc() }

func (m *metrics) label(name string) string {
	if !operationNamePattern.MatchString(name) {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.names[name] {
		if len(m.names) >= maxOperationLabels {
			return "other"
		}
		m.names[name] = true
	}
	return name
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
