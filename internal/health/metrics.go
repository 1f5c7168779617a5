package health

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the monitor's Prometheus series, so operators can alert on the monitor itself:
// sweeps that stop running or slow down, and channels breaking in bulk.
type Metrics struct {
	checks   *prometheus.CounterVec
	sweep    prometheus.Histogram
	episodes *prometheus.CounterVec
	emails   prometheus.Counter
}

// NewMetrics registers the monitor's series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "omnilink_health_checks_total",
			Help: "Channel health checks by platform and verdict."}, []string{"platform", "verdict"}),
		sweep: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "omnilink_health_sweep_duration_seconds",
			Help: "Duration of health sweeps that checked at least one channel.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 12)}),
		episodes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "omnilink_health_episodes_total",
			Help: "Failure episodes opened and closed."}, []string{"event"}),
		emails: prometheus.NewCounter(prometheus.CounterOpts{Name: "omnilink_health_emails_queued_total",
			Help: "Health emails queued (alerts, recoveries, expiry warnings)."}),
	}
	reg.MustRegister(m.checks, m.sweep, m.episodes, m.emails)
	return m
}

// SetMetrics attaches metrics after construction (the registry is built after the monitor).
func (m *Monitor) SetMetrics(x *Metrics) { m.metrics = x }

func (x *Metrics) observeCheck(platform string, v Verdict, tr Transition) {
	if x == nil || tr.Ignored {
		return
	}
	x.checks.WithLabelValues(platform, string(v.State)).Inc()
	x.observeTransition(tr)
}

func (x *Metrics) observeTransition(tr Transition) {
	if x == nil {
		return
	}
	if tr.Opened {
		x.episodes.WithLabelValues("opened").Inc()
	}
	if tr.Closed {
		x.episodes.WithLabelValues("closed").Inc()
	}
}

func (x *Metrics) observeSweep(rep SweepReport) {
	if x == nil {
		return
	}
	if rep.Checked > 0 {
		x.sweep.Observe(rep.Finished.Sub(rep.Started).Seconds())
	}
	x.emails.Add(float64(rep.AlertsQueued))
}

func (x *Metrics) observeEmails(n int) {
	if x == nil || n == 0 {
		return
	}
	x.emails.Add(float64(n))
}
