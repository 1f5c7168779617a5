package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"
)

// maxWebhookBody bounds a webhook delivery; larger bodies are refused before anything is stored.
const maxWebhookBody = 1 << 20

// Signature headers, as the platforms send them.
const (
	metaSignatureHeader = "X-Hub-Signature-256"
	lineSignatureHeader = "X-Line-Signature"
)

// WebhookReceiver verifies platform webhooks on their raw bytes and stores them durably.
type WebhookReceiver interface {
	MetaChallenge(q url.Values) (string, bool)
	ReceiveMeta(ctx context.Context, body []byte, signature string) error
	ReceiveLINE(ctx context.Context, channelID int64, body []byte, signature string) error
}

// metaWebhookVerify answers Meta's subscription handshake with the bare challenge.
func (h *Handler) metaWebhookVerify(c echo.Context) error {
	challenge, ok := h.webhooks.MetaChallenge(c.QueryParams())
	if !ok {
		return echo.ErrForbidden
	}
	return c.String(http.StatusOK, challenge)
}

// metaWebhook acknowledges a Messenger / Instagram / WhatsApp delivery once it is stored.
func (h *Handler) metaWebhook(c echo.Context) error {
	body, err := readWebhookBody(c)
	if err != nil {
		return err
	}
	if err := h.webhooks.ReceiveMeta(c.Request().Context(), body, c.Request().Header.Get(metaSignatureHeader)); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// lineWebhook acknowledges a delivery to one LINE channel's URL once it is stored.
func (h *Handler) lineWebhook(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("channelID"), 10, 64)
	if err != nil || id <= 0 {
		return echo.ErrNotFound
	}
	body, err := readWebhookBody(c)
	if err != nil {
		return err
	}
	if err := h.webhooks.ReceiveLINE(c.Request().Context(), id, body, c.Request().Header.Get(lineSignatureHeader)); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// readWebhookBody reads the raw body (the signature covers these exact bytes) up to the limit.
func readWebhookBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > maxWebhookBody {
		return nil, echo.ErrStatusRequestEntityTooLarge
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1) // +1 so ReadFrom sees EOF without growing
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		return nil, bodyError(err)
	}
	if buf.Len() > maxWebhookBody {
		return nil, echo.ErrStatusRequestEntityTooLarge
	}
	return buf.Bytes(), nil
}
