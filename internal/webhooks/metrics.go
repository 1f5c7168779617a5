package webhooks

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the webhook counters; one set per registry, shared by the receiver and every
// processor in the process.
type Metrics struct {
	deliveries *prometheus.CounterVec // stored deliveries, by source (meta, line)
	rejected   *prometheus.CounterVec // refused deliveries, by source and reason
	events     *prometheus.CounterVec // events read from deliveries, by platform
	duplicates *prometheus.CounterVec
	unrouted   *prometheus.CounterVec
	failed     *prometheus.CounterVec // deliveries given up, by source
	retried    *prometheus.CounterVec
}

// NewMetrics registers the webhook counters with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		deliveries: counter("omnilink_webhook_deliveries_received_total", "Signature-checked webhook deliveries stored, by platform (meta, line).", "platform"),
		rejected:   counter("omnilink_webhook_deliveries_rejected_total", "Webhook deliveries refused before storing, by platform and reason.", "platform", "reason"),
		events:     counter("omnilink_webhook_events_received_total", "Webhook events read from stored deliveries, by platform.", "platform"),
		duplicates: counter("omnilink_webhook_events_duplicate_total", "Webhook events skipped because an earlier delivery carried them, by platform.", "platform"),
		unrouted:   counter("omnilink_webhook_events_unrouted_total", "Webhook events for accounts no team has connected, by platform.", "platform"),
		failed:     counter("omnilink_webhook_deliveries_failed_total", "Webhook deliveries given up (malformed or out of attempts), by platform.", "platform"),
		retried:    counter("omnilink_webhook_deliveries_retried_total", "Webhook delivery processing failures that will be retried, by platform.", "platform"),
	}
	reg.MustRegister(m.deliveries, m.rejected, m.events, m.duplicates, m.unrouted, m.failed, m.retried)
	return m
}
