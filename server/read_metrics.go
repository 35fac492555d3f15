package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"showcase/store"
)

// registerReads exposes the read replica's state: whether it serves reads
// and its lag at the last measure. Nothing without a replica.
func (m *metrics) registerReads(r *store.ReadReplica) {
	if r == nil {
		return
	}
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "showcase_read_replica_in_use", Help: "1 while the read replica (DATABASE_READ_URL) serves reads, 0 while they go to the primary.",
		}, func() float64 {
			if ok, _ := r.Status(); ok {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "showcase_read_replica_lag_seconds", Help: "How far the read replica was behind the primary at its last measure (-1: unknown).",
		}, func() float64 {
			_, lag := r.Status()
			if lag < 0 {
				return -1
			}
			return lag.Seconds()
		}),
	)
}
