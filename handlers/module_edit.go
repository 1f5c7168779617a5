package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/modules"
)

// moduleNew is the editor of a new module; ?platform= picks its platform (Instagram by default).
func (h *Handler) moduleNew(c echo.Context) error {
	p := models.Platform(c.QueryParam("platform"))
	if !p.Valid() {
		p = models.Instagram
	}
	in := models.ModuleInput{Platform: p, Blocks: models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText}}}}
	return h.moduleEditor(c, http.StatusOK, 0, in, nil)
}

// moduleEdit is the editor of one of the team's modules.
func (h *Handler) moduleEdit(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	m, err := h.modules.Module(c.Request().Context(), req(c).User.TeamID, id)
	if err != nil {
		return err
	}
	return h.moduleEditor(c, http.StatusOK, id, models.ModuleInput{Name: m.Name, Platform: m.Platform, Blocks: m.Blocks}, nil)
}

// moduleFormOp applies an editor operation (add, move, remove a block or a button, switch
// platform) to what was typed and shows the editor again; nothing is saved.
func (h *Handler) moduleFormOp(c echo.Context) error {
	id, in := parseModuleForm(c)
	if id != 0 {
		m, err := h.modules.Module(c.Request().Context(), req(c).User.TeamID, id)
		if err != nil {
			return err
		}
		in.Platform = m.Platform
	}
	in.Blocks = applyBlockOp(in.Blocks, c.FormValue("op"))
	return h.moduleEditor(c, http.StatusOK, id, in, nil)
}

// applyBlockOp is one editor operation on the blocks: add:{kind}, up:{i}, down:{i},
// remove:{i}, addbtn:{i}, rmbtn:{i}:{j}. Anything else leaves them as they are.
func applyBlockOp(bs models.ModuleBlocks, op string) models.ModuleBlocks {
	verb, arg, _ := strings.Cut(op, ":")
	idx := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n >= len(bs) {
			return -1
		}
		return n
	}
	switch verb {
	case "add":
		k := models.BlockKind(arg)
		if models.ValidModuleBlock(k) && len(bs) < modules.MaxBlocks {
			b := models.ModuleBlock{Block: models.Block{Kind: k}}
			if k == models.BlockButtons {
				b.Buttons = []models.Button{{Kind: models.ButtonURL}}
			}
			bs = append(bs, b)
		}
	case "up", "down":
		i := idx(arg)
		j := i - 1
		if verb == "down" {
			j = i + 1
		}
		if i >= 0 && j >= 0 && j < len(bs) {
			bs[i], bs[j] = bs[j], bs[i]
		}
	case "remove":
		if i := idx(arg); i >= 0 {
			bs = slices.Delete(bs, i, i+1)
		}
	case "addbtn":
		if i := idx(arg); i >= 0 && len(bs[i].Buttons) < models.MaxBlockButtons {
			bs[i].Buttons = append(bs[i].Buttons, models.Button{Kind: models.ButtonURL})
		}
	case "rmbtn":
		a, b, _ := strings.Cut(arg, ":")
		i := idx(a)
		if j, err := strconv.Atoi(b); i >= 0 && err == nil && j >= 0 && j < len(bs[i].Buttons) {
			bs[i].Buttons = slices.Delete(bs[i].Buttons, j, j+1)
		}
	}
	return bs
}

// moduleEditor renders the editor around an input, with problems when a save failed.
func (h *Handler) moduleEditor(c echo.Context, status int, id int64, in models.ModuleInput, problems models.FieldProblems) error {
	vm, err := h.moduleEditorVM(c, id, in, problems)
	if err != nil {
		return err
	}
	title := "modules.new"
	if id != 0 {
		title = "modules.edit_title"
	}
	return render(c, status, modules.Editor(h.page(c, title), vm))
}

func (h *Handler) moduleEditorVM(c echo.Context, id int64, in models.ModuleInput, problems models.FieldProblems) (modules.EditorVM, error) {
	r := req(c)
	ctx := c.Request().Context()
	d := modules.EditorData{ID: id, Input: in, IsNew: id == 0, Problems: problems}
	var err error
	if d.Campaigns, err = h.modules.Campaigns(ctx, r.User.TeamID, in.Platform); err != nil {
		return modules.EditorVM{}, err
	}
	if d.Modules, err = h.modules.List(ctx, r.User.TeamID); err != nil {
		return modules.EditorVM{}, err
	}
	if d.Preview, err = h.modules.PreviewContent(ctx, r.User.TeamID, in.Platform, in.Blocks); err != nil {
		return modules.EditorVM{}, err
	}
	return modules.NewEditor(r.Loc, d), nil
}

// parseModuleForm reads the editor: the module id (0 for a new one), name, platform and the
// indexed block fields b{i}_kind, b{i}_text, b{i}_image_url, b{i}_campaign_id and
// b{i}_btn{j}_{label,kind,url,module}. Counts are capped, so a forged form cannot make the
// server build more than the editor offers.
func parseModuleForm(c echo.Context) (int64, models.ModuleInput) {
	id := formID(c.FormValue("module_id"))
	if id < 0 {
		id = 0
	}
	in := models.ModuleInput{Name: c.FormValue("name"), Platform: models.Platform(c.FormValue("platform"))}
	n, _ := strconv.Atoi(c.FormValue("blocks"))
	n = max(0, min(n, modules.MaxBlocks+1))
	for i := range n {
		f := func(name string) string { return c.FormValue(fmt.Sprintf("b%d_%s", i, name)) }
		b := models.ModuleBlock{Block: models.Block{Kind: models.BlockKind(f("kind"))}}
		switch b.Kind {
		case models.BlockText, models.BlockButtons:
			b.Text = f("text")
		case models.BlockImage:
			b.ImageURL = strings.TrimSpace(f("image_url"))
		case models.BlockOmniLinkCard:
			b.CampaignID = formID(f("campaign_id"))
		}
		if b.Kind == models.BlockButtons {
			nb, _ := strconv.Atoi(f("buttons"))
			nb = max(0, min(nb, models.MaxBlockButtons+1))
			for j := range nb {
				g := func(name string) string { return f(fmt.Sprintf("btn%d_%s", j, name)) }
				bt := models.Button{Kind: models.ButtonURL, Label: g("label"), URL: strings.TrimSpace(g("url"))}
				if g("kind") == modules.ButtonKindModule {
					bt = models.Button{Kind: models.ButtonPostback, Label: g("label"), Payload: models.ModulePayloadPrefix + strings.TrimSpace(g("module"))}
				}
				b.Buttons = append(b.Buttons, bt)
			}
		}
		in.Blocks = append(in.Blocks, b)
	}
	return id, in
}
