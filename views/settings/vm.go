// Package settings renders team settings pages: the outbound webhook and its delivery log.
package settings

import (
	"strconv"

	"github.com/omnilink/omnilink/internal/teamhook"
	"github.com/omnilink/omnilink/views/stats"
)

// Problems are a form's field errors, already translated by the handler.
type Problems map[string]string

// WebhookVM is the outbound webhook page.
type WebhookVM struct {
	URL        string
	Enabled    bool
	HasSecret  bool
	Problems   Problems
	SecretNote bool // a refused submit never shows the secret typed
	Deliveries []Delivery
}

// Delivery is one line of the delivery log.
type Delivery struct {
	ID       string
	Event    string
	Kind     string
	At       string
	Attempts string
	Status   string // delivered, pending, given_up
	HTTP     string
	Error    string
}

// NewWebhook builds the page; url and enabled are what was typed after a refused submit.
func NewWebhook(s *teamhook.Setting, url string, enabled bool, problems Problems, zone string) WebhookVM {
	vm := WebhookVM{URL: url, Enabled: enabled, HasSecret: s.HasSecret, Problems: problems, SecretNote: len(problems) > 0}
	for _, d := range s.Deliveries {
		row := Delivery{ID: strconv.FormatInt(d.ID, 10), Event: d.EventID, Kind: d.Kind, At: stats.FormatTime(d.CreatedAt, zone),
			Attempts: strconv.Itoa(d.Attempts), Status: "pending", Error: d.LastError}
		if d.LastStatus != 0 {
			row.HTTP = strconv.Itoa(d.LastStatus)
		}
		switch {
		case d.DeliveredAt != nil:
			row.Status = "delivered"
		case d.GivenUpAt != nil:
			row.Status = "given_up"
		}
		vm.Deliveries = append(vm.Deliveries, row)
	}
	return vm
}
