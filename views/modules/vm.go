// Package modules renders the bot module pages: the list, the editor with its live preview,
// the preview alone, and the triggers that send modules.
package modules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
)

func idStr(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// Option is one entry of a select.
type Option struct {
	Value    string
	Label    string
	Platform string
	Selected bool
}

// ---- list ----

// ListVM is the module list.
type ListVM struct {
	Rows      []Row
	Platforms []string
}

// Row is one module in the list.
type Row struct {
	ID       string
	Name     string
	Platform string
	Blocks   int
	Updated  string
}

// NewList builds the list.
func NewList(zone models.TimeZone, list []models.Module) ListVM {
	vm := ListVM{}
	for _, p := range models.Platforms {
		vm.Platforms = append(vm.Platforms, string(p))
	}
	for _, m := range list {
		vm.Rows = append(vm.Rows, Row{ID: idStr(m.ID), Name: m.Name, Platform: string(m.Platform), Blocks: len(m.Blocks),
			Updated: zone.Format(m.UpdatedAt)})
	}
	return vm
}

// ---- editor ----

// EditorVM is the module editor: the form, and the preview beside it.
type EditorVM struct {
	ID        string
	Action    string
	Name      string
	Platform  string
	IsNew     bool
	Platforms []Option
	Blocks    []BlockVM
	Kinds     []string
	Campaigns []Option // of the module's platform
	Modules   []Option // other modules of the platform, for postback buttons
	NameErr   string
	BlocksErr string
	PlatErr   string
	HasErrors bool
	Preview   PreviewVM
	MaxBlocks int
}

// BlockVM is one block in the editor.
type BlockVM struct {
	Index      int
	Kind       string
	Text       string
	ImageURL   string
	CampaignID string
	Buttons    []ButtonVM
	Errs       []string
	First      bool
	Last       bool
	CanAddBtn  bool
	HasButtons bool // the kind carries buttons
}

// Prefix is the block's form field prefix.
func (b BlockVM) Prefix() string { return fmt.Sprintf("b%d_", b.Index) }

// ButtonVM is one button of a block in the editor.
type ButtonVM struct {
	Index    int
	Kind     string // url or module
	Label    string
	URL      string
	ModuleID string
}

// EditorData is what the editor is built from.
type EditorData struct {
	ID        int64
	Input     models.ModuleInput
	IsNew     bool
	Problems  models.FieldProblems
	Campaigns []models.CampaignRow
	Modules   []models.Module
	Preview   models.Content
}

// MaxBlocks is how many blocks the editor offers.
const MaxBlocks = models.MaxModuleBlocks

// ButtonKindModule is the editor's name for a postback button that sends a module.
const ButtonKindModule = "module"

// NewEditor builds the editor in loc's language.
func NewEditor(loc *i18n.Localizer, d EditorData) EditorVM {
	in := d.Input
	vm := EditorVM{ID: idStr(d.ID), Name: in.Name, Platform: string(in.Platform), IsNew: d.IsNew, MaxBlocks: MaxBlocks}
	vm.Action = "/modules"
	if !d.IsNew {
		vm.Action = "/modules/" + idStr(d.ID)
	}
	for _, p := range models.Platforms {
		vm.Platforms = append(vm.Platforms, Option{Value: string(p), Label: loc.T("modules.platform_" + string(p)), Selected: p == in.Platform})
	}
	for _, k := range models.ModuleBlockKinds {
		vm.Kinds = append(vm.Kinds, string(k))
	}
	msg := func(p models.FieldProblem) string { return loc.TMap(p.Key, p.Args) }
	if p, ok := d.Problems["name"]; ok {
		vm.NameErr = msg(p)
	}
	if p, ok := d.Problems["platform"]; ok {
		vm.PlatErr = msg(p)
	}
	if p, ok := d.Problems["blocks"]; ok {
		vm.BlocksErr = msg(p)
	}
	vm.HasErrors = len(d.Problems) > 0
	for _, c := range d.Campaigns {
		vm.Campaigns = append(vm.Campaigns, Option{Value: idStr(c.ID), Label: c.Name})
	}
	for _, m := range d.Modules {
		if m.Platform == in.Platform && m.ID != d.ID {
			vm.Modules = append(vm.Modules, Option{Value: idStr(m.ID), Label: m.Name})
		}
	}
	// Problems of one block, in field order, under that block.
	fields := make([]string, 0, len(d.Problems))
	for f := range d.Problems {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for i, b := range in.Blocks {
		bv := BlockVM{Index: i, Kind: string(b.Kind), Text: b.Text, ImageURL: b.ImageURL, CampaignID: idStr(b.CampaignID),
			First: i == 0, Last: i == len(in.Blocks)-1, HasButtons: b.Kind == models.BlockButtons}
		if b.Kind == models.BlockButtons && b.Title != "" && b.Text == "" {
			bv.Text = b.Title
		}
		for j, bt := range b.Buttons {
			btv := ButtonVM{Index: j, Kind: string(models.ButtonURL), Label: bt.Label, URL: bt.URL}
			if bt.Kind == models.ButtonPostback {
				btv.Kind = ButtonKindModule
				if id, ok := models.ParseModulePayload(bt.Payload); ok {
					btv.ModuleID = idStr(id)
				}
			}
			bv.Buttons = append(bv.Buttons, btv)
		}
		bv.CanAddBtn = bv.HasButtons && len(bv.Buttons) < models.MaxBlockButtons
		prefix := fmt.Sprintf("blocks[%d]", i)
		for _, f := range fields {
			if f == prefix || strings.HasPrefix(f, prefix+".") || strings.HasPrefix(f, prefix+"[") {
				bv.Errs = append(bv.Errs, msg(d.Problems[f]))
			}
		}
		vm.Blocks = append(vm.Blocks, bv)
	}
	vm.Preview = NewPreview(in.Name, in.Platform, d.Preview, d.Modules)
	return vm
}

// ---- preview ----

// PreviewVM is a module as a phone on its platform shows it.
type PreviewVM struct {
	Name     string
	Platform string
	Items    []PreviewItem
}

// PreviewItem is one message of the preview.
type PreviewItem struct {
	Kind     string // text, image, card (cards and button lists)
	Title    string
	Text     string
	ImageURL string
	Square   bool
	Buttons  []PreviewButton
}

// PreviewButton is one button of a card in the preview.
type PreviewButton struct {
	Label  string
	URL    string // link buttons
	Target string // postback buttons: the module it sends
}

// NewPreview builds the preview of resolved content; modules name postback targets.
func NewPreview(name string, p models.Platform, c models.Content, mods []models.Module) PreviewVM {
	names := map[int64]string{}
	for _, m := range mods {
		names[m.ID] = m.Name
	}
	vm := PreviewVM{Name: name, Platform: string(p)}
	for _, b := range c.Blocks {
		if (b.Kind == models.BlockImage && b.ImageURL == "") || (b.Kind == models.BlockText && b.Text == "") {
			continue // nothing to show yet
		}
		it := PreviewItem{Kind: string(b.Kind), Title: b.Title, Text: b.Text, ImageURL: b.ImageURL,
			Square: p == models.Facebook || p == models.Instagram}
		if b.Kind == models.BlockButtons || b.Kind == models.BlockCard {
			it.Kind = "card"
		}
		for _, bt := range b.Buttons {
			pb := PreviewButton{Label: bt.Label}
			if bt.Kind == models.ButtonURL {
				pb.URL = bt.URL
			} else if id, ok := models.ParseModulePayload(bt.Payload); ok {
				pb.Target = names[id]
			}
			it.Buttons = append(it.Buttons, pb)
		}
		vm.Items = append(vm.Items, it)
	}
	return vm
}

// ---- triggers ----

// TriggersVM is the trigger page: the list and the form to add one.
type TriggersVM struct {
	Rows      []TriggerRow
	Channels  []Option
	Modules   []Option
	Kinds     []Option
	Pattern   string
	Errs      map[string]string
	HasErrors bool
}

// TriggerRow is one trigger in the list.
type TriggerRow struct {
	ID         string
	Channel    string
	Platform   string
	Kind       string
	Pattern    string
	ModuleID   string
	ModuleName string
}

// TriggerData is what the trigger page is built from.
type TriggerData struct {
	Rows     []models.TriggerRow
	Channels []models.Channel
	Modules  []models.Module
	Input    models.TriggerInput
	Problems models.FieldProblems
}

// NewTriggers builds the trigger page in loc's language.
func NewTriggers(loc *i18n.Localizer, d TriggerData) TriggersVM {
	vm := TriggersVM{Pattern: d.Input.Pattern, Errs: map[string]string{}, HasErrors: len(d.Problems) > 0}
	for f, p := range d.Problems {
		vm.Errs[f] = loc.TMap(p.Key, p.Args)
	}
	for _, r := range d.Rows {
		vm.Rows = append(vm.Rows, TriggerRow{ID: idStr(r.ID), Channel: r.ChannelName, Platform: string(r.ChannelPlatform), Kind: string(r.Kind),
			Pattern: r.Pattern, ModuleID: idStr(r.ModuleID), ModuleName: r.ModuleName})
	}
	for _, ch := range d.Channels {
		if ch.Status == models.ChannelDisconnected {
			continue
		}
		vm.Channels = append(vm.Channels, Option{Value: idStr(ch.ID), Label: loc.T("modules.platform_"+string(ch.Platform)) + " · " + ch.DisplayName,
			Platform: string(ch.Platform), Selected: ch.ID == d.Input.ChannelID})
	}
	for _, m := range d.Modules {
		vm.Modules = append(vm.Modules, Option{Value: idStr(m.ID), Label: loc.T("modules.platform_"+string(m.Platform)) + " · " + m.Name,
			Platform: string(m.Platform), Selected: m.ID == d.Input.ModuleID})
	}
	kind := d.Input.Kind
	if kind == "" {
		kind = models.TriggerExact
	}
	for _, k := range models.TriggerKinds {
		vm.Kinds = append(vm.Kinds, Option{Value: string(k), Label: loc.T("triggers.kind_" + string(k)), Selected: k == kind})
	}
	return vm
}
