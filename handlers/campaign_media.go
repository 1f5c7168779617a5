package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/campaigns"
)

// campaignUploadLimit is the request body an image upload may send: the 5 MB file plus room for
// the multipart framing. The pipeline itself stops reading the file just past 5 MB.
const campaignUploadLimit = 5<<20 + 64<<10

// campaignMediaUpload takes the card image as soon as it is picked: it hands the "image" part
// to the pipeline and answers the image slot (thumbnail and a hidden media id, or the
// reason it was refused), so a validation error elsewhere in the form never loses the image.
func (h *Handler) campaignMediaUpload(c echo.Context) error {
	r := req(c)
	p := h.page(c, "campaigns.title")
	refuse := func(problems models.FieldProblems) error {
		status := http.StatusUnprocessableEntity
		if isHTMX(c) {
			status = http.StatusOK // htmx swaps only successful answers; the slot carries the message
		}
		pr := problems["image"]
		return render(c, status, campaigns.ImageSlot(p, nil, r.Loc.TMap(pr.Key, pr.Args)))
	}
	// upload (the route table) has parsed the form within the route's limit.
	fh, err := c.FormFile("image")
	if err != nil {
		return refuse(models.FieldProblems{"image": {Key: "campaigns.error_image_missing"}})
	}
	part, err := fh.Open()
	if err != nil {
		return refuse(models.FieldProblems{"image": {Key: "campaigns.error_image_malformed"}})
	}
	defer part.Close()
	{
		m, err := h.campaigns.Upload(c.Request().Context(), r.User, part)
		var problems models.FieldProblems
		if errors.As(err, &problems) {
			return refuse(problems)
		}
		if err != nil {
			return err
		}
		// The preview picks the new image up.
		c.Response().Header().Set("HX-Trigger", "campaign-changed")
		img := &campaigns.ImageVM{MediaID: idString(m.ID), CardURL: campaigns.MediaURL(m.CardHash, m.Mime),
			SquareURL: campaigns.MediaURL(m.SquareHash, m.Mime), Width: m.SourceWidth, Height: m.SourceHeight}
		return render(c, http.StatusOK, campaigns.ImageSlot(p, img, ""))
	}
}
