// Package dashboard renders the console's home page.
package dashboard

import (
	"strconv"

	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/models"
)

// VM is the home page: the enabled campaigns' last seven days, the channels' health, and
// links to the areas the role may open.
type VM struct {
	ShowCampaigns bool
	Campaigns     []CampaignFigures
	ShowChannels  bool // the role may open the channel pages
	Active        int
	Attention     []ChannelRow
	Links         []Link
}

// CampaignFigures is one enabled campaign's last seven days.
type CampaignFigures struct {
	ID                                  string
	Name, Source, Target                string
	Participants, Successes, NewTargets int64
	Failures                            int64
}

// ChannelRow is a channel that needs attention.
type ChannelRow struct {
	ID       string
	Platform string
	Name     string
	Status   string
}

// Link is an area of the console the role may open.
type Link struct {
	Href, Key string
}

// New builds the home page; o is nil for roles without campaigns.
func New(o *omnilink.Overview, showCampaigns, showChannels bool, links []Link) VM {
	vm := VM{ShowCampaigns: showCampaigns, ShowChannels: showChannels, Links: links}
	if o == nil {
		return vm
	}
	for _, c := range o.Campaigns {
		vm.Campaigns = append(vm.Campaigns, CampaignFigures{ID: strconv.FormatInt(c.ID, 10), Name: c.Name, Source: models.ChannelLabel(c.SourcePlatform, c.SourceName),
			Target:       models.ChannelLabel(c.TargetPlatform, c.TargetName),
			Participants: c.Participants, Successes: c.Successes, NewTargets: c.NewTargets, Failures: c.Participants - c.Successes})
	}
	for _, ch := range o.Channels {
		if ch.Status == models.ChannelActive {
			vm.Active++
			continue
		}
		vm.Attention = append(vm.Attention, ChannelRow{ID: strconv.FormatInt(ch.ID, 10), Platform: string(ch.Platform), Name: models.ChannelLabel(ch.Platform, ch.DisplayName), Status: string(ch.Status)})
	}
	return vm
}
